"""Which tags each Warta item carries, learned from ``content.approved`` (read from its start at
each start, like the posts from ``publish.outcomes``: rebuilt, not stored).

Only items with tags are kept, and a newer version of an item replaces the older one's tags.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.events import ContentApproved, Event


class ContentTags:
    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, ...]] = {}

    def learn(self, event: Event) -> None:
        if not isinstance(event, ContentApproved):
            return
        if event.tags:
            self._tags[event.content_id] = tuple(event.tags)
        else:
            self._tags.pop(event.content_id, None)

    def of(self, content_id: str | None) -> Sequence[str]:
        return self._tags.get(content_id, ()) if content_id else ()

"""The inbox as the service holds it in memory: the latest entry of every comment, and filters.

Rebuilt at start from the compacted ``inbox.items`` topic, then kept by applying each change the
service writes. An entry is replaced only by a higher version, so replaying a change twice (a
restart before the commit) leaves the book as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.inbox.watched import comment_key
from shared.events import InboxChanged, InboxState


def key_of(entry: InboxChanged) -> str:
    return comment_key(entry.comment.channel, entry.comment.comment_id)


@dataclass
class InboxBook:
    _entries: dict[str, InboxChanged] = field(default_factory=dict)

    def apply(self, entry: InboxChanged) -> bool:
        """Keep ``entry`` unless the book holds this or a later version; True if kept."""
        key = key_of(entry)
        current = self._entries.get(key)
        if current is not None and current.version >= entry.version:
            return False
        self._entries[key] = entry
        return True

    def get(self, key: str) -> InboxChanged | None:
        return self._entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def select(
        self,
        *,
        channels: Iterable[str] | None = None,
        state: InboxState | None = None,
        post_id: str | None = None,
        assignee: str | None = None,
    ) -> list[InboxChanged]:
        """Entries matching every filter given, newest comment first."""
        wanted = set(channels) if channels is not None else None
        found = [
            e
            for e in self._entries.values()
            if (wanted is None or e.channel in wanted)
            and (state is None or e.state == state)
            and (post_id is None or e.comment.post_id == post_id)
            and (assignee is None or e.assignee == assignee)
        ]
        found.sort(key=lambda e: (e.comment.created_at, key_of(e)), reverse=True)
        return found

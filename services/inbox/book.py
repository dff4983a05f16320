"""The inbox as the service holds it in memory: the latest entry of every comment, and filters.

Rebuilt at start from the compacted ``inbox.items`` topic, then kept by applying each change the
service writes. An entry is replaced only by a higher version, so replaying a change twice (a
restart before the commit) leaves the book as it was.

Lists are read in pages by keyset: a page ends at a row's sort key (``SortKey``), and the next
page starts after that key, not at a row number. Comments keep arriving while an operator pages
(polls, webhooks), and a row number into a list rebuilt for every page would then repeat entries
(a newer comment shifts the rest down) or skip them; a key stays put whatever arrives.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from services.inbox.watched import comment_key
from shared.events import InboxChanged, InboxState


def key_of(entry: InboxChanged) -> str:
    return comment_key(entry.comment.channel, entry.comment.comment_id)


# Where an entry sorts: newest comment first, then by key, so no two entries share a place.
SortKey = tuple[datetime, str]


class BadCursor(ValueError):
    """A cursor this book did not hand out (edited, truncated, from another endpoint)."""


def sort_key(entry: InboxChanged) -> SortKey:
    return entry.comment.created_at, key_of(entry)


def encode_cursor(key: SortKey) -> str:
    """An opaque, URL-safe cursor naming the place after which the next page starts."""
    raw = orjson.dumps([key[0].isoformat(), key[1]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    """The place ``encode_cursor`` wrote; ``BadCursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, key = orjson.loads(raw)
        at = datetime.fromisoformat(created)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadCursor(cursor) from exc
    # A naive time would not compare with the comments' own (an error per page, not a refusal).
    if not isinstance(key, str) or at.tzinfo is None:
        raise BadCursor(cursor)
    return at, key


def page_after(
    found: list[InboxChanged], after: SortKey | None, limit: int
) -> tuple[list[InboxChanged], SortKey | None]:
    """Up to ``limit`` entries of ``found`` (``select``'s order) past ``after``; the next place.

    The next place is None on the last page.
    """
    rest = found if after is None else [e for e in found if sort_key(e) < after]
    page = rest[:limit]
    return page, (sort_key(page[-1]) if len(rest) > limit else None)


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

    def post_of(self, channel: str, comment_id: str) -> str | None:
        """The post a comment the book holds was made on (None for a comment it does not hold)."""
        entry = self._entries.get(comment_key(channel, comment_id))
        return entry.comment.post_id if entry is not None else None

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
        found.sort(key=sort_key, reverse=True)
        return found

"""What the inbox API says about the comments as a whole: volume in short windows, per post and
per tag, and the most frequent terms of the last hours (pure: entries and ``now`` in, JSON out).

Both count comments by when the citizen wrote them (``comment.created_at``), over the entries a
caller may see. A post's tags are those of the Warta item it carries (``content_id``), as
``content.approved`` gave them; a comment on a post Warta does not know has none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.inbox.terms import Lexicon, top_terms
from shared.events import InboxChanged

WINDOWS: tuple[tuple[str, timedelta], ...] = (("15m", timedelta(minutes=15)), ("1h", timedelta(hours=1)))
MAX_TERMS_HOURS = 168  # a week: the inbox watches a post for seven days by default


def since(entries: Iterable[InboxChanged], start: datetime) -> list[InboxChanged]:
    return [e for e in entries if e.comment.created_at > start]


def terms_body(
    entries: Iterable[InboxChanged], now: datetime, hours: float, limit: int, words: Lexicon
) -> dict[str, Any]:
    recent = since(entries, now - timedelta(hours=hours))
    return {
        "hours": hours,
        "since": (now - timedelta(hours=hours)).isoformat(),
        "comments": len(recent),
        "terms": [
            {"term": t, "count": n} for t, n in top_terms((e.comment.text for e in recent), words, limit)
        ],
    }


def volume_body(
    entries: Iterable[InboxChanged],
    now: datetime,
    tags_of: Callable[[str | None], Sequence[str]],
    spiking: Collection[tuple[str, str]],
) -> dict[str, Any]:
    """Per post and per tag, the comments of each window; posts with none in the longest window
    are left out (the list is about what is happening now)."""
    longest = max(w for _, w in WINDOWS)
    recent = since(entries, now - longest)
    posts: dict[tuple[str, str], Counter[str]] = {}
    tags: dict[str, Counter[str]] = {}
    content: dict[tuple[str, str], str | None] = {}
    for entry in recent:
        post = (entry.channel, entry.comment.post_id)
        content[post] = entry.comment.content_id
        windows = [name for name, span in WINDOWS if entry.comment.created_at > now - span]
        posts.setdefault(post, Counter()).update(windows)
        for tag in tags_of(entry.comment.content_id):
            tags.setdefault(tag, Counter()).update(windows)
    order = [name for name, _ in WINDOWS]
    return {
        "at": now.isoformat(),
        "windows": order,
        "posts": [
            {
                "channel": channel,
                "post_id": post_id,
                "content_id": content[(channel, post_id)],
                "tags": list(tags_of(content[(channel, post_id)])),
                "counts": {w: counts[w] for w in order},
                "spiking": (channel, post_id) in spiking,
            }
            for (channel, post_id), counts in sorted(posts.items(), key=lambda kv: (-kv[1][order[0]], kv[0]))
        ],
        "tags": [
            {"tag": tag, "counts": {w: counts[w] for w in order}}
            for tag, counts in sorted(tags.items(), key=lambda kv: (-kv[1][order[0]], kv[0]))
        ],
    }

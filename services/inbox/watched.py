"""A post Warta published and the inbox watches, and the ids of what is seen on it (pure)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from shared.events import CommentAuthor, CommentObserved


@dataclass(frozen=True)
class WatchedPost:
    channel: str
    platform: str
    post_id: str
    published_at: datetime
    content_id: str | None = None
    job_id: str | None = None
    url: str | None = None


def comment_key(channel: str, comment_id: str) -> str:
    """The inbox's id of a comment: short, URL-safe, the same from a poll and from a webhook."""
    return "ib" + hashlib.sha256(f"{channel}\x00{comment_id}".encode()).hexdigest()[:30]


def observed(
    post: WatchedPost,
    *,
    comment_id: str,
    author: CommentAuthor,
    text: str,
    created_at: datetime,
    via: str,
    now: datetime,
    parent_id: str | None = None,
    url: str | None = None,
) -> CommentObserved:
    """The event for one comment on ``post``; its id depends only on the channel and comment."""
    return CommentObserved.model_validate(
        {
            "event_id": comment_key(post.channel, comment_id),
            "occurred_at": now,
            "comment_id": comment_id,
            "post_id": post.post_id,
            "parent_id": None if parent_id in (None, post.post_id) else parent_id,
            "channel": post.channel,
            "platform": post.platform,
            "content_id": post.content_id,
            "job_id": post.job_id,
            "author": author,
            "text": text[:20_000],
            "created_at": created_at,
            "via": via,
            "url": url,
        }
    )

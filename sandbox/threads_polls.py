"""A Threads post's poll as the Threads API reads it back (developers.facebook.com/docs/threads/
create-posts/polls, "Media retrieval"): ``GET /{threads-media-id}?fields=poll_attachment{...}``
answers ``option_a``..``option_d`` (c and d only when the poll has them), each option's
``option_x_votes_percentage`` as a fraction of the votes (the documented example: 0.10, 0.20,
0.15, 0.55), ``total_votes``, and ``expiration_timestamp`` in Graph's time format. No counts per
option and no "closed" flag: a reader multiplies, and compares the expiry with its clock.

Threads takes no duration for a poll: it closes 24 hours after the post.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from sandbox import poll_votes
from sandbox.base import FakePost
from sandbox.graph import graph_time

POLL_LIFETIME = timedelta(hours=24)
KEYS = ("a", "b", "c", "d")


def attachment(post: FakePost, now: datetime) -> dict[str, Any] | None:
    """The post's ``poll_attachment`` as it stands at ``now``, or None when it has no poll."""
    raw = post.data.get("poll_attachment")
    if not isinstance(raw, str):
        return None
    options = orjson.loads(raw)
    labels = [str(options[f"option_{k}"]) for k in KEYS if f"option_{k}" in options]
    ends = post.created_at + POLL_LIFETIME
    counts = poll_votes.votes(post, len(labels), now, ends)
    total = sum(counts)
    out: dict[str, Any] = {}
    for key, label, count in zip(KEYS, labels, counts, strict=False):
        out[f"option_{key}"] = label
        out[f"option_{key}_votes_percentage"] = round(count / total, 4) if total else 0.0
    out["total_votes"] = total
    out["expiration_timestamp"] = graph_time(ends)
    return out

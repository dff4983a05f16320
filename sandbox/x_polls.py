"""A post's poll as X API v2 expands it (docs.x.com, "Poll object" and the ``expansions``
parameter): asked for with ``expansions=attachments.poll_ids``, the post carries
``attachments.poll_ids`` and the answer ``includes.polls[]``, each poll its ``id`` and the
fields ``poll.fields`` names (``options`` as ``{position, label, votes}``, ``voting_status``
"open" or "closed", ``duration_minutes``, ``end_datetime``). Without the expansion, nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox import poll_votes
from sandbox.base import FakePost

POLL_FIELDS = ("options", "voting_status", "duration_minutes", "end_datetime")


def poll_id(post: FakePost) -> str:
    return str(int(post.id) + 1)  # a poll is its own object with its own numeric id


def expand(post: FakePost, query: Mapping[str, str], now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the post's ``data`` gains and the answer's ``includes``, for this query."""
    poll = post.data.get("poll")
    expansions = query.get("expansions", "").split(",")
    if not isinstance(poll, dict) or "attachments.poll_ids" not in expansions:
        return {}, {}
    labels = [str(o) for o in poll.get("options") or []]
    ends = post.created_at + timedelta(minutes=int(poll.get("duration_minutes") or 1440))
    counts = poll_votes.votes(post, len(labels), now, ends)
    full: dict[str, Any] = {
        "options": [
            {"position": i + 1, "label": label, "votes": n}
            for i, (label, n) in enumerate(zip(labels, counts, strict=True))
        ],
        "voting_status": "closed" if now >= ends else "open",
        "duration_minutes": int(poll.get("duration_minutes") or 1440),
        "end_datetime": ends.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    wanted = query.get("poll.fields", "").split(",")
    shown = {"id": poll_id(post), **{k: v for k, v in full.items() if k in wanted}}
    return {"attachments": {"poll_ids": [poll_id(post)]}}, {"polls": [shown]}

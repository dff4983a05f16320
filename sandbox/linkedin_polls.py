"""A LinkedIn post's poll as the Posts API reads it back to its author (Poll API, "Poll" and
"Poll Option" fields): ``content.poll`` keeps ``question``, ``settings`` and ``options[].text``
and gains the read-only ``options[].voteCount`` and ``uniqueVotersCount``. Nothing says the poll
closed: its end is ``publishedAt`` plus ``settings.duration``.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from sandbox import poll_votes
from sandbox.base import FakePost

DURATIONS = {
    "ONE_DAY": timedelta(days=1),
    "THREE_DAYS": timedelta(days=3),
    "SEVEN_DAYS": timedelta(days=7),
    "FOURTEEN_DAYS": timedelta(days=14),
}


def with_results(content: dict[str, Any], post: FakePost, now: datetime) -> dict[str, Any]:
    """``content`` as a read answers it at ``now``: a poll's options carry their votes."""
    poll = content.get("poll")
    if not isinstance(poll, dict):
        return content
    out = copy.deepcopy(content)
    options = out["poll"].get("options") or []
    duration = DURATIONS.get(str((poll.get("settings") or {}).get("duration")), DURATIONS["SEVEN_DAYS"])
    counts = poll_votes.votes(post, len(options), now, post.created_at + duration)
    for option, count in zip(options, counts, strict=True):
        option["voteCount"] = count
    # One vote per member on a single-choice poll: the voters are the votes.
    out["poll"]["uniqueVotersCount"] = sum(counts)
    return out

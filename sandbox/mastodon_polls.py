"""Mastodon's polls in the fake: the Poll entity as it stands (entities/Poll.md) and the
instance's poll limits checked on a new status (instance v2 ``configuration.polls``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sandbox import poll_votes
from sandbox.base import FakePost


class PollLimits(Protocol):
    max_poll_options: int
    max_poll_option_chars: int
    min_poll_expiration: int
    max_poll_expiration: int


def poll_entity(post: FakePost, now: datetime) -> dict[str, Any] | None:
    """The post's poll as it stands at ``now``: votes so far, expired after its end."""
    poll = post.data.get("poll")
    if poll is None:
        return None
    ends = datetime.fromisoformat(poll["expires_at"])
    counts = poll_votes.votes(post, len(poll["options"]), now, ends)
    options = [{"title": o["title"], "votes_count": n} for o, n in zip(poll["options"], counts, strict=True)]
    # One choice each: as many voters as votes (voters_count is documented nullable, and the
    # server fills it for every poll it counts).
    return {
        **poll,
        "expired": now >= ends,
        "votes_count": sum(counts),
        "voters_count": sum(counts),
        "options": options,
    }


def poll_problem(limits: PollLimits, options: list[str], expires_in: int) -> str | None:
    """Mastodon's validation message for a poll outside the instance's limits, or None."""
    if not 2 <= len(options) <= limits.max_poll_options:
        return f"Validation failed: Poll must have between 2 and {limits.max_poll_options} options"
    if any(len(o) > limits.max_poll_option_chars or not o for o in options):
        return f"Validation failed: Poll options must be 1 to {limits.max_poll_option_chars} characters"
    if not limits.min_poll_expiration <= expires_in <= limits.max_poll_expiration:
        return "Validation failed: Poll expiration is out of range"
    return None

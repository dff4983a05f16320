"""A poll's results read back from its platform (topic ``engagement.observed``, key content id;
the discriminated union is ``shared.events.Event``), and when to read them.

A poll posted with an item (``Content.poll``) is read once it has closed: ``poll_read_after`` is
the one rule for when that is, used by the scheduler (which adds the instant to the post's
engagement readings) and by the publisher (which then reads the results beside the counts).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from shared.event_fields import Count, EventBase, Frozen, Identifier, Instant, Poll

# Platforms close a poll at its end instant; a minute later the tally read is the final one.
POLL_CLOSE_GRACE = timedelta(minutes=1)


def poll_read_after(poll: Poll) -> timedelta:
    """How long after publishing a poll's final results can be read."""
    return timedelta(minutes=poll.duration_minutes) + POLL_CLOSE_GRACE


class PollOptionResult(Frozen):
    label: str = Field(min_length=1, max_length=300)
    votes: Count


class PollResultsObserved(EventBase):
    """One post's poll tally as its platform gave it (``closed``: the platform says voting ended,
    so the tally is final). A later reading of the same post replaces an earlier one."""

    event_type: Literal["poll.results"] = "poll.results"
    job_id: Identifier
    content_id: Identifier
    channel: Identifier
    platform: Identifier
    published_at: Instant
    question: str | None = Field(default=None, max_length=300)
    options: tuple[PollOptionResult, ...] = Field(min_length=1, max_length=12)
    closed: bool
    # People who voted, where the platform counts them apart from votes (Mastodon's
    # voters_count, for multiple-choice polls); None where it does not say.
    voters: Count | None = None

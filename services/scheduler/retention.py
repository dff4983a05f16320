"""How long a finished job stays in the plan, and why a command for a forgotten job is refused.

Pure: ``now`` is passed in. A job is *finished* when nothing will move it again without a
person, and no timer of its own is pending: published with every engagement measurement taken,
failed, dead, withdrawn or superseded (``FINISHED``). It is finished from its last record's
instant (``finished_at``). Once ``retention`` has passed since then, the plan forgets it and the
planner writes a tombstone for its key on ``schedule.jobs``, so the compacted topic holds live
jobs and the recently finished ones, not every job ever planned. A post a channel's rolling cap
or minimum gap still counts is kept as long as they reach (``kept_for``): forgotten, it would no
longer count, and a monthly cap would see only the last week of posts.

An unconfirmed job is not finished: it waits for an operator, however long that takes, and the
publisher's ledger keeps its attempt for as long (a retry then reconciles before sending).

What a tombstone must not do is let the job come back. Outcomes and operator decisions for a
job the plan does not hold are dropped as unknown already. A ``content.approved`` for it would
plan it afresh, so an approval the plan has no job for is refused (``PastRetention``, and the
planner dead-letters it) when ingest accepted it longer than ``retention`` ago: a job can only
have been forgotten that long after it was approved, so a redelivered or replayed approval of a
forgotten job is always refused, and a new approval (a new request, once its Idempotency-Key has
expired) is a new decision. An approval the scheduler first reads after that long, say after
a week's outage, is refused too and stays visible in the dead letters, never planned silently.

Errors::

    PastRetention   an approval, for a job the plan does not hold, older than the retention
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.events import ContentApproved, JobPlanned, JobState

S = JobState
DEFAULT_RETENTION = timedelta(days=7)
FINISHED = frozenset({S.PUBLISHED, S.FAILED, S.DEAD, S.WITHDRAWN, S.SUPERSEDED})
FINISHED_NAMES = tuple(sorted(s.value for s in FINISHED))


class PastRetention(ValueError):
    """An approval for a job the plan does not hold, accepted longer than the retention ago."""


def finished_at(job: JobPlanned) -> datetime | None:
    """Since when ``job`` is finished (its last record), or None while something may move it."""
    if job.state not in FINISHED or (job.state is S.PUBLISHED and job.measure_at):
        return None
    return job.occurred_at


def expired(job: JobPlanned, now: datetime, retention: timedelta) -> bool:
    at = finished_at(job)
    return at is not None and now - at >= retention


def check_approval(ev: ContentApproved, now: datetime, retention: timedelta) -> None:
    """Refuse a new job from an approval older than the retention (the module docstring)."""
    if now - ev.occurred_at >= retention:
        raise PastRetention(
            f"approval of {ev.content_id} was accepted at {ev.occurred_at.isoformat()}, more than "
            f"the plan's retention ({retention}) ago, and the plan holds no job of it: a finished "
            "job may have been forgotten, and planning it again could post it twice. Submit the "
            "item again as a new request if it must still go out"
        )


# The longest a cap or gap keeps a finished job for (a year): no platform's limit is longer, and
# a window configured longer must not keep every finished job for good.
LONGEST_RULE_REACH = timedelta(days=366)


def kept_for(retention: timedelta, rule_reaches: Iterable[timedelta]) -> timedelta:
    """How long after it finished a job stays in the plan: ``retention``, or longer while a
    channel's rules (``placement.reach`` of each channel) can still count its post, up to
    ``LONGEST_RULE_REACH``. A published job finishes after its post, so its post counts as long
    as the rules reach from it."""
    return max(retention, min(max(rule_reaches, default=timedelta(0)), LONGEST_RULE_REACH))

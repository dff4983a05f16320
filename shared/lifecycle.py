"""The job lifecycle as one explicit table.

    waiting (for the group's official account) ──► scheduled
    scheduled ──fire──► due ──► attempted ──► published
        │  ▲              │          ├──► retrying ──fire──► due …  (or unschedulable)
        │  └─re-plan──────┤          ├──► failed | dead
        ├──► paused ──resume──► scheduled
        ├──► withdrawn | superseded  (only before the job fired)
        └──► unschedulable (no feasible instant) ──re-plan──► scheduled
    unconfirmed: an operator settles it (published, failed or retrying)
    needs_reauth: parked until the channel is re-authorised (then scheduled)

Rules: a job never leaves published, withdrawn or superseded; failed and dead leave only by an
operator's retry; withdraw and supersede can't reach a job that has
fired (the platform may already have it); every other change is listed below or raises
``IllegalTransition``.
"""

from __future__ import annotations

from shared.events import JobState as S


class IllegalTransition(ValueError):
    """A state change the lifecycle forbids (e.g. withdrawing a published job)."""

    def __init__(self, job_id: str, old: S, new: S) -> None:
        super().__init__(f"job {job_id}: {old.value} → {new.value} is not allowed")
        self.old = old
        self.new = new


TERMINAL = frozenset({S.PUBLISHED, S.FAILED, S.DEAD, S.WITHDRAWN, S.SUPERSEDED})
# States in which the scheduler still holds the job (it has not gone to a publisher yet).
HELD = frozenset({S.WAITING, S.SCHEDULED, S.RETRYING, S.PAUSED, S.UNSCHEDULABLE, S.NEEDS_REAUTH})

_ALLOWED: dict[S, frozenset[S]] = {
    S.WAITING: frozenset({S.WAITING, S.SCHEDULED, S.PAUSED, S.WITHDRAWN, S.SUPERSEDED, S.UNSCHEDULABLE}),
    S.SCHEDULED: frozenset(
        {S.SCHEDULED, S.DUE, S.PAUSED, S.WITHDRAWN, S.SUPERSEDED, S.UNSCHEDULABLE, S.NEEDS_REAUTH}
    ),
    S.UNSCHEDULABLE: frozenset({S.SCHEDULED, S.UNSCHEDULABLE, S.WITHDRAWN, S.SUPERSEDED, S.PAUSED}),
    S.PAUSED: frozenset({S.PAUSED, S.SCHEDULED, S.UNSCHEDULABLE, S.WITHDRAWN, S.SUPERSEDED}),
    S.DUE: frozenset(
        {S.DUE, S.ATTEMPTED, S.PUBLISHED, S.RETRYING, S.FAILED, S.UNCONFIRMED, S.NEEDS_REAUTH, S.DEAD}
    ),
    S.ATTEMPTED: frozenset(
        {S.ATTEMPTED, S.PUBLISHED, S.RETRYING, S.FAILED, S.UNCONFIRMED, S.NEEDS_REAUTH, S.DEAD}
    ),
    # A retry is placed by the channel's rules from its retry_at: with no allowed instant before
    # the deadline, it is unschedulable like any job.
    S.RETRYING: frozenset(
        {
            S.RETRYING,
            S.DUE,
            S.PAUSED,
            S.WITHDRAWN,
            S.SUPERSEDED,
            S.NEEDS_REAUTH,
            S.SCHEDULED,
            S.DEAD,
            S.UNSCHEDULABLE,
        }
    ),
    S.NEEDS_REAUTH: frozenset({S.NEEDS_REAUTH, S.SCHEDULED, S.WITHDRAWN, S.SUPERSEDED}),
    S.UNCONFIRMED: frozenset({S.UNCONFIRMED, S.PUBLISHED, S.FAILED, S.RETRYING}),
    S.PUBLISHED: frozenset({S.PUBLISHED}),
    # An operator may retry a failed or dead job (after fixing the content or the platform).
    S.FAILED: frozenset({S.FAILED, S.RETRYING}),
    S.DEAD: frozenset({S.DEAD, S.RETRYING}),
    S.WITHDRAWN: frozenset({S.WITHDRAWN}),
    S.SUPERSEDED: frozenset({S.SUPERSEDED}),
}


def can(old: S, new: S) -> bool:
    return new in _ALLOWED[old]


def check(job_id: str, old: S, new: S) -> None:
    if not can(old, new):
        raise IllegalTransition(job_id, old, new)

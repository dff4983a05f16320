"""The job lifecycle as one explicit table.

    waiting (for the group's official account) ──► scheduled
    scheduled ──fire──► due ──► attempted ──► published
        │  ▲              │          ├──► retrying ──fire──► due …  (or unschedulable)
        │  └─re-plan──────┤          ├──► failed | dead
        ├──► paused ──resume──► scheduled
        ├──► withdrawn | superseded  (from a held job: one that fired is ended as it comes back)
        └──► unschedulable (no feasible instant) ──re-plan──► scheduled
    unconfirmed, failed, dead: wait for a person (below)
    needs_reauth: parked until the channel is re-authorised (then scheduled)

A person settles a job that waits for one — unconfirmed, failed or dead, where no publisher
holds it and no timer will move it — by retrying it (retrying), marking it published by hand
(published: a post made outside Warta, or one the platform took after all) or discarding it
(failed, the decision recorded on the job: ``JobPlanned.decided``). ``OPERATOR`` lists these;
the scheduler applies a person's decision by it and the console offers what it allows.

Rules: a job never leaves published, withdrawn or superseded; failed and dead leave only by a
person's decision; withdraw and supersede can't reach a job that has fired (the platform may
already have it): they wait on it until it is held again (services/scheduler/withdrawals.py);
every other change is listed below or raises ``IllegalTransition``.
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
    # Left only by a person's decision (``OPERATOR``; a retry as the table has always allowed).
    S.FAILED: frozenset({S.FAILED, S.RETRYING}),
    S.DEAD: frozenset({S.DEAD, S.RETRYING}),
    S.WITHDRAWN: frozenset({S.WITHDRAWN}),
    S.SUPERSEDED: frozenset({S.SUPERSEDED}),
}


_SETTLE = frozenset({S.RETRYING, S.PUBLISHED, S.FAILED})
# What a person's decision may do to a job that waits for one: retry it (after fixing the content
# or the platform), mark it published with the post's URL, or discard it (failed).
OPERATOR: dict[S, frozenset[S]] = {S.UNCONFIRMED: _SETTLE, S.FAILED: _SETTLE, S.DEAD: _SETTLE}
AWAITS_OPERATOR = frozenset(OPERATOR)


def can(old: S, new: S, *, by_operator: bool = False) -> bool:
    """Whether a job may go from ``old`` to ``new``; ``by_operator``: as a person's decision."""
    return new in _ALLOWED[old] or (by_operator and new in OPERATOR.get(old, ()))


def check(job_id: str, old: S, new: S, *, by_operator: bool = False) -> None:
    if not can(old, new, by_operator=by_operator):
        raise IllegalTransition(job_id, old, new)

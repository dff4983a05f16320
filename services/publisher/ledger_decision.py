"""What the attempt ledger says to do with a due job: the publisher's first decision, pure.

The ledger (compacted ``publish.<platform>.attempts``) holds each job's latest record. Given that
record (``entry``, None for a job never tried) and the due job, in order:

1. the due attempt is already settled — the entry is for a later attempt, or for this one with
   an outcome, or the job is published → ``Skip``: nothing is sent, and the settled outcome is
   announced again (the scheduler re-fired an attempt it may have lost track of, and a job must
   never wait for an outcome nobody will send). A ``deferred`` retry settles nothing: nothing
   was made (the call was put off, or refused for a publishing quota), and the scheduler fires
   the same attempt again for it;
2. an earlier try of the job may have reached the platform — recorded ``attempted`` with no
   outcome (a crash mid-call), ``unconfirmed`` (an operator now retries it), or a retry whose
   lookups went unanswered (``reconcile_first``) → ``Reconcile``: look it up on the platform
   first; never a blind re-send;
3. otherwise → ``Send``.

``Reconcile.live_until`` is until when the earlier call may still be running, so a lookup's
"absent" is no proof before then (plus the platform's listing delay, which the adapters add).
It is the attempt's lease (its time + the publish timeout + a margin), cut short for an attempt
that an earlier incarnation of this very replica wrote: the replica's transactional id fenced
that process when this one started, and a stable instance id names one process at a time (the
supervisor restarts a replica only after it died; ``warta dev`` and a StatefulSet do so), so its
call ended by ``started_at`` at the latest. A restarted replica then waits the listing delay once,
not a whole lease per job in each channel's lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.events import JobDue, OutcomeStatus, PublishOutcome

# An earlier try whose call may have reached the platform with no outcome known.
_MAY_HAVE_REACHED = frozenset({OutcomeStatus.ATTEMPTED, OutcomeStatus.UNCONFIRMED})


@dataclass(frozen=True)
class Incarnation:
    """This process, as it signs the ``attempted`` records it writes.

    ``writer`` is the replica's transactional id (stable across restarts when the replica has
    an instance id, random otherwise); ``incarnation`` is new for every process; ``started_at``
    is when this process's transactional producer started, fencing its predecessors.
    """

    writer: str
    incarnation: str
    started_at: datetime
    stable: bool  # the writer names one replica across restarts (an instance id was given)

    def fenced(self, entry: PublishOutcome) -> bool:
        """True when ``entry`` was written by an earlier process of this same replica."""
        return (
            self.stable
            and entry.writer == self.writer
            and entry.incarnation is not None
            and entry.incarnation != self.incarnation
        )


@dataclass(frozen=True)
class Skip:
    """The due attempt is settled: send nothing, announce ``entry`` (its outcome) again."""

    entry: PublishOutcome


@dataclass(frozen=True)
class Reconcile:
    """An earlier try may have reached the platform: look it up before anything is sent."""

    entry: PublishOutcome
    live_until: datetime | None


@dataclass(frozen=True)
class Send:
    """Nothing of this job can be on the platform unless this call puts it there."""

    entry: PublishOutcome | None


def next_step(
    entry: PublishOutcome | None, due: JobDue, *, me: Incarnation, lease: timedelta
) -> Skip | Reconcile | Send:
    """The numbered steps of the module docstring."""
    if entry is None:
        return Send(None)
    if (
        entry.attempt > due.attempt
        or (
            entry.attempt == due.attempt
            and entry.status is not OutcomeStatus.ATTEMPTED
            and not entry.deferred
        )
        or entry.status is OutcomeStatus.PUBLISHED
    ):
        return Skip(entry)
    if entry.status in _MAY_HAVE_REACHED or entry.reconcile_first:
        return Reconcile(entry, live_until(entry, me=me, lease=lease))
    return Send(entry)


def live_until(entry: PublishOutcome, *, me: Incarnation, lease: timedelta) -> datetime | None:
    """Until when ``entry``'s call may still be running; None when it is not a running attempt.

    Records written before leases were recorded get one from their time.
    """
    if entry.status is not OutcomeStatus.ATTEMPTED:
        return None
    until = entry.lease_until or entry.occurred_at + lease
    if me.fenced(entry):
        return min(until, max(me.started_at, entry.occurred_at))
    return until

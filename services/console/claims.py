"""One operator action per job at a time: the first claim on a job wins, the others are refused.

Pure; ``now`` is passed in. Two operators who click on the same unconfirmed job a moment apart
both see it unconfirmed, because the view learns of the first action only once the scheduler has
applied it. Without a claim both actions would be written, and the scheduler applies some pairs
one after the other (a discard, then a retry of the failed job it became): a discarded post sent
after all. So an accepted action claims the job *as the view knows it* (the ``JobPlanned`` record
it was judged on) and every later action on that same record is refused. The claim lapses when
the view shows the job changed (the scheduler applied the action: later actions are judged on the
new state) or, should the scheduler drop the action, after ``hold``.

The check and the claim happen with no ``await`` between them, so within one console process two
concurrent requests can never both pass.

Across console processes, the log decides (``DecisionOrder``): each decision names what it was
judged on, the job's state and attempt (``OperatorDecided.judged``), and goes to
``publish.outcomes`` keyed by content id, so every decision on a job sits on one partition, in
one order. A console that wrote a decision reads that partition past its own record; when another
decision judged on the same state and attempt came before it, its own lost, and it answers 409.
The scheduler applies a decision only while the job still stands at that state and attempt
(``shared.operator_decisions.still_applies``), so the loser, already on the topic, changes
nothing: of two consoles acting on the same job at once exactly one takes effect, whichever
answer a console managed to give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from shared.events import Event, JobPlanned, OperatorDecided
from shared.messages import Said, said

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class Claim:
    job_id: str
    version: str  # the job record the action was judged on (see ``version_of``)
    action: str
    by: str
    at: datetime


def version_of(job: JobPlanned) -> str:
    # The scheduler numbers its event ids from 0 again after a restart; with the record's instant
    # the pair names one record.
    return f"{job.event_id}@{job.occurred_at.isoformat()}"


class ActionInProgress(Exception):
    """Another operator's action on this job was accepted and has not reached the plan yet."""

    def __init__(self, claim: Claim) -> None:
        self.said: Said = said(
            "action_in_progress",
            by=claim.by,
            action=claim.action,
            job_id=claim.job_id,
            at=claim.at.isoformat(),
        )
        super().__init__(str(self.said))
        self.claim = claim


class ActionClaims:
    def __init__(self, hold: timedelta) -> None:
        self._hold = hold
        self._claims: dict[str, Claim] = {}

    def claim(self, job: JobPlanned, action: str, by: str, now: datetime) -> Claim:
        """Claim ``job`` for one action; ``ActionInProgress`` when an earlier claim still holds."""
        held = self._claims.get(job.job_id)
        version = version_of(job)
        if held is not None and held.version == version and now - held.at < self._hold:
            raise ActionInProgress(held)
        claim = Claim(job.job_id, version, action, by, now)
        self._claims[job.job_id] = claim
        return claim

    def release(self, claim: Claim) -> None:
        """Give a claim back (its action was never written)."""
        if self._claims.get(claim.job_id) == claim:
            del self._claims[claim.job_id]

    def expire(self, now: datetime) -> None:
        """Forget lapsed claims, so the table holds only jobs acted on within ``hold``."""
        _drop_lapsed(self._claims, now - self._hold, lambda claim: claim.at)

    def __len__(self) -> int:
        return len(self._claims)


class DecisionOrder:
    """The first decision in the log per (job, judged record), as this console has read it."""

    def __init__(self, hold: timedelta) -> None:
        self._hold = hold
        self._first: dict[tuple[str, str], OperatorDecided] = {}

    def seen(self, event: Event) -> None:
        """Fold one event read from ``publish.outcomes``, in log order."""
        if isinstance(event, OperatorDecided) and event.judged is not None:
            self._first.setdefault((event.job_id, event.judged), event)

    def first(self, decision: OperatorDecided) -> OperatorDecided | None:
        """The first decision judged on the same record as ``decision`` read so far."""
        if decision.judged is None:
            return None
        return self._first.get((decision.job_id, decision.judged))

    def expire(self, now: datetime) -> None:
        """Forget decisions older than ``hold``: a read-back waits for seconds, not minutes."""
        _drop_lapsed(self._first, now - self._hold, lambda decision: decision.occurred_at)

    def __len__(self) -> int:
        return len(self._first)


def _drop_lapsed(table: dict[K, V], since: datetime, at: Callable[[V], datetime]) -> None:
    """Drop the entries of ``table`` whose time (``at``) is not after ``since``: both tables
    hold an entry for less than ``hold``, the same way."""
    for key, value in list(table.items()):
        if at(value) <= since:
            del table[key]


class DecidedFirst(Exception):
    """Another console's decision on the same view of the job came first in the log."""

    def __init__(self, first: OperatorDecided) -> None:
        self.said: Said = said(
            "action_in_progress.decided_first",
            by=first.actor,
            action=first.action.value,
            job_id=first.job_id,
            at=first.occurred_at.isoformat(),
        )
        super().__init__(str(self.said))
        self.first = first

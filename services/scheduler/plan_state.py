"""What the plan holds in memory per channel, and what one step of it returns.

Pure data, no I/O: ``ChannelPlan`` keeps a channel's flags and the sorted instants that occupy it
(gaps and caps are checked against them); ``Effects`` is what the planner writes for a step;
``placed`` tells a slot the channel's rules chose from one they have not checked yet.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from services.scheduler.retention import DEFAULT_RETENTION
from shared.channel_events import Withdrawal
from shared.channels import Channel
from shared.events import (
    ChannelStateRecorded,
    JobDue,
    JobPlanned,
    JobState,
    OutcomeStatus,
    PublishOutcome,
    TopicVersion,
)
from shared.horizon import DEFAULT_HORIZON

S = JobState
FIRING = frozenset({S.SCHEDULED, S.RETRYING})
# States whose instant occupies the channel (min gap, caps).
OCCUPYING = frozenset({S.SCHEDULED, S.RETRYING, S.DUE, S.ATTEMPTED, S.PUBLISHED, S.UNCONFIRMED})
FIRING_NAMES = frozenset(s.value for s in FIRING)
OCCUPYING_NAMES = frozenset(s.value for s in OCCUPYING)
STATE_OF_OUTCOME = {
    OutcomeStatus.ATTEMPTED: S.ATTEMPTED,
    OutcomeStatus.PUBLISHED: S.PUBLISHED,
    OutcomeStatus.RETRY: S.RETRYING,
    OutcomeStatus.FAILED: S.FAILED,
    OutcomeStatus.NEEDS_REAUTH: S.NEEDS_REAUTH,
    OutcomeStatus.UNCONFIRMED: S.UNCONFIRMED,
    OutcomeStatus.DEAD: S.DEAD,
}


@dataclass(frozen=True)
class PlanSettings:
    late_grace: timedelta = timedelta(minutes=2)  # later than this after its slot → re-plan, no burst
    replan_every: timedelta = timedelta(hours=1)  # at most this often per channel after learning
    horizons: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))
    event_id_prefix: str = "sch"
    # The scheduling horizon ingest also enforces (shared/horizon.py; the service passes
    # CommonSettings.schedule_horizon). It keeps every instant the plan computes (window ends,
    # gaps, a day either side) far inside datetime's year 9999, and bounds the slot policy's
    # work per job: it scores each 5-minute step of the window.
    horizon: timedelta = DEFAULT_HORIZON
    # How long a finished job stays before it is forgotten and tombstoned (retention.py).
    retention: timedelta = DEFAULT_RETENTION
    # Timers the wheel reads from the store at a time (wheel.py): a page of 2000 is a few ms.
    timer_page: int = 2000


@dataclass
class Effects:
    jobs: list[JobPlanned] = field(default_factory=list)
    due: list[JobDue] = field(default_factory=list)
    channels: list[ChannelStateRecorded] = field(default_factory=list)
    outcomes: list[PublishOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    forgotten: list[JobPlanned] = field(default_factory=list)  # each gets a tombstone

    def extend(self, other: Effects) -> None:
        self.jobs += other.jobs
        self.forgotten += other.forgotten
        self.due += other.due
        self.channels += other.channels
        self.outcomes += other.outcomes
        self.notes += other.notes

    def __bool__(self) -> bool:
        return bool(self.jobs or self.due or self.channels or self.outcomes or self.forgotten)


@dataclass
class ChannelPlan:
    channel: Channel
    partition: int = 0
    paused: bool = False
    pause_reason: str | None = None
    paused_by: str | None = None
    needs_reauth: bool = False
    replanned_at: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))
    # Per topic_key, the newest version heard of from an approval naming other channels
    # (supersession.py). Replaced, never changed in place, so a step's undo keeps the old dict.
    topics: dict[str, TopicVersion] = field(default_factory=dict)
    # Per content id, withdrawals of items not met yet (withdrawals.py); replaced like ``topics``.
    withdrawals: dict[str, Withdrawal] = field(default_factory=dict)
    # Sorted instants (epoch seconds) occupying the channel: 8 bytes each. Read from
    # ``_source`` (the job store) when first needed, so that a restart reads no channel's
    # instants before a step needs them.
    _taken: array[float] = field(default_factory=lambda: array("d"), repr=False)
    _source: Callable[[], Iterable[float]] | None = field(default=None, repr=False)

    def load_taken_from(self, source: Callable[[], Iterable[float]]) -> None:
        """Forget the instants held: read them from ``source`` when next needed. Until then,
        ``release`` and ``occupy`` have nothing to do, the source reflecting every change."""
        self._source = source
        self._taken = array("d")

    @property
    def taken(self) -> array[float]:
        if self._source is not None:
            source, self._source = self._source, None
            self._taken = array("d", sorted(source()))
        return self._taken

    def release(self, job: JobPlanned | None) -> None:
        instant = occupied_instant(job)
        if instant is None or self._source is not None:
            return
        taken = self._taken
        i = bisect_left(taken, instant)
        if i < len(taken) and taken[i] == instant:
            taken.pop(i)

    def occupy(self, job: JobPlanned | None) -> None:
        instant = occupied_instant(job)
        if instant is not None and self._source is None:
            insort(self._taken, instant)

    def taken_between(
        self, start: datetime, end: datetime, exclude: JobPlanned | None = None
    ) -> list[datetime]:
        lo = bisect_left(self.taken, start.timestamp())
        hi = bisect_left(self.taken, end.timestamp() + 1e-6)
        skip = occupied_instant(exclude)
        out: list[datetime] = []
        for ts in self.taken[lo:hi]:
            if skip is not None and ts == skip:
                skip = None  # the job's own instant, once
                continue
            out.append(datetime.fromtimestamp(ts, tz=UTC))
        return out

    def holding(self) -> tuple[JobState, str] | None:
        """The state a job of this channel is held in instead of being planned, and why; None
        when the channel may fire (neither paused nor waiting for re-authorisation)."""
        if self.paused:
            return S.PAUSED, f"paused: {self.pause_reason}"
        if self.needs_reauth:
            return S.NEEDS_REAUTH, "the channel needs re-authorisation"
        return None


@dataclass(frozen=True)
class ChannelFlags:
    """A channel's flags, to put back when a command raises (its instants follow the journal)."""

    paused: bool
    pause_reason: str | None
    paused_by: str | None
    needs_reauth: bool
    replanned_at: datetime
    topics: dict[str, TopicVersion]
    withdrawals: dict[str, Withdrawal]

    @classmethod
    def of(cls, plan: ChannelPlan) -> ChannelFlags:
        return cls(
            plan.paused,
            plan.pause_reason,
            plan.paused_by,
            plan.needs_reauth,
            plan.replanned_at,
            plan.topics,
            plan.withdrawals,
        )

    def put_back(self, plan: ChannelPlan) -> None:
        plan.paused, plan.pause_reason, plan.paused_by = self.paused, self.pause_reason, self.paused_by
        plan.needs_reauth, plan.replanned_at, plan.topics = self.needs_reauth, self.replanned_at, self.topics
        plan.withdrawals = self.withdrawals


def placed(job: JobPlanned) -> bool:
    """Whether ``job``'s slot is one the channel's rules chose: the placer stores every choice
    with its explanation, whose ``chosen`` is the slot. A retry's ``retry_at`` is not (it is only
    the earliest instant the retry may take), so a retry not placed yet fails this; the plan
    fires no job that does (``Plan._fire_publish``)."""
    return job.slot is not None and job.explanation is not None and job.explanation.chosen == job.slot


def occupied_instant(job: JobPlanned | None) -> float | None:
    """The epoch second at which ``job`` occupies its channel, or None when it does not."""
    if job is None or job.state not in OCCUPYING:
        return None
    instant = job.published_at or job.slot
    return instant.timestamp() if instant is not None else None

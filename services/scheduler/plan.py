"""The plan: every job of the channels this worker owns, and what to do as events and time arrive.

Pure: no Kafka, no clock. The planner loop feeds it decoded events and ``now`` and writes the
``Effects`` it returns (plan records to ``schedule.jobs``, due jobs to ``publish.<platform>``,
channel snapshots to ``schedule.channels``) in one transaction with the offsets of the commands
that caused them, so a restored plan is exactly the plan that fired.

The plan does not rely on that alone. Every outcome either ends its attempt (attempted,
published, failed, unconfirmed, dead) or asks for a new one (retry and needs-reauth bump the
attempt number), so a job held at attempt N has had no outcome for N yet. An outcome for the
job's attempt N or later, arriving while the plan holds the job (a changelog that lost its ``due``
record, however that came about), proves the attempt went out: it is applied as to a due job,
never dropped, and a re-fire of an attempt the publisher already settled is answered by the
publisher with that settled outcome again. No job waits for an outcome that was dropped.

Job records live in a ``JobStore``; in RAM the plan keeps only a timer wheel of job references
and, per channel, the sorted instants that occupy it (gaps and caps). Wheel entries are lazy: an
entry whose job moved on (re-planned, withdrawn) is skipped when it comes due.

A command that raises changes nothing. ``handle`` keeps a journal of the job records it
replaces (and so of the instants they occupied) and a copy of the channel's flags; when the
command raises, it puts them back before re-raising, so the planner can dead-letter the command
and go on with a plan that later commands can trust (its effects were never written either).
Learning is the exception: an engagement observation the chooser took in stays learnt, which
only nudges a model. A due job whose firing raises is put back the same way, then parked as
unschedulable with the error (``fire``).

Instants stay within datetime's range: a job whose not_before or deadline lies beyond
``PlanSettings.horizon`` (the scheduling horizon ingest enforces too, ``shared.horizon``) is
stored unschedulable with the reason, before any date arithmetic (ingest refuses such dates, but
a record on the topic is not bound by ingest's rules).
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.scheduler.chooser import SlotChooser
from services.scheduler.retention import DEFAULT_RETENTION, check_approval
from services.scheduler.store import JobStore, MemoryJobStore
from services.scheduler.transitions import HELD, can
from services.scheduler.wheel import TimerWheel
from shared.channels import Channel, ChannelDirectory
from shared.events import (
    ChannelStateRecorded,
    ContentApproved,
    ControlAction,
    ControlIssued,
    EngagementObserved,
    Event,
    JobDue,
    JobPlanned,
    JobState,
    OperatorDecided,
    OutcomeStatus,
    PlatformError,
    Priority,
    PublishOutcome,
    SlotExplanation,
    job_id_for,
)
from shared.horizon import DEFAULT_HORIZON
from shared.operator_decisions import decided_outcome, still_applies

S = JobState
_FIRING = frozenset({S.SCHEDULED, S.RETRYING})
# States whose instant occupies the channel (min gap, caps).
_OCCUPYING = frozenset({S.SCHEDULED, S.RETRYING, S.DUE, S.ATTEMPTED, S.PUBLISHED, S.UNCONFIRMED})
_FIRING_NAMES = frozenset(s.value for s in _FIRING)
_STATE_OF_OUTCOME = {
    OutcomeStatus.ATTEMPTED: S.ATTEMPTED,
    OutcomeStatus.PUBLISHED: S.PUBLISHED,
    OutcomeStatus.RETRY: S.RETRYING,
    OutcomeStatus.FAILED: S.FAILED,
    OutcomeStatus.NEEDS_REAUTH: S.NEEDS_REAUTH,
    OutcomeStatus.UNCONFIRMED: S.UNCONFIRMED,
    OutcomeStatus.DEAD: S.DEAD,
}
_OCCUPYING_NAMES = frozenset(s.value for s in _OCCUPYING)


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
    # Sorted instants (epoch seconds) occupying the channel: 8 bytes each.
    taken: array[float] = field(default_factory=lambda: array("d"))

    def release(self, job: JobPlanned | None) -> None:
        instant = _occupied_instant(job)
        if instant is None:
            return
        i = bisect_left(self.taken, instant)
        if i < len(self.taken) and self.taken[i] == instant:
            self.taken.pop(i)

    def occupy(self, job: JobPlanned | None) -> None:
        instant = _occupied_instant(job)
        if instant is not None:
            insort(self.taken, instant)

    def taken_between(
        self, start: datetime, end: datetime, exclude: JobPlanned | None = None
    ) -> list[datetime]:
        lo = bisect_left(self.taken, start.timestamp())
        hi = bisect_left(self.taken, end.timestamp() + 1e-6)
        skip = _occupied_instant(exclude)
        out: list[datetime] = []
        for ts in self.taken[lo:hi]:
            if skip is not None and ts == skip:
                skip = None  # the job's own instant, once
                continue
            out.append(datetime.fromtimestamp(ts, tz=UTC))
        return out


@dataclass(frozen=True)
class _ChannelState:
    """A channel's flags, to put back when a command raises (its instants follow the journal)."""

    paused: bool
    pause_reason: str | None
    paused_by: str | None
    needs_reauth: bool
    replanned_at: datetime

    @classmethod
    def of(cls, plan: ChannelPlan) -> _ChannelState:
        return cls(plan.paused, plan.pause_reason, plan.paused_by, plan.needs_reauth, plan.replanned_at)

    def put_back(self, plan: ChannelPlan) -> None:
        plan.paused, plan.pause_reason, plan.paused_by = self.paused, self.pause_reason, self.paused_by
        plan.needs_reauth, plan.replanned_at = self.needs_reauth, self.replanned_at


_Replaced = tuple[str, ChannelPlan, JobPlanned | None, JobPlanned | None]
"""A job record a command replaced: (job id, its channel, the record whose instant was released,
the stored record before, None for a new job)."""


def _occupied_instant(job: JobPlanned | None) -> float | None:
    if job is None or job.state not in _OCCUPYING:
        return None
    instant = job.published_at or job.slot
    return instant.timestamp() if instant is not None else None


class Plan:
    def __init__(
        self,
        channels: ChannelDirectory,
        chooser: SlotChooser,
        settings: PlanSettings,
        store: JobStore | None = None,
        partition_of: Callable[[str], int] | None = None,
    ) -> None:
        self._directory = channels
        self._chooser = chooser
        self._settings = settings
        self._store: JobStore = store if store is not None else MemoryJobStore()
        self._partition_of = partition_of or (lambda _channel: 0)
        self._channels: dict[str, ChannelPlan] = {}
        self._wheel = TimerWheel()
        self._ids = itertools.count()
        # While a command is handled: each job record it replaced, first to last.
        self._journal: list[_Replaced] | None = None

    # ---- ownership -------------------------------------------------------------------------
    def channel_plan(self, channel_id: str) -> ChannelPlan | None:
        plan = self._channels.get(channel_id)
        if plan is None:
            channel = self._directory.get(channel_id)
            if channel is None:
                return None
            plan = self._channels[channel_id] = ChannelPlan(channel, self._partition_of(channel_id))
        return plan

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        gone = set(partitions)
        for cid in [c for c, p in self._channels.items() if p.partition in gone]:
            del self._channels[cid]
        self._store.drop_partitions(gone)

    def owned_channels(self) -> list[str]:
        return list(self._channels)

    def job(self, job_id: str) -> JobPlanned | None:
        return self._store.get(job_id)

    @property
    def store(self) -> JobStore:
        return self._store

    def wheel_size(self) -> int:
        return len(self._wheel)

    # ---- restore from the changelogs ---------------------------------------------------------
    def restore_job(self, record: JobPlanned) -> None:
        plan = self.channel_plan(record.channel)
        if plan is not None:
            self._put(plan, record, old=self._store.get(record.job_id))

    def index_restored(self, partitions: Iterable[int]) -> int:
        """After a bulk ``store.put_raw``: rebuild the wheel and the channels' occupied instants.

        A warm restart is mostly this loop over every job of the partitions, so it does the least
        per row: one ownership lookup per channel, and the wheel filled in bulk."""
        occupied: dict[str, list[float]] = {}
        owned: dict[str, bool] = {}
        due: list[tuple[float, int]] = []
        published = S.PUBLISHED.value
        count = 0
        for ref, state, slot, channel, measure, instant in self._store.firing(partitions):
            count += 1
            if channel is None:
                continue
            mine = owned.get(channel)
            if mine is None:
                mine = owned[channel] = self.channel_plan(channel) is not None
            if not mine:
                continue
            if slot is not None and state in _FIRING_NAMES:
                due.append((slot, ref))
            elif measure is not None and state == published:
                due.append((measure, -ref))
            if instant is not None and state in _OCCUPYING_NAMES:
                occupied.setdefault(channel, []).append(instant)
        self._wheel.add_many(due)
        for channel, instants in occupied.items():
            plan = self._channels[channel]
            merged = sorted([*plan.taken, *instants])
            plan.taken = array("d", merged)
        return count

    def restore_channel(self, record: ChannelStateRecorded) -> None:
        plan = self.channel_plan(record.channel)
        if plan is None:
            return
        plan.paused, plan.pause_reason, plan.paused_by = record.paused, record.pause_reason, record.paused_by
        plan.needs_reauth = record.needs_reauth
        if record.model:
            self._chooser.restore_model(plan.channel, record.model)

    # ---- events ------------------------------------------------------------------------------
    def handle(self, channel_id: str, event: Event, now: datetime) -> Effects:
        """The effects of one command; when it raises, the plan is left as it was before it."""
        plan = self.channel_plan(channel_id)
        saved = _ChannelState.of(plan) if plan is not None else None
        self._journal = []
        try:
            return self._report_unschedulable(self._handle(channel_id, event, now), now)
        except Exception:
            self._undo(self._journal)
            if plan is not None and saved is not None:
                saved.put_back(plan)
            raise
        finally:
            self._journal = None

    def _undo(self, journal: list[_Replaced]) -> None:
        for job_id, plan, released, before in reversed(journal):
            plan.release(self._store.get(job_id))
            plan.occupy(released)
            if before is None:
                self._store.delete(job_id)
                continue
            ref = self._store.put(before, plan.partition)
            if before.state in _FIRING and before.slot is not None:
                self._wheel.add(before.slot.timestamp(), ref)  # a duplicate entry is skipped when due
            if before.state is S.PUBLISHED and before.measure_at:
                self._wheel.add(before.measure_at[0].timestamp(), -ref)

    def _report_unschedulable(self, fx: Effects, now: datetime) -> Effects:
        for job in fx.jobs:
            if job.state is S.UNSCHEDULABLE and job.explanation is not None:
                fx.outcomes.append(
                    PublishOutcome(
                        event_id=self._event_id(),
                        occurred_at=now,
                        job_id=job.job_id,
                        content_id=job.content_id,
                        channel=job.channel,
                        platform=job.platform,
                        attempt=job.attempt,
                        status=OutcomeStatus.UNSCHEDULABLE,
                        error=PlatformError(
                            code=job.explanation.binding_constraint or "unschedulable",
                            message=job.explanation.reason,
                        ),
                    )
                )
        return fx

    def _handle(self, channel_id: str, event: Event, now: datetime) -> Effects:
        plan = self.channel_plan(channel_id)
        if plan is None:
            return Effects(notes=[f"unknown channel {channel_id!r}: event {event.event_type} ignored"])
        if isinstance(event, ContentApproved):
            return self._approved(plan, event, now)
        if isinstance(event, ControlIssued):
            return self._control(plan, event, now)
        if isinstance(event, PublishOutcome):
            return self._outcome(plan, event, now)
        if isinstance(event, OperatorDecided):
            # Applied as the outcome it stands for; the job keeps the platform's last error.
            job = self._store.get(event.job_id)
            if job is not None and not still_applies(event, job):
                return Effects(
                    notes=[
                        f"{event.job_id}: {event.actor}'s {event.action.value} was judged on an earlier state"
                    ]
                )
            return self._outcome(plan, decided_outcome(event, job.last_error if job else None), now)
        if isinstance(event, EngagementObserved):
            self._chooser.observe(plan.channel, event, self._store.get(event.job_id))
            fx = Effects(channels=[self._snapshot(plan, now)])
            fx.extend(self._replan(plan, now))
            return fx
        return Effects(notes=[f"{event.event_type} is not a scheduler command"])

    def _approved(self, plan: ChannelPlan, ev: ContentApproved, now: datetime) -> Effects:
        variant = next((v for v in ev.variants if v.channel == plan.channel.id), None)
        if variant is None:
            return Effects()
        job_id = job_id_for(ev.content_id, plan.channel.id)
        if self._store.ref_of(job_id) is not None:
            return Effects(notes=[f"{job_id} already planned (redelivery)"])
        check_approval(ev, now, self._settings.retention)
        job = JobPlanned(
            event_id=self._event_id(),
            occurred_at=now,
            job_id=job_id,
            content_id=ev.content_id,
            channel=plan.channel.id,
            platform=plan.channel.platform,
            state=S.SCHEDULED,
            priority=ev.priority,
            arrived_at=ev.occurred_at,
            approved_at=ev.approval.approved_at,
            not_before=ev.not_before,
            deadline=ev.deadline,
            freshness_half_life_hours=ev.freshness_half_life_hours,
            topic_key=ev.topic_key,
            content=variant.content,
            traceparent=ev.traceparent,
        )
        waits_for = self._higher_ranked(plan.channel, ev)
        if waits_for:
            job = job.model_copy(update={"state": S.WAITING, "waits_for": waits_for})
        fx = Effects()
        if ev.topic_key:
            newer = self._supersede_older(plan, job, now, fx)
            if newer is not None:
                job = job.model_copy(update={"state": S.SUPERSEDED, "superseded_by": newer})
                self._put(plan, job, old=None)
                fx.jobs.append(job)
                return fx
        if waits_for:
            note = f"waits for {', '.join(waits_for)} to post it first"
            job = job.model_copy(update={"note": note})
            self._put(plan, job, old=None)
            fx.jobs.append(job)
            return fx
        self._place_new(plan, job, now, fx)
        return fx

    def _place_new(self, plan: ChannelPlan, job: JobPlanned, now: datetime, fx: Effects) -> None:
        """Place a newly approved job; planned jobs may move to make room for it when the two
        together earn more (``policy.slots.place``: under a tight daily cap the first job of the
        day should not keep the evening that only the second could use)."""
        if plan.paused or plan.needs_reauth or job.priority is Priority.URGENT:
            # urgent goes now and moves nothing: no need to read the channel's planned jobs
            fx.jobs.append(self._place(plan, job, now, fresh=True))
            return
        refused = self._beyond_horizon(job, job.not_before, now)
        if refused is not None:
            fx.jobs.append(self._store_choice(plan, job, now, refused, fresh=True))
            return

        def horizon(movable: list[JobPlanned]) -> datetime:
            # movable jobs all have a slot; each may move within its own window, up to its deadline
            return max(
                job.deadline or max(now, job.not_before or now) + timedelta(days=8),
                *(j.deadline or j.slot or now for j in movable),
            )

        movable, fixed = self._movable(plan, now, horizon)
        if not movable:
            fx.jobs.append(self._place(plan, job, now, fresh=True))
            return
        explanation, moves = self._chooser.place(job, plan.channel, movable, fixed, now)
        for other, moved in zip(movable, moves, strict=True):
            if moved is not None and moved.chosen is not None and moved.chosen != other.slot:
                fx.jobs.append(self._set(plan, other, now, slot=moved.chosen, explanation=moved))
        fx.jobs.append(self._store_choice(plan, job, now, explanation, fresh=True))

    def _replan(self, plan: ChannelPlan, now: datetime) -> Effects:
        """What the channel learned may move its scheduled jobs to better slots (at most once per
        ``replan_every``; jobs about to fire stay where they are)."""
        if now - plan.replanned_at < self._settings.replan_every:
            return Effects()
        plan.replanned_at = now
        movable, fixed = self._movable(plan, now, lambda _: now + timedelta(days=8))
        if not movable:
            return Effects()
        fx = Effects()
        for job, explanation in zip(
            movable, self._chooser.replan(movable, plan.channel, fixed, now), strict=True
        ):
            if explanation is not None and explanation.chosen is not None and explanation.chosen != job.slot:
                fx.jobs.append(self._set(plan, job, now, slot=explanation.chosen, explanation=explanation))
        return fx

    def _movable(
        self, plan: ChannelPlan, now: datetime, horizon: Callable[[list[JobPlanned]], datetime]
    ) -> tuple[list[JobPlanned], list[datetime]]:
        """The channel's planned jobs that may still move (scheduled, not about to fire), and the
        instants that stay where they are, from a day before ``now`` to a day past
        ``horizon(movable)``: everything occupying the channel but the movable jobs' own slots."""
        soon = now + self._settings.late_grace
        movable = [
            j
            for j in self._store.in_states(plan.channel.id, (S.SCHEDULED,))
            if j.slot is not None and j.slot > soon
        ]
        if not movable:
            return [], []
        fixed = plan.taken_between(now - timedelta(days=1), horizon(movable) + timedelta(days=1))
        for job in movable:
            if job.slot in fixed:
                fixed.remove(job.slot)
        return movable, fixed

    def _higher_ranked(self, channel: Channel, ev: ContentApproved) -> tuple[str, ...]:
        """Channels of this channel's group, ranked before it, that also carry this item."""
        if channel.group is None:
            return ()
        out = []
        for variant in ev.variants:
            other = self._directory.get(variant.channel)
            if other is not None and other.group == channel.group and other.rank < channel.rank:
                out.append(other.id)
        return tuple(out)

    def _group_signal(self, plan: ChannelPlan, ev: PublishOutcome, now: datetime) -> Effects:
        """An outcome of another channel of the group: release jobs that waited for it."""
        job = self._store.get(job_id_for(ev.content_id, plan.channel.id))
        if job is None or job.state is not S.WAITING or ev.channel not in job.waits_for:
            return Effects()
        if ev.status not in (OutcomeStatus.PUBLISHED, OutcomeStatus.FAILED, OutcomeStatus.DEAD):
            return Effects()
        remaining = tuple(c for c in job.waits_for if c != ev.channel)
        if remaining:
            return Effects(jobs=[self._set(plan, job, now, waits_for=remaining)])
        not_before = max(job.not_before, ev.occurred_at) if job.not_before else ev.occurred_at
        released = job.model_copy(update={"waits_for": (), "not_before": not_before, "state": S.SCHEDULED})
        return Effects(
            jobs=[self._place(plan, released, now, note=f"after {ev.channel} ({ev.status.value})")]
        )

    def _supersede_older(self, plan: ChannelPlan, job: JobPlanned, now: datetime, fx: Effects) -> str | None:
        """Supersede held jobs of the same topic approved earlier; returns a newer one, if any."""
        newer: str | None = None
        assert job.topic_key is not None
        for other in self._store.same_topic(plan.channel.id, job.topic_key):
            if other.job_id == job.job_id:
                continue
            if (other.approved_at, other.content_id) > (job.approved_at, job.content_id):
                if other.state not in (S.WITHDRAWN, S.SUPERSEDED):
                    newer = other.content_id
                continue
            if other.state in HELD:
                replaced = self._set(
                    plan,
                    other,
                    now,
                    state=S.SUPERSEDED,
                    superseded_by=job.content_id,
                    note=f"replaced by {job.content_id}, a newer approved version of topic {job.topic_key}",
                )
                fx.jobs.append(replaced)
        return newer

    def _control(self, plan: ChannelPlan, ev: ControlIssued, now: datetime) -> Effects:
        fx = Effects()
        if ev.action in (ControlAction.WITHDRAW, ControlAction.SUPERSEDE):
            if ev.content_id is None:
                return fx
            job = self._store.get(job_id_for(ev.content_id, plan.channel.id))
            if job is None:
                return fx
            new_state = S.WITHDRAWN if ev.action is ControlAction.WITHDRAW else S.SUPERSEDED
            if job.state not in HELD:
                fx.notes.append(f"{job.job_id} is {job.state.value}; too late to {ev.action.value}")
                return fx
            fx.jobs.append(
                self._set(
                    plan,
                    job,
                    now,
                    state=new_state,
                    superseded_by=ev.superseded_by,
                    note=f"{ev.action.value} by {ev.by}: {ev.reason}",
                )
            )
            return fx
        if ev.action is ControlAction.PAUSE:
            plan.paused, plan.pause_reason, plan.paused_by = True, ev.reason, ev.by
            fx.channels.append(self._snapshot(plan, now))
            return fx
        # Resume: lift the pause (and a needs-reauth park) and re-plan what was held, so jobs that
        # came due meanwhile are spread by the policy instead of released in a burst.
        plan.paused, plan.pause_reason, plan.paused_by = False, None, None
        plan.needs_reauth = False
        fx.channels.append(self._snapshot(plan, now))
        held = self._store.in_states(plan.channel.id, (S.PAUSED, S.NEEDS_REAUTH, S.UNSCHEDULABLE))
        for job in sorted(held, key=lambda j: (j.slot or now, j.job_id)):
            fx.jobs.append(self._place(plan, job, now))
        return fx

    def _outcome(self, plan: ChannelPlan, ev: PublishOutcome, now: datetime) -> Effects:
        if ev.channel != plan.channel.id:
            return self._group_signal(plan, ev, now)
        job = self._store.get(ev.job_id)
        if job is None or ev.attempt < job.attempt:
            return Effects(notes=[f"stale or unknown outcome for {ev.job_id} attempt {ev.attempt}"])
        if ev.status not in _STATE_OF_OUTCOME:
            return Effects()  # the scheduler's own report (unschedulable), seen again
        new_state = _STATE_OF_OUTCOME[ev.status]
        # Held at this attempt yet answered: the attempt went out (see the module docstring).
        current = S.DUE if job.state in HELD else job.state
        if job.state is S.PUBLISHED or not can(current, new_state):
            return Effects(notes=[f"{ev.job_id}: ignoring {ev.status.value} in state {job.state.value}"])
        fx = Effects()
        update: dict[str, Any] = {"state": new_state, "last_error": ev.error, "attempt": ev.attempt}
        if ev.status is OutcomeStatus.PUBLISHED:
            horizons = tuple(ev.occurred_at + h for h in self._settings.horizons)
            update |= {"post_id": ev.post_id, "url": ev.url, "published_at": ev.occurred_at}
            update |= {"measure_at": horizons, "last_error": None}
        elif ev.status is OutcomeStatus.RETRY:
            # The delay service: the publisher asked for this attempt again at retry_at.
            update |= {"attempt": ev.attempt + 1, "slot": ev.retry_at or now}
        elif ev.status is OutcomeStatus.NEEDS_REAUTH:
            # The next firing after re-authorisation is a new attempt: the ledger settled this one.
            update |= {"attempt": ev.attempt + 1}
            plan.needs_reauth = True
            fx.channels.append(self._snapshot(plan, now))
        job = self._set(plan, job, now, **update)
        fx.jobs.append(job)
        return fx

    # ---- time --------------------------------------------------------------------------------
    def forget_finished(self, now: datetime, limit: int = 2000) -> Effects:
        """Forget up to ``limit`` jobs finished longer than the retention ago (retention.py)."""
        fx = Effects()
        for job in self._store.finished_before(now - self._settings.retention, limit):
            # The store holds only this worker's partitions; a job of a channel no longer
            # configured is forgotten too, or it would head every sweep.
            plan = self._channels.get(job.channel)
            if plan is not None:
                plan.release(job)
            self._store.delete(job.job_id)
            fx.forgotten.append(job)
        return fx

    def next_instant(self) -> float | None:
        return self._wheel.next_at()

    def fire(self, now: datetime, limit: int = 2000) -> Effects:
        """Everything due at ``now``: re-read each job, then fire, re-plan or skip it."""
        fx = Effects()
        for ref in self._wheel.pop_due(now.timestamp(), self._store.instants, limit):
            job = self._store.by_ref(abs(ref))
            plan = self._channels.get(job.channel) if job is not None else None
            if job is None or plan is None:
                continue  # the channel moved to another worker, or the job is gone
            self._fire_one(plan, job, ref, now, fx)
        return self._report_unschedulable(fx, now)

    def _fire_one(self, plan: ChannelPlan, job: JobPlanned, ref: int, now: datetime, fx: Effects) -> None:
        """Fire one wheel entry. If that raises, the job is put back and parked as unschedulable
        with the error: a timer is no record to dead-letter, and raising here would stop the
        planner, which would meet the same timer after every restart."""
        marks, saved, self._journal = (len(fx.jobs), len(fx.due)), _ChannelState.of(plan), []
        try:
            if ref < 0:
                self._fire_measure(plan, job, now, fx)
            elif job.state in _FIRING and job.slot is not None and job.slot <= now:
                self._fire_publish(plan, job, now, fx)
        except Exception as exc:
            self._undo(self._journal)
            saved.put_back(plan)
            del fx.jobs[marks[0] :], fx.due[marks[1] :]
            error = f"{type(exc).__name__}: {exc}"[:1500]
            fx.notes.append(f"{job.job_id}: firing failed ({error})")
            if ref > 0:
                why = SlotExplanation(
                    chosen=None, binding_constraint="error", reason=f"could not be fired: {error}"
                )
                fx.jobs.append(self._set(plan, job, now, state=S.UNSCHEDULABLE, slot=None, explanation=why))
        finally:
            self._journal = None

    def _fire_publish(self, plan: ChannelPlan, job: JobPlanned, now: datetime, fx: Effects) -> None:
        assert job.slot is not None
        if plan.paused or plan.needs_reauth:
            why = f"paused: {plan.pause_reason}" if plan.paused else "the channel needs re-authorisation"
            state = S.PAUSED if plan.paused else S.NEEDS_REAUTH
            fx.jobs.append(self._set(plan, job, now, state=state, note=why))
            return
        late = now - job.slot
        urgent = job.priority is Priority.URGENT
        if late > self._settings.late_grace and not (urgent and job.state is S.SCHEDULED):
            # Fell due during downtime: choose again, honouring gaps, instead of a burst.
            fx.jobs.append(
                self._place(plan, job, now, note=f"re-planned: {int(late.total_seconds())} s late")
            )
            return
        fx.due.append(
            JobDue(
                event_id=self._event_id(),
                occurred_at=now,
                job_id=job.job_id,
                content_id=job.content_id,
                channel=job.channel,
                platform=job.platform,
                attempt=job.attempt,
                slot=job.slot,
                content=job.content,
                topic_key=job.topic_key,
                traceparent=job.traceparent,
            )
        )
        fx.jobs.append(self._set(plan, job, now, state=S.DUE))

    def _fire_measure(self, plan: ChannelPlan, job: JobPlanned, now: datetime, fx: Effects) -> None:
        if job.published_at is None or not job.measure_at or job.measure_at[0] > now:
            return
        at = job.measure_at[0]
        fx.due.append(
            JobDue(
                event_id=self._event_id(),
                occurred_at=now,
                job_id=job.job_id,
                content_id=job.content_id,
                channel=job.channel,
                platform=job.platform,
                attempt=job.attempt,
                slot=at,
                content=job.content,
                purpose="measure",
                post_id=job.post_id,
                published_at=job.published_at,
                horizon_minutes=round((at - job.published_at).total_seconds() / 60),
            )
        )
        fx.jobs.append(self._set(plan, job, now, measure_at=job.measure_at[1:]))

    # ---- helpers -----------------------------------------------------------------------------
    def _place(
        self,
        plan: ChannelPlan,
        job: JobPlanned,
        now: datetime,
        note: str | None = None,
        *,
        fresh: bool = False,
    ) -> JobPlanned:
        """Choose the job's slot (or hold it) and store the result. ``job`` is the stored record,
        or a new one (``fresh``)."""
        if plan.paused or plan.needs_reauth:
            state = S.PAUSED if plan.paused else S.NEEDS_REAUTH
            why = f"paused: {plan.pause_reason}" if plan.paused else "the channel needs re-authorisation"
            return self._set(plan, job, now, fresh=fresh, state=state, note=why)
        not_before = job.not_before
        if job.state is S.RETRYING and job.slot is not None:
            not_before = max(not_before, job.slot) if not_before else job.slot
        refused = self._beyond_horizon(job, not_before, now)
        if refused is not None:
            return self._store_choice(plan, job, now, refused, fresh=fresh, note=note)
        start = max(now, not_before) if not_before else now
        end = job.deadline or start + timedelta(days=8)
        taken: Sequence[datetime] = plan.taken_between(
            start - timedelta(days=1), end + timedelta(days=1), exclude=None if fresh else job
        )
        explanation: SlotExplanation = self._chooser.choose(
            job, plan.channel, taken, now, not_before=not_before
        )
        return self._store_choice(plan, job, now, explanation, fresh=fresh, note=note)

    def _beyond_horizon(
        self, job: JobPlanned, not_before: datetime | None, now: datetime
    ) -> SlotExplanation | None:
        """Why the job cannot be planned when an instant of it lies past the horizon, else None."""
        horizon = self._settings.horizon
        limit = now + horizon
        for name, instant in (("not_before", not_before), ("deadline", job.deadline)):
            if instant is not None and instant > limit:
                return SlotExplanation(
                    chosen=None,
                    binding_constraint=name,
                    reason=(
                        f"{name} {instant.isoformat()} is more than {horizon.days} days ahead: "
                        f"beyond what the scheduler plans; send the item again with an earlier {name}"
                    ),
                )
        return None

    def _store_choice(
        self,
        plan: ChannelPlan,
        job: JobPlanned,
        now: datetime,
        explanation: SlotExplanation,
        *,
        fresh: bool,
        note: str | None = None,
    ) -> JobPlanned:
        """Store the chooser's answer for ``job``: its slot, or unschedulable when it found none."""
        if explanation.chosen is None:
            return self._set(
                plan,
                job,
                now,
                fresh=fresh,
                state=S.UNSCHEDULABLE,
                slot=None,
                explanation=explanation,
                note=note,
            )
        state = S.RETRYING if job.state is S.RETRYING else S.SCHEDULED
        return self._set(
            plan,
            job,
            now,
            fresh=fresh,
            state=state,
            slot=explanation.chosen,
            explanation=explanation,
            note=note,
        )

    def _set(
        self, plan: ChannelPlan, job: JobPlanned, now: datetime, *, fresh: bool = False, **update: Any
    ) -> JobPlanned:
        """Store ``job`` changed by ``update``; ``job`` is the stored record unless ``fresh``."""
        new = job.model_copy(update={**update, "event_id": self._event_id(), "occurred_at": now})
        new = JobPlanned.model_validate(new.model_dump())  # re-validate: model_copy doesn't
        self._put(plan, new, old=None if fresh else job)
        return new

    def _put(self, plan: ChannelPlan, job: JobPlanned, old: JobPlanned | None) -> None:
        if self._journal is not None:
            before = old if old is not None else self._store.get(job.job_id)
            self._journal.append((job.job_id, plan, old, before))
        plan.release(old)
        ref = self._store.put(job, plan.partition)
        plan.occupy(job)
        if job.state in _FIRING and job.slot is not None:
            self._wheel.add(job.slot.timestamp(), ref)
        if job.state is S.PUBLISHED and job.measure_at:
            self._wheel.add(job.measure_at[0].timestamp(), -ref)

    def _snapshot(self, plan: ChannelPlan, now: datetime) -> ChannelStateRecorded:
        return ChannelStateRecorded(
            event_id=self._event_id(),
            occurred_at=now,
            channel=plan.channel.id,
            paused=plan.paused,
            pause_reason=plan.pause_reason,
            paused_by=plan.paused_by,
            needs_reauth=plan.needs_reauth,
            model=self._chooser.model_state(plan.channel.id),
        )

    def _event_id(self) -> str:
        return f"{self._settings.event_id_prefix}-{next(self._ids)}"

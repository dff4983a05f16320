"""The plan: every job of the channels this worker owns, and what to do as events and time arrive.

Pure: no Kafka, no clock. The planner loop feeds it decoded events and ``now`` and writes the
``Effects`` it returns (plan records to ``schedule.jobs``, due jobs to ``publish.<platform>``,
channel snapshots to ``schedule.channels``) in one transaction with the offsets of the commands
that caused them, so a restored plan is exactly the plan that fired.

The plan does not rely on that alone. Every outcome either ends its attempt (attempted,
published, failed, unconfirmed, dead) or asks for a new one (retry and needs-reauth bump the
attempt number), so a job held at attempt N has had no outcome for N yet, save a ``deferred``
retry: nothing was made (the account's own rate limit put the call off, or the platform's
publishing quota refused it), so the attempt is still to be made and keeps its number, spending
none of the retry budget. An outcome for the job's attempt N or later, arriving while the plan
holds the job (a changelog that lost its ``due`` record, however that came about), proves the
attempt went out: it is applied as to a due job, never dropped, and a re-fire of an attempt the
publisher already settled is answered by the publisher with that settled outcome again. No job
waits for an outcome that was dropped.

Job records live in a ``JobStore``; in RAM the plan keeps only a timer wheel of job references
and, per channel, the sorted instants that occupy it (gaps and caps), all kept in step by its
``JobBook`` (job_book.py). Slots are chosen and planned jobs moved by its ``Placer``
(placement.py), a retry's too: its retry_at is the earliest instant it may take, and the
channel's rules (silences, caps, the gap, the deadline) place it from there like any job, when
its outcome arrives or, on a channel paused or waiting for re-authorisation then, when a resume
or a reconnect releases it. No job fires from a slot no rule checked (``placed``): the firing
path places such a job instead. The records it writes are built in plan_records.py. The clash rule (a newer approved version of a
topic supersedes the older one's jobs) is ``Supersession``'s (supersession.py), applied when a
version arrives, when an outcome hands a job back, and as a job fires. Withdrawals are
``Withdrawals``' (withdrawals.py): one that meets a job a publisher or a person holds stays on the
job and ends it as it comes back, one that overtakes its approval waits for it in the channel's
record, and a job withdrawn or replaced whose attempt may be on the platform is looked up before
it ends.

A command that raises changes nothing. ``handle`` runs it as an undoable step of the book, which
journals the job records it replaces (and so the instants they occupied) and copies the
channel's flags; when the command raises, the book puts them back before re-raising, so the
planner can dead-letter the command and go on with a plan that later commands can trust (its
effects were never written either).
Learning is the exception: an engagement observation the chooser took in stays learnt, which
only nudges a model. A due job whose firing raises is put back the same way, then parked as
unschedulable with the error (``fire``).

Instants stay within datetime's range: a job whose not_before or deadline lies beyond
``PlanSettings.horizon`` (the scheduling horizon ingest enforces too, ``shared.horizon``) is
stored unschedulable with the reason, before any date arithmetic (ingest refuses such dates, but
a record on the topic is not bound by ingest's rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from services.scheduler.chooser import SlotChooser
from services.scheduler.job_book import JobBook
from services.scheduler.placement import Placer, reach
from services.scheduler.plan_records import (
    measure_due,
    measure_instants,
    new_job,
    publish_due,
    unschedulable_outcome,
)
from services.scheduler.plan_state import (
    FIRING,
    STATE_OF_OUTCOME,
    ChannelPlan,
    Effects,
    PlanSettings,
    S,
    placed,
)
from services.scheduler.retention import check_approval, kept_for
from services.scheduler.store import JobStore
from services.scheduler.store_memory import MemoryJobStore
from services.scheduler.supersession import Supersession, version_of
from services.scheduler.withdrawals import Withdrawals, published_note
from shared.channels import Channel, ChannelDirectory
from shared.events import (
    ChannelStateRecorded,
    ContentApproved,
    ControlAction,
    ControlIssued,
    EngagementObserved,
    Event,
    JobPlanned,
    OperatorAction,
    OperatorDecided,
    OutcomeStatus,
    Priority,
    PublishOutcome,
    SlotExplanation,
    job_id_for,
)
from shared.lifecycle import HELD, can
from shared.operator_decisions import decided_outcome, still_applies

__all__ = ["ChannelPlan", "Effects", "Plan", "PlanSettings"]


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
        self._book = JobBook(
            channels,
            store if store is not None else MemoryJobStore(),
            partition_of or (lambda _channel: 0),
            settings.event_id_prefix,
            settings.timer_page,
        )
        self._placer = Placer(self._book, chooser, settings)
        self._kept = kept_for(settings.retention, (reach(c) for c in channels.channels))
        self._topics = Supersession(self._book, settings.retention)
        self._withdrawals = Withdrawals(self._book, settings.retention, self._snapshot, self._topics)

    # ---- ownership and restore (the book keeps the records) -----------------------------------
    def channel_plan(self, channel_id: str) -> ChannelPlan | None:
        return self._book.channel_plan(channel_id)

    def drop_partitions(self, partitions: Iterable[int], *, keep_rows: bool = False) -> None:
        self._book.drop_partitions(partitions, keep_rows=keep_rows)

    def job(self, job_id: str) -> JobPlanned | None:
        return self._book.store.get(job_id)

    @property
    def store(self) -> JobStore:
        return self._book.store

    def index_restored(self, partitions: Iterable[int]) -> None:
        """After a bulk ``store.put_raw``: read the timers and the occupied instants again."""
        self._book.index_restored(partitions)

    def restore_channel(self, record: ChannelStateRecorded) -> None:
        plan = self.channel_plan(record.channel)
        if plan is None:
            return
        plan.paused, plan.pause_reason, plan.paused_by = record.paused, record.pause_reason, record.paused_by
        plan.needs_reauth, plan.topics = record.needs_reauth, dict(record.topics)
        plan.withdrawals = dict(record.withdrawals)
        if record.model:
            self._chooser.restore_model(plan.channel, record.model)

    # ---- events ------------------------------------------------------------------------------
    def handle(self, channel_id: str, event: Event, now: datetime) -> Effects:
        """The effects of one command; when it raises, the plan is left as it was before it."""
        with self._book.undoable(self.channel_plan(channel_id)):
            return self._report_unschedulable(self._handle(channel_id, event, now), now)

    def _report_unschedulable(self, fx: Effects, now: datetime) -> Effects:
        for job in fx.jobs:
            if job.state is S.UNSCHEDULABLE and job.explanation is not None:
                fx.outcomes.append(unschedulable_outcome(job, self._book.event_id(), now))
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
            job = self._book.store.get(event.job_id)
            if job is not None and not still_applies(event, job):
                return Effects(
                    notes=[
                        f"{event.job_id}: {event.actor}'s {event.action.value} was judged on an earlier state"
                    ]
                )
            return self._outcome(plan, decided_outcome(event, job.last_error if job else None), now, event)
        if isinstance(event, EngagementObserved):
            self._chooser.observe(plan.channel, event, self._book.store.get(event.job_id))
            fx = Effects(channels=[self._snapshot(plan, now)])
            fx.jobs += self._placer.replan(plan, now)
            return fx
        return Effects(notes=[f"{event.event_type} is not a scheduler command"])

    def _approved(self, plan: ChannelPlan, ev: ContentApproved, now: datetime) -> Effects:
        variant = next((v for v in ev.variants if v.channel == plan.channel.id), None)
        if variant is None:  # a version of a topic, routed to every channel (supersession.py)
            jobs, heard = self._topics.heard_elsewhere(plan, ev, now)
            return Effects(jobs=jobs, channels=[self._snapshot(plan, now)] if heard else [])
        job_id = job_id_for(ev.content_id, plan.channel.id)
        if self._book.store.ref_of(job_id) is not None:
            return Effects(notes=[f"{job_id} already planned (redelivery)"])
        check_approval(ev, now, self._settings.retention)
        job = new_job(ev, plan.channel, variant.content, self._book.event_id(), now)
        waits_for = self._higher_ranked(plan.channel, ev)
        if waits_for:
            job = job.model_copy(update={"state": S.WAITING, "waits_for": waits_for})
        fx = Effects()
        if ev.topic_key:
            fx.jobs += self._topics.older_held(plan, ev.topic_key, version_of(job), now)
            newer = self._topics.newer_than(plan, ev.topic_key, version_of(job))
            if newer is not None:
                job = job.model_copy(update={"state": S.SUPERSEDED, "superseded_by": newer})
                self._book.put(plan, job, old=None)
                fx.jobs.append(job)
                return fx
        if (withdrawn := self._withdrawals.arrived(plan, job, now)) is not None:
            fx.extend(withdrawn)
            return fx
        if waits_for:
            note = f"waits for {', '.join(waits_for)} to post it first"
            job = job.model_copy(update={"note": note})
            self._book.put(plan, job, old=None)
            fx.jobs.append(job)
            return fx
        fx.jobs += self._placer.place_new(plan, job, now)
        return fx

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
        job = self._book.store.get(job_id_for(ev.content_id, plan.channel.id))
        if job is None or job.state is not S.WAITING or ev.channel not in job.waits_for:
            return Effects()
        if ev.status not in (OutcomeStatus.PUBLISHED, OutcomeStatus.FAILED, OutcomeStatus.DEAD):
            return Effects()
        remaining = tuple(c for c in job.waits_for if c != ev.channel)
        if remaining:
            return Effects(jobs=[self._book.set(plan, job, now, waits_for=remaining)])
        not_before = max(job.not_before, ev.occurred_at) if job.not_before else ev.occurred_at
        released = job.model_copy(update={"waits_for": (), "not_before": not_before, "state": S.SCHEDULED})
        return Effects(
            jobs=[self._placer.place(plan, released, now, note=f"after {ev.channel} ({ev.status.value})")]
        )

    def _control(self, plan: ChannelPlan, ev: ControlIssued, now: datetime) -> Effects:
        fx = Effects()
        if ev.action in (ControlAction.WITHDRAW, ControlAction.SUPERSEDE):
            return fx if ev.content_id is None else self._withdrawals.command(plan, ev, now)
        if ev.action is ControlAction.PAUSE:
            plan.paused, plan.pause_reason, plan.paused_by = True, ev.reason, ev.by
            fx.channels.append(self._snapshot(plan, now))
            return fx
        if ev.action is ControlAction.RECONNECTED:
            # Only the needs-reauth park is lifted (a pause is a person's, and stays); the parked
            # jobs are re-planned by the policy, spread out, each once: a second announcement
            # finds none parked.
            if not ev.channels:
                return fx  # a reconnect names its channels; "all" would be a mistake, not a wish
            plan.needs_reauth = False
            fx.channels.append(self._snapshot(plan, now))
            fx.jobs += self._place_held(
                plan, (S.NEEDS_REAUTH,), now, "re-planned: the account was re-connected"
            )
            return fx
        # Resume: lift the pause (and a needs-reauth park: the runbook's "connect, then resume")
        # and re-plan what was held, so jobs that came due meanwhile are spread by the policy
        # instead of released in a burst.
        plan.paused, plan.pause_reason, plan.paused_by = False, None, None
        plan.needs_reauth = False
        fx.channels.append(self._snapshot(plan, now))
        fx.jobs += self._place_held(plan, (S.PAUSED, S.NEEDS_REAUTH, S.UNSCHEDULABLE), now)
        return fx

    def _place_held(
        self, plan: ChannelPlan, states: tuple[S, ...], now: datetime, note: str | None = None
    ) -> list[JobPlanned]:
        """Place the channel's jobs in ``states`` again, and the retries its hold left unplaced
        (a retry that came back meanwhile), earliest first; what stays as it was is not stored."""
        store = self._book.store
        retries = (j for j in store.in_states(plan.channel.id, (S.RETRYING,)) if not placed(j))
        held = sorted(
            [*store.in_states(plan.channel.id, states), *retries], key=lambda j: (j.slot or now, j.job_id)
        )
        return [job for j in held if (job := self._placer.place_again(plan, j, now, note)) is not None]

    def _outcome(
        self, plan: ChannelPlan, ev: PublishOutcome, now: datetime, decision: OperatorDecided | None = None
    ) -> Effects:
        """Apply an outcome; ``decision``: the person's decision it stands for, which may settle a
        job the platform's outcomes no longer move (the lifecycle's ``OPERATOR``)."""
        if ev.channel != plan.channel.id:
            return self._group_signal(plan, ev, now)
        job = self._book.store.get(ev.job_id)
        if job is None or ev.attempt < job.attempt:
            return Effects(notes=[f"stale or unknown outcome for {ev.job_id} attempt {ev.attempt}"])
        if ev.status not in STATE_OF_OUTCOME:
            return Effects()  # the scheduler's own report (unschedulable), seen again
        # Withdrawn or replaced while its attempt may be on the platform: only a proven absence may
        # end it, so a person's retry looks it up and unanswered look-ups leave it to a person.
        if (looked_up := self._withdrawals.looked_up(plan, job, ev, decision, now)) is not None:
            return looked_up
        status, recall = self._withdrawals.unanswered(plan, job, ev, decision)
        new_state = STATE_OF_OUTCOME[status]
        # Held at this attempt yet answered: the attempt went out (see the module docstring).
        current = S.DUE if job.state in HELD else job.state
        if job.state is S.PUBLISHED or not can(current, new_state, by_operator=decision is not None):
            return Effects(notes=[f"{ev.job_id}: ignoring {ev.status.value} in state {job.state.value}"])
        fx = Effects()
        update: dict[str, Any] = {"state": new_state, "last_error": ev.error, "attempt": ev.attempt, **recall}
        # Who settled the job stays on it: a discarded job is failed, and seen to.
        update["decided"] = (
            None if decision is None or decision.action is OperatorAction.RETRY else decision.action
        )
        if decision is not None:
            update["note"] = f"{decision.action.value} by {decision.actor}: {decision.reason}"[:2000]
        if ev.status is OutcomeStatus.PUBLISHED:
            horizons = measure_instants(ev.occurred_at, self._settings.horizons, job.content.poll)
            update |= {"post_id": ev.post_id, "url": ev.url, "published_at": ev.occurred_at}
            update |= {"measure_at": horizons, "last_error": None}
            if job.withdrawal is not None:
                update["note"] = published_note(job.withdrawal)
        elif status is OutcomeStatus.RETRY:
            # The delay service: the publisher (or an operator) asked for the job again from
            # retry_at, as the next attempt, or as this one again when nothing was made
            # (``deferred``). retry_at is the earliest instant, not the slot: the retry is
            # placed below, by the channel's rules.
            attempt = ev.attempt if ev.deferred else ev.attempt + 1
            update |= {"attempt": attempt, "slot": ev.retry_at or now, "explanation": None}
        elif status is OutcomeStatus.NEEDS_REAUTH:
            # The next firing after re-authorisation is a new attempt: the ledger settled this one.
            update |= {"attempt": ev.attempt + 1}
            plan.needs_reauth = True
            fx.channels.append(self._snapshot(plan, now))
        job = self._book.set(plan, job, now, **update)
        if job.state is S.RETRYING:
            # The retry obeys every rule a fresh job does (blackouts, caps, the gap, the deadline):
            # the first instant they allow from retry_at, or unschedulable with the rule named.
            # A held channel keeps it unplaced until its release places it (``_place_held``).
            job = self._placer.place(plan, job, now)
        fx.jobs.append(job)
        # Handed back to the scheduler: withdrawn while it was out, or a newer version approved
        # meanwhile, it ends now.
        if (ended := self._withdrawals.ended(plan, job, now)) is not None:
            fx.jobs.append(ended)
        return fx

    # ---- time --------------------------------------------------------------------------------
    def forget_finished(self, now: datetime, limit: int = 2000) -> Effects:
        """Forget up to ``limit`` jobs finished longer ago than they are kept (retention.py)."""
        return Effects(forgotten=self._book.forget_finished_before(now - self._kept, limit))

    def next_instant(self) -> float | None:
        return self._book.next_instant()

    def fire(self, now: datetime, limit: int = 2000) -> Effects:
        """Everything due at ``now``: re-read each job, then fire, re-plan or skip it."""
        fx = Effects()
        for plan, job, ref in self._book.due(now, limit):
            self._fire_one(plan, job, ref, now, fx)
        return self._report_unschedulable(fx, now)

    def _fire_one(self, plan: ChannelPlan, job: JobPlanned, ref: int, now: datetime, fx: Effects) -> None:
        """Fire one wheel entry. If that raises, the job is put back and parked as unschedulable
        with the error: a timer is no record to dead-letter, and raising here would stop the
        planner, which would meet the same timer after every restart."""
        marks = len(fx.jobs), len(fx.due)
        try:
            with self._book.undoable(plan):
                if ref < 0:
                    self._fire_measure(plan, job, now, fx)
                elif job.state in FIRING and job.slot is not None and job.slot <= now:
                    self._fire_publish(plan, job, now, fx)
        except Exception as exc:
            del fx.jobs[marks[0] :], fx.due[marks[1] :]
            error = f"{type(exc).__name__}: {exc}"[:1500]
            fx.notes.append(f"{job.job_id}: firing failed ({error})")
            if ref > 0:
                why = SlotExplanation(
                    chosen=None, binding_constraint="error", reason=f"could not be fired: {error}"
                )
                fx.jobs.append(
                    self._book.set(plan, job, now, state=S.UNSCHEDULABLE, slot=None, explanation=why)
                )

    def _fire_publish(self, plan: ChannelPlan, job: JobPlanned, now: datetime, fx: Effects) -> None:
        assert job.slot is not None
        if (ended := self._withdrawals.ended(plan, job, now)) is not None:
            fx.jobs.append(ended)
            return
        holding = plan.holding()
        if holding is not None:
            state, why = holding
            fx.jobs.append(self._book.set(plan, job, now, state=state, note=why))
            return
        if not placed(job):
            # A slot no rule checked is never fired, whichever path left it so: placed now, the
            # job takes the first instant the rules allow, or is unschedulable with the rule named.
            fx.jobs.append(self._placer.place(plan, job, now, note="placed as it came due"))
            return
        late = now - job.slot
        urgent = job.priority is Priority.URGENT
        if late > self._settings.late_grace and not (urgent and job.state is S.SCHEDULED):
            # Fell due during downtime: choose again, honouring gaps, instead of a burst.
            fx.jobs.append(
                self._placer.place(plan, job, now, note=f"re-planned: {int(late.total_seconds())} s late")
            )
            return
        fx.due.append(publish_due(job, self._book.event_id(), now))
        fx.jobs.append(self._book.set(plan, job, now, state=S.DUE))

    def _fire_measure(self, plan: ChannelPlan, job: JobPlanned, now: datetime, fx: Effects) -> None:
        if job.published_at is None or not job.measure_at or job.measure_at[0] > now:
            return
        fx.due.append(measure_due(job, self._book.event_id(), now))
        fx.jobs.append(self._book.set(plan, job, now, measure_at=job.measure_at[1:]))

    def _snapshot(self, plan: ChannelPlan, now: datetime) -> ChannelStateRecorded:
        return ChannelStateRecorded(
            event_id=self._book.event_id(),
            occurred_at=now,
            channel=plan.channel.id,
            paused=plan.paused,
            pause_reason=plan.pause_reason,
            paused_by=plan.paused_by,
            needs_reauth=plan.needs_reauth,
            model=self._chooser.model_state(plan.channel.id),
            topics=plan.topics,
            withdrawals=plan.withdrawals,
        )

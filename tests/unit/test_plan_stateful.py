"""The plan's lifecycle under random interleavings (hypothesis.stateful).

A small world around one ``Plan``: approvals, withdrawals, pauses and resumes; a clock; the
publish topic and a publisher with its attempt ledger (it answers an attempt it already settled
with that outcome again, never re-sends one); the outcomes topic, delivered in order and also
redelivered at random (the router is at-least-once); and restores of the plan from the changelog
it emitted — exact ones (what a transaction guarantees), and lossy ones that drop a job's
latest record while what it caused stays out (what a crash between two writes did before);
and weeks passing, after which the plan forgets finished jobs (tombstones on the changelog)
while their approvals and outcomes may still be redelivered.

Whatever the interleaving: a job's attempt N+1 fires only after the plan heard that attempt N
asked for it (no two attempts of one job can be out at once); nothing is posted twice; once every
due job and outcome is delivered, no job is still due or attempted; and when the platform
recovers, channels are resumed and the clock runs out, every job ends in a final state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Effects, Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.retention import PastRetention
from services.scheduler.store_memory import MemoryJobStore
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.events import (
    Approval,
    ChannelStateRecorded,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    JobDue,
    JobPlanned,
    JobState,
    OutcomeStatus,
    PlatformError,
    Priority,
    PublishOutcome,
)

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
RETENTION = PlanSettings().retention
CHANNELS = ("fb-a", "fb-b")
DIRECTORY = ChannelDirectory(
    channels=tuple(Channel(id=c, platform="facebook", min_gap_minutes=0) for c in CHANNELS)
)
FINAL = {
    JobState.PUBLISHED,
    JobState.FAILED,
    JobState.DEAD,
    JobState.UNCONFIRMED,
    JobState.WITHDRAWN,
    JobState.SUPERSEDED,
}
# What the platform may answer an attempt with; "crash" = the publisher dies after recording
# ``attempted`` (before or after the platform got the post), and the job is redelivered.
RESULTS = ("published", "retry", "failed", "dead", "unconfirmed", "needs_reauth", "crash", "crash_posted")


@dataclass
class Ledger:
    attempt: int
    status: OutcomeStatus


class PlanWorld(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.plan = self._new_plan()
        self.changelog: dict[str, JobPlanned] = {}
        self.channel_log: dict[str, ChannelStateRecorded] = {}
        self.publish_topic: list[JobDue] = []
        self.outcome_topic: list[PublishOutcome] = []
        self.delivered: list[PublishOutcome] = []
        self.ledger: dict[str, Ledger] = {}
        self.posts: defaultdict[str, int] = defaultdict(int)
        self.asked: defaultdict[str, set[int]] = defaultdict(set)  # attempts that asked for another
        self.fired: defaultdict[str, list[int]] = defaultdict(list)
        self.items = 0
        self.ids = 0
        self.approvals: list[ContentApproved] = []

    # ---- the world's plumbing ------------------------------------------------------------------
    def _new_plan(self) -> Plan:
        return Plan(DIRECTORY, NaiveChooser(), PlanSettings(event_id_prefix="p"), store=MemoryJobStore())

    def _apply(self, fx: Effects) -> None:
        for job in fx.jobs:
            self.changelog[job.job_id] = job
        for job in fx.forgotten:
            del self.changelog[job.job_id]  # its tombstone
        for snapshot in fx.channels:
            self.channel_log[snapshot.channel] = snapshot
        for due in fx.due:
            if due.purpose != "publish":
                continue
            if due.attempt > 1:
                assert due.attempt - 1 in self.asked[due.job_id], (
                    f"{due.job_id} fired attempt {due.attempt} without attempt {due.attempt - 1} asking for it"
                )
            assert not self.fired[due.job_id] or due.attempt >= self.fired[due.job_id][-1]
            self.fired[due.job_id].append(due.attempt)
            self.publish_topic.append(due)

    def _handle(self, channel: str, event: ContentApproved | ControlIssued | PublishOutcome) -> None:
        self._apply(self.plan.handle(channel, event, self.now))

    def _event_id(self) -> str:
        self.ids += 1
        return f"w-{self.ids}"

    def _outcome(self, due: JobDue, status: OutcomeStatus, **extra: object) -> PublishOutcome:
        return PublishOutcome(
            event_id=self._event_id(),
            occurred_at=self.now,
            job_id=due.job_id,
            content_id=due.content_id,
            channel=due.channel,
            platform="facebook",
            attempt=due.attempt,
            status=status,
            **extra,
        )

    def _record(self, due: JobDue, status: OutcomeStatus, **extra: object) -> None:
        self.ledger[due.job_id] = Ledger(due.attempt, status)
        self.outcome_topic.append(self._outcome(due, status, **extra))

    def _publish(self, due: JobDue, result: str) -> None:
        """The publisher's rules for one delivered due job (services/publisher/worker.py)."""
        entry = self.ledger.get(due.job_id)
        if entry is not None and (
            entry.attempt > due.attempt
            or (entry.attempt == due.attempt and entry.status is not OutcomeStatus.ATTEMPTED)
            or entry.status is OutcomeStatus.PUBLISHED
        ):
            # Settled: answered with the settled outcome again, never re-sent.
            self.outcome_topic.append(
                self._outcome(due, entry.status).model_copy(update={"attempt": entry.attempt})
            )
            return
        if entry is not None and entry.status is OutcomeStatus.ATTEMPTED and self.posts[due.job_id]:
            self._record(due, OutcomeStatus.PUBLISHED, post_id="p")  # reconciled: it is there
            return
        self._record(due, OutcomeStatus.ATTEMPTED)
        if result.startswith("crash"):
            if result == "crash_posted":
                self.posts[due.job_id] += 1
            self.publish_topic.insert(0, due)  # uncommitted: redelivered to the next worker
            return
        if result == "published":
            self.posts[due.job_id] += 1
            self._record(due, OutcomeStatus.PUBLISHED, post_id="p")
            return
        status = OutcomeStatus(result)
        error = PlatformError(code=result, message=result)
        retry_at = self.now + timedelta(seconds=30) if status is OutcomeStatus.RETRY else None
        self._record(due, status, error=error, retry_at=retry_at)

    # ---- commands ------------------------------------------------------------------------------
    @rule(
        channels=st.sets(st.sampled_from(CHANNELS), min_size=1),
        urgent=st.booleans(),
        wait_min=st.integers(0, 180),
    )
    def approve(self, channels: set[str], urgent: bool, wait_min: int) -> None:
        self.items += 1
        content_id = f"c{self.items}"
        event = ContentApproved(
            event_id=self._event_id(),
            occurred_at=self.now,
            content_id=content_id,
            priority=Priority.URGENT if urgent else Priority.NORMAL,
            not_before=self.now + timedelta(minutes=wait_min) if wait_min else None,
            author="rina",
            approval=Approval(approved_by="yuyun", approved_at=self.now),
            submitted_by="yuyun",
            variants=tuple(
                ChannelVariant(channel=c, content=Content(text=content_id)) for c in sorted(channels)
            ),
        )
        self.approvals.append(event)
        for channel in sorted(channels):
            self._handle(channel, event)

    @precondition(lambda self: self.approvals)
    @rule(data=st.data())
    def redeliver_approval(self, data: st.DataObject) -> None:
        """The router is at-least-once, and an operator may replay an old approval."""
        event = data.draw(st.sampled_from(self.approvals))
        for variant in event.variants:
            try:
                self._handle(variant.channel, event)
            except PastRetention:
                # Dead-lettered: only ever for a job the plan no longer holds.
                assert self.plan.job(f"{event.content_id}:{variant.channel}") is None

    @rule()
    def weeks_pass(self) -> None:
        self.now += RETENTION + timedelta(seconds=1)
        self._apply(self.plan.fire(self.now))
        self._apply(self.plan.forget_finished(self.now, limit=10_000))

    @precondition(lambda self: self.items > 0)
    @rule(data=st.data(), action=st.sampled_from([ControlAction.WITHDRAW, ControlAction.SUPERSEDE]))
    def withdraw(self, data: st.DataObject, action: ControlAction) -> None:
        content_id = f"c{data.draw(st.integers(1, self.items))}"
        event = ControlIssued(
            event_id=self._event_id(),
            occurred_at=self.now,
            action=action,
            content_id=content_id,
            by="op",
            reason="r",
        )
        for channel in CHANNELS:
            self._handle(channel, event)

    @rule(
        channel=st.sampled_from(CHANNELS), action=st.sampled_from([ControlAction.PAUSE, ControlAction.RESUME])
    )
    def pause_or_resume(self, channel: str, action: ControlAction) -> None:
        event = ControlIssued(
            event_id=self._event_id(),
            occurred_at=self.now,
            action=action,
            channels=(channel,),
            by="op",
            reason="r",
        )
        self._handle(channel, event)

    @rule(seconds=st.integers(0, 3 * 3600))
    def clock(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)
        self._apply(self.plan.fire(self.now))

    # ---- the publisher and the outcomes ------------------------------------------------------
    @precondition(lambda self: self.publish_topic)
    @rule(result=st.sampled_from(RESULTS))
    def publisher_takes_one(self, result: str) -> None:
        self._publish(self.publish_topic.pop(0), result)

    @precondition(lambda self: self.outcome_topic)
    @rule()
    def deliver_outcome(self) -> None:
        outcome = self.outcome_topic.pop(0)
        self.delivered.append(outcome)
        if outcome.status in (OutcomeStatus.RETRY, OutcomeStatus.NEEDS_REAUTH):
            job = self.plan.job(outcome.job_id)
            if job is not None and outcome.attempt >= job.attempt:
                self.asked[outcome.job_id].add(outcome.attempt)
        self._handle(outcome.channel, outcome)

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def redeliver_outcome(self, data: st.DataObject) -> None:
        self._handle_again(data.draw(st.sampled_from(self.delivered)))

    def _handle_again(self, outcome: PublishOutcome) -> None:
        self._handle(outcome.channel, outcome)

    # ---- restores ------------------------------------------------------------------------------
    @rule()
    def restore(self) -> None:
        self._restore(self.changelog)

    @precondition(lambda self: any(j.state is JobState.DUE for j in self.changelog.values()))
    @rule(data=st.data())
    def restore_losing_a_due_record(self, data: st.DataObject) -> None:
        """A crash between ``JobDue`` and the plan record saying so, as before transactions:
        the job comes back as it was before it fired, while its ``JobDue`` is out."""
        due = sorted(j for j, r in self.changelog.items() if r.state is JobState.DUE)
        job_id = data.draw(st.sampled_from(due))
        record = self.changelog[job_id]
        earlier = JobState.RETRYING if record.attempt > 1 else JobState.SCHEDULED
        self.changelog[job_id] = record.model_copy(update={"state": earlier})
        self._restore(self.changelog)

    def _restore(self, changelog: dict[str, JobPlanned]) -> None:
        self.plan = self._new_plan()
        for snapshot in self.channel_log.values():
            self.plan.restore_channel(snapshot)
        rows = [restore_row(encode(job), 0) for job in changelog.values()]
        self.plan.store.put_raw([r for r in rows if r is not None])
        for channel in CHANNELS:
            self.plan.channel_plan(channel)
        self.plan.index_restored([0])

    # ---- what must always hold -----------------------------------------------------------------
    @invariant()
    def nothing_posted_twice(self) -> None:
        assert all(n <= 1 for n in self.posts.values()), dict(self.posts)

    @invariant()
    def nothing_due_once_everything_is_delivered(self) -> None:
        if self.publish_topic or self.outcome_topic:
            return
        stuck = [
            (j.job_id, j.state.value, j.attempt)
            for j in self.changelog.values()
            if j.state in (JobState.DUE, JobState.ATTEMPTED)
        ]
        assert not stuck, f"due or attempted with nothing left to deliver: {stuck}"

    def teardown(self) -> None:
        """The storm ends: every channel resumed, every attempt answered, the clock runs out."""
        for _ in range(200):
            for channel in CHANNELS:
                self.pause_or_resume(channel, ControlAction.RESUME)
            # The planner ticks: the clock moves to the next instant the plan waits for.
            next_at = self.plan.next_instant()
            if next_at is not None:
                self.now = max(self.now, datetime.fromtimestamp(next_at, UTC) + timedelta(seconds=1))
            self._apply(self.plan.fire(self.now))
            while self.publish_topic or self.outcome_topic:
                if self.publish_topic:
                    self._publish(self.publish_topic.pop(0), "published")
                if self.outcome_topic:
                    self.deliver_outcome()
            if all(j.state in FINAL for j in self.changelog.values()):
                break
        left = {j.job_id: (j.state.value, j.attempt) for j in self.changelog.values() if j.state not in FINAL}
        assert not left, f"jobs that never reached a final state: {left}"
        assert all(n <= 1 for n in self.posts.values())


PlanWorld.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestPlanLifecycle = PlanWorld.TestCase

"""The publisher loop for one platform: due jobs in, platform calls out, outcomes recorded.

Exactly once, per job and attempt, through the attempt ledger (``attempt_ledger``): its entry
for the job decides first (``ledger_decision.next_step``: a settled attempt is answered again,
never re-sent; an attempt that may have reached the platform is reconciled with it first, by
``reconciler``; otherwise the job is sent). ``attempted`` is recorded (acknowledged by the
broker) before the platform is called; the outcome after it is one Kafka transaction with the
job's consumer offset.

Concurrency: each fetched record goes to its channel's lane (a FIFO with its own task); lanes
run concurrently, so a slow account never holds another account's due jobs back, and one job's
deliveries never overtake each other (a job is one channel). A partition's offset is committed
only past records that are all settled (``lanes.OffsetTracker``); when partitions are revoked,
their running records finish before the partitions are let go, and their queued ones are left
to the next owner. Calls themselves, within each account's rate limit and unless an operator's
command stops the post (``control``, a ``control_follower``): ``platform_call``. A record that raises in a lane goes to the dead-letter
topic with its error and counts as settled (``shared.dead_letters``); only a broker failure stops
the worker, and then its record is never committed, so it is redelivered. What the ledger holds
for a dead-lettered job stays true (it is written only once the broker acknowledged), so a replay
of the letter reconciles an attempt that may have reached the platform, never re-sends blindly.

Fencing. Revocation waits for running records only so long, and a video upload may run for
``upload_timeout_s``: a record can outlive its partition here. Each assignment of a partition is
a new generation (the event in ``_owned``); a record remembers the generation it started under,
and ``_record`` refuses to write for a generation that is gone (``Fenced``), so a stale owner's
late outcome never lands on the ledger — the new owner settles the job itself. Each
``attempted`` record carries a lease (its time + the publish timeout + ``LEASE_MARGIN``): the
new owner, reconciling, does not take "absent" for proof while the lease runs, unless the
platform folds two sends into one (``Absent.safe_while_live``), so it never starts a second
upload beside the old owner's. A replica restarted with the same instance id fences its dead
predecessor through the ledger's transactional id, so it need not wait out that one's leases
(``ledger_decision``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from contextvars import ContextVar
from datetime import timedelta

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind

from services.publisher.adapters.port import Adapter, PublishRequest, Target
from services.publisher.decide import Decision, RetryPolicy
from services.publisher.lanes import Entry, OffsetTracker, lane_key
from services.publisher.ledger_decision import Reconcile, Skip, next_step
from services.publisher.platform_call import ControlGate
from services.publisher.ratelimit import RateLimits
from services.publisher.worker_wiring import LEASE_MARGIN, Budget, due_jobs_consumer, wire
from shared.channels import Channel, ChannelDirectory
from shared.clock import Clock, utcnow
from shared.codec import decode_as
from shared.credentials import SecretsError
from shared.credentials.secret_store import SecretStore
from shared.events import MODERATIONS, JobDue, OutcomeStatus, PlatformError, PublishOutcome
from shared.inbox_events import moderation_of
from shared.kafka_connection import KafkaAddress
from shared.metrics import PublisherMetrics
from shared.topics import TopicRegistry
from shared.tracing import span
from shared.watchdog import Watchdog

log = logging.getLogger("warta.publisher")

Lane = asyncio.Queue[tuple[Entry[TopicPartition], ConsumerRecord[bytes, bytes]]]

# The generation of the partition the running record belongs to, and the record's offset entry
# (set per record by its lane): a settling outcome commits that offset with it.
_GENERATION: ContextVar[asyncio.Event | None] = ContextVar("publisher_generation", default=None)
_HANDLING: ContextVar[Entry[TopicPartition] | None] = ContextVar("publisher_handling", default=None)


class Fenced(Exception):
    """This worker no longer owns the record's partition: it must not write for it."""


def marker_for(job_id: str) -> str:
    """Stable across attempts of one job, so any attempt can find what an earlier one posted."""
    return "w" + hashlib.sha256(job_id.encode()).hexdigest()[:16]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: PublisherWorker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._worker.release(set(revoked))
        self._worker.forget({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._worker.take_over(set(assigned))


class PublisherWorker:
    def __init__(
        self,
        *,
        bootstrap: KafkaAddress,
        topics: TopicRegistry,
        group: str,
        platform: str,
        channels: ChannelDirectory,
        adapter: Adapter,
        secrets: SecretStore,
        producer: AIOKafkaProducer,
        limits: RateLimits,
        retry: RetryPolicy,
        call_timeout_s: float = 30.0,
        upload_timeout_s: float | None = None,
        max_local_wait_s: float = 2.0,
        max_in_flight: int = 500,
        lease_margin: timedelta = LEASE_MARGIN,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        metrics: PublisherMetrics | None = None,
        watchdog: Watchdog | None = None,
        instance_id: str = "",
        consumer: AIOKafkaConsumer | None = None,
        transactions: AIOKafkaProducer | None = None,
        ledger_retention: timedelta | None = None,
        retention_sweep_s: float = 60.0,
        control: ControlGate | None = None,
    ) -> None:
        self._topics, self._platform, self._channels = topics, platform, channels
        self._secrets, self._limits = secrets, limits
        self._metrics, self._watchdog, self._max_in_flight = metrics, watchdog, max_in_flight
        self._budget = Budget.of(adapter, call_timeout_s, upload_timeout_s, lease_margin)
        self._clock = clock or utcnow
        self._idle()
        self._consumer = consumer or due_jobs_consumer(bootstrap, group)
        self._retention_sweep_s = retention_sweep_s
        self._parts = wire(
            bootstrap=bootstrap,
            topics=topics,
            group=group,
            platform=platform,
            adapter=adapter,
            producer=producer,
            limits=limits,
            retry=retry,
            budget=self._budget,
            max_local_wait_s=max_local_wait_s,
            clock=self._clock,
            rng=rng or random.Random(),
            instance_id=instance_id,
            transactions=transactions,
            settled=self._offsets.committable,
            after_wait=self._check_generation,
            ledger_retention=ledger_retention,
            control=control,
        )
        self.ledger, self.dead_letters = self._parts.ledger, self._parts.dead_letters
        self.outcomes: dict[str, int] = {}  # by status, for metrics
        self.last_error: PlatformError | None = None

    def _idle(self) -> None:
        """The state before the first assignment: nothing owned, no lane, nothing failed."""
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        # Owned partitions; each event is set once the partition's ledger is restored.
        self._owned: dict[TopicPartition, asyncio.Event] = {}
        self._lanes: dict[bytes, Lane] = {}
        self._lane_tasks: list[asyncio.Task[None]] = []
        self._progress = asyncio.Event()
        self._failure: BaseException | None = None

    # ---- ledger ------------------------------------------------------------------------------
    async def restore(self, partitions: set[int]) -> None:
        await self.ledger.restore(partitions)

    def forget(self, partitions: set[int]) -> None:
        self.ledger.forget(partitions)

    # ---- loop --------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        await self.ledger.start()
        loop = asyncio.get_running_loop()
        last_commit = last_sweep = loop.time()
        try:
            self._consumer.subscribe([self._topics.publish(self._platform)], listener=_Rebalance(self))
            await self._consumer.start()
            while not stop.is_set():
                if self._watchdog is not None:
                    self._watchdog.beat("publisher")
                if self._failure is not None:
                    raise self._failure
                # Back-pressure: with the lanes full, stop fetching but keep polling, so the
                # group doesn't take this member for dead while a platform is slow.
                if self._offsets.in_flight() >= self._max_in_flight:
                    self._consumer.pause(*self._consumer.assignment())
                elif self._consumer.paused():
                    self._consumer.resume(*self._consumer.paused())
                batch = await self._consumer.getmany(timeout_ms=100, max_records=100)
                for tp, records in batch.items():
                    for record in records:
                        self._dispatch(tp, record)
                if batch and loop.time() - last_commit < 1.0:
                    continue  # due records first: committing can wait for a quiet moment
                await self.ledger.commit_settled()
                last_commit = loop.time()
                if last_commit - last_sweep >= self._retention_sweep_s:
                    last_sweep = last_commit
                    await self.ledger.forget_final()
            await self._drain(self._budget.call_timeout_s)
            await self.ledger.commit_settled()
        finally:
            for task in self._lane_tasks:
                task.cancel()
            await asyncio.gather(*self._lane_tasks, return_exceptions=True)
            await self._consumer.stop()
            await self.ledger.stop()

    async def take_over(self, partitions: set[TopicPartition]) -> None:
        """Own ``partitions``; their records wait in their lanes until the ledger is restored.

        aiokafka may hand out records of a partition before this callback returns: no job may
        be handled before its earlier attempts are known.
        """
        events = {tp: asyncio.Event() for tp in partitions}
        self._owned.update(events)
        for attempt in range(1, 4):
            try:
                await self.restore({tp.partition for tp in partitions})
                break
            except KafkaError as exc:
                log.warning(
                    "restoring the ledger of %s failed (try %d): %r", sorted(partitions), attempt, exc
                )
                await asyncio.sleep(attempt)
        else:
            self._failure = RuntimeError(f"cannot restore the attempt ledger of {sorted(partitions)}")
            self._progress.set()
            return
        for event in events.values():
            event.set()

    async def release(self, partitions: set[TopicPartition]) -> None:
        """Before giving partitions up: let their running records finish and commit what settled.

        Queued records of those partitions are skipped and stay unsettled, so the commit stops
        before them and their next owner handles them (marking them settled lost jobs: found by
        bench/scale.py with two workers). A record still running would otherwise race the next
        owner's reconciliation of the same job, so it is waited for.
        """
        for tp in partitions:
            event = self._owned.pop(tp, None)
            if event is not None:
                event.set()  # wakes lanes waiting on it; they see it is gone and skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._budget.call_timeout_s * 2
        while self._offsets.running(partitions) and loop.time() < deadline:
            await self._settled_some(deadline - loop.time())
        with contextlib.suppress(Exception):  # the group may already have moved on: redelivery is safe
            await self.ledger.commit_settled()
        self._offsets.drop(partitions)

    def _dispatch(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        entry = self._offsets.track(tp, record.offset)
        key = lane_key(record.key)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = asyncio.Queue()
            self._lane_tasks.append(asyncio.create_task(self._lane(lane)))
        lane.put_nowait((entry, record))

    async def _lane(self, queue: Lane) -> None:
        while True:
            entry, record = await queue.get()
            restored = self._owned.get(entry.partition)
            if restored is not None:
                await restored.wait()
            if entry.partition not in self._owned:
                # Its partition went to another worker: not handled here, and not marked done, so
                # no commit can move past it; the next owner reads it from the committed offset.
                self._progress.set()
                continue
            entry.running = True
            _GENERATION.set(self._owned.get(entry.partition))
            _HANDLING.set(entry)
            try:
                await self._parts.dead_letters.handled(record, self.handle, None, lets_through=(Fenced,))
            except Fenced as exc:
                # Not marked done: the partition's new owner reads the record and settles it.
                log.warning("%s@%s left to the partition's new owner: %s", record.topic, record.offset, exc)
                self._progress.set()
                continue
            except Exception as exc:
                # The broker failed: never committed (the writer is broken), redelivered after
                # the restart.
                log.exception("stopping: broker failure handling %s@%s", record.topic, record.offset)
                self._failure = exc
                self._progress.set()
                return
            finally:
                entry.running = False
            entry.done = True
            self._progress.set()

    async def _settled_some(self, timeout: float) -> None:
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), max(0.0, timeout))

    async def _drain(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._offsets.in_flight() and self._failure is None and loop.time() < deadline:
            await self._settled_some(deadline - loop.time())

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        due = decode_as(record.value, JobDue)  # an undecodable record is dead-lettered by the lane
        channel = self._channels.get(due.channel)
        if channel is None or channel.platform != self._platform:
            # Recorded as the job's outcome, not only dead-lettered: the scheduler holds it due.
            reason = f"channel {due.channel!r} is not a {self._platform} channel in this configuration"
            error = PlatformError(code="unknown_channel", message=reason)
            await self._record(due, record.partition, Decision(OutcomeStatus.DEAD, error=error))
            return
        if due.purpose in ("reply", *MODERATIONS) and due.reply_to is None:
            error = PlatformError(code="no_reply_target", message=f"a {due.purpose} job names no comment")
            await self._record(due, record.partition, Decision(OutcomeStatus.FAILED, error=error))
            return
        if due.purpose == "measure":
            await self._parts.engagement.measure(due, lambda: self._target(channel))
            return
        with span(
            "publisher.publish",
            parent=due.traceparent,
            kind=SpanKind.CONSUMER,
            job_id=due.job_id,
            channel=due.channel,
            platform=self._platform,
            attempt=due.attempt,
        ):
            await self._publish(due, channel, record.partition)

    # ---- publishing --------------------------------------------------------------------------
    async def _publish(self, due: JobDue, channel: Channel, partition: int) -> None:
        entry = self.ledger.get(due.job_id)
        step = next_step(entry, due, me=self.ledger.me, lease=self._budget.lease)
        if isinstance(step, Skip):
            log.info(
                "%s attempt %d already settled (%s); answered again, not re-sent",
                due.job_id,
                due.attempt,
                step.entry.status,
            )
            self._check_generation(partition)
            await self.ledger.announce(step.entry, settles=_HANDLING.get())
            return
        try:
            target = self._target(channel)
        except SecretsError as exc:
            error = PlatformError(code="missing_credentials", message=str(exc))
            await self._record(due, partition, Decision(OutcomeStatus.NEEDS_REAUTH, error=error))
            return
        request = PublishRequest(
            job_id=due.job_id,
            attempt=due.attempt,
            content=due.content,
            marker=marker_for(due.job_id),
            first_attempt_at=entry.first_attempt_at if entry is not None else None,
            earlier_attempt_until=step.live_until if isinstance(step, Reconcile) else None,
            reply_to=due.reply_to if due.purpose in ("reply", *MODERATIONS) else None,
            moderate=moderation_of(due.purpose),
        )
        if isinstance(step, Reconcile):
            settled = await self._parts.reconciler.reconcile(target, request)
            if settled is not None:
                await self._record(due, partition, settled)
                return
        decision = await self._parts.caller.publish(
            channel.id,
            target,
            request,
            before_call=lambda: self._record(due, partition, Decision(OutcomeStatus.ATTEMPTED)),
            blackouts=channel.blackouts,
            deadline=due.deadline,
            content_id=due.content_id,
        )
        await self._record(due, partition, decision)

    def _check_generation(self, partition: int | None = None) -> None:
        generation = _GENERATION.get()
        if generation is None:
            return  # called outside a lane (a direct call of ``handle``): nothing to fence
        owned = [tp for tp, ev in self._owned.items() if ev is generation]
        if not owned or (partition is not None and owned[0].partition != partition):
            raise Fenced("its partition was reassigned while it ran")

    async def _record(self, due: JobDue, partition: int, decision: Decision) -> PublishOutcome:
        self._check_generation(partition)
        outcome = await self.ledger.record(due, partition, decision, settles=_HANDLING.get())
        self.outcomes[decision.status.value] = self.outcomes.get(decision.status.value, 0) + 1
        if self._metrics is not None:
            limiter = self._limits.for_channel(due.channel)
            self._metrics.headroom.labels(self._platform, due.channel).set(limiter.headroom(self._clock()))
        if decision.error is not None:
            self.last_error = decision.error
        log.info("%s attempt %d → %s", due.job_id, due.attempt, decision.status.value)
        return outcome

    def _target(self, channel: Channel) -> Target:
        return Target(
            channel=channel.id,
            account=channel.account,
            base_url=channel.base_url or "",
            credentials=self._secrets.get(channel.secret or channel.id),
            options=dict(channel.options),
        )

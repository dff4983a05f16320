"""The planner loop: owns the channels of its ``schedule.commands`` partitions, holds their plan
durably on ``schedule.jobs``/``schedule.channels`` and fires due jobs.

One asyncio task does everything (commands and firing), so the plan never sees two changes at
once. On assignment it rebuilds the owned partitions' plan from the compacted changelogs before
acting; on revocation it forgets them. Each step's effects — due jobs, the plan records that say
they are due, the scheduler's own outcomes, channel snapshots — and the offsets of the commands
that caused them are one Kafka transaction (``shared.kafka_txn``): a crash leaves all or none of
them, so a restored plan never re-fires a job that went out, nor loses one that did not.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

import orjson
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)

from services.scheduler.plan import Effects, Plan
from services.scheduler.restore import KeptStore, Restorer
from services.scheduler.retention import FINISHED_NAMES
from services.scheduler.store import RestoreRow
from shared.channels import ChannelDirectory
from shared.clock import Clock, utcnow
from shared.codec import decode, encode
from shared.dead_letters import DeadLetters
from shared.events import JobDue
from shared.kafka_connection import KafkaAddress, client_args
from shared.kafka_txn import (
    Offsets,
    Outgoing,
    TransactionalWriter,
    Written,
    make_transactional_producer,
    transactional_id,
)
from shared.metrics import SchedulerMetrics
from shared.partitioning import partition_for
from shared.topics import TopicRegistry
from shared.tracing import current_traceparent, span
from shared.watchdog import Watchdog

log = logging.getLogger("warta.scheduler.planner")

# Jobs forgotten per sweep: one transaction of tombstones, ~20 ms of the loop (docs/operations.md).
_SWEEP_LIMIT = 500


def restore_row(value: bytes | None, partition: int) -> RestoreRow | None:
    """The store row of one changelog record, read with orjson only (validated when used)."""
    if value is None:
        return None
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or raw.get("event_type") != "job.planned":
        return None
    job_id, channel, state = raw.get("job_id"), raw.get("channel"), raw.get("state")
    if not (isinstance(job_id, str) and isinstance(channel, str) and isinstance(state, str)):
        return None
    topic_key = raw.get("topic_key")
    measures = raw.get("measure_at")
    measure = _epoch(measures[0]) if isinstance(measures, list) and measures else None
    return (
        job_id,
        channel,
        partition,
        state,
        topic_key if isinstance(topic_key, str) else None,
        _epoch(raw.get("slot")),
        measure,
        _epoch(raw.get("occurred_at")) if state in FINISHED_NAMES and measure is None else None,
        value,
    )


def release_freed_memory() -> None:
    """A restore churns through millions of short-lived objects; give the freed heap back to the
    OS (glibc keeps it otherwise), so resident memory reflects what the plan really holds."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to trim
        return
    libc.malloc_trim(0)


def _epoch(iso: object) -> float | None:
    if not isinstance(iso, str):
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def _traced(due: JobDue) -> JobDue:
    """``due`` continuing its item's trace with a span for its firing (unchanged when off)."""
    if due.traceparent is None:
        return due
    with span("scheduler.fire", parent=due.traceparent, job_id=due.job_id, channel=due.channel):
        return due.model_copy(update={"traceparent": current_traceparent() or due.traceparent})


def _commands_consumer(bootstrap: KafkaAddress, group: str, session_timeout_ms: int) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **client_args(bootstrap),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        # The loop polls nothing while it restores (a minute at a million jobs, ``assigned``).
        max_poll_interval_ms=300_000,
        # A loaded machine can starve the event loop for seconds: room before eviction.
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(1_000, session_timeout_ms // 15),
    )


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, planner: Planner) -> None:
        self._planner = planner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._planner.revoke({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # aiokafka sends no heartbeat until this returns (it stops them for the rejoin): a
        # restore run here that outlasts the session timeout gets the member evicted, and the
        # rebalance that follows restores everything again. The loop restores instead.
        self._planner.assigned({tp.partition for tp in assigned})


class Planner:
    def __init__(
        self,
        bootstrap: KafkaAddress,
        topics: TopicRegistry,
        group: str,
        channels: ChannelDirectory,
        plan: Plan,
        producer: AIOKafkaProducer,
        *,
        tick_s: float = 0.2,
        retention_sweep_s: float = 60.0,
        clock: Clock = utcnow,
        metrics: SchedulerMetrics | None = None,
        watchdog: Watchdog | None = None,
        kept: KeptStore | None = None,
        instance_id: str = "",
        transactions: AIOKafkaProducer | None = None,
        session_timeout_ms: int = 45_000,
    ) -> None:
        self._bootstrap = bootstrap
        # Its own producer, transactional: ``producer`` (shared with the router) writes outside
        # transactions and carries only dead letters here, whose ids make a repeat harmless.
        self._transactions = transactions or make_transactional_producer(
            bootstrap, "warta-scheduler-planner", transactional_id(group, instance_id)
        )
        self._writer = TransactionalWriter(self._transactions, group)
        self._topics = topics
        self._channels = channels
        self._plan = plan
        self._producer = producer
        self._tick_s = tick_s
        self._retention_sweep_s = retention_sweep_s
        self._swept_at = float("-inf")  # monotonic time of the last retention sweep
        self.forgotten = 0
        self._clock = clock
        self._metrics = metrics
        self._watchdog = watchdog
        self._consumer = _commands_consumer(bootstrap, group, session_timeout_ms)
        self._owned: set[int] = set()
        self._unrestored: set[int] = set()  # assigned, not restored yet: the loop's next step
        self._restorer = Restorer(bootstrap, topics, plan, restore_row, kept, progress=self._restoring)
        self._kept = kept is not None
        self.restore_seconds = 0.0  # of the last restore
        self.restores = 0  # one per assignment: more than one in a run means rebalances
        self.restored_records = 0  # job records the last restore replayed from schedule.jobs
        self.warm_partitions: set[int] = set()  # of the last restore: only their tail replayed
        self.fired = 0
        self.lateness: deque[float] = deque(maxlen=10_000)  # seconds from slot to acknowledged firing
        self.on_fired: Callable[[float], None] | None = None
        self._dead_letters = DeadLetters(
            topics.publish_dead, "scheduler-planner", producer=producer, on_letter=self._count_poison
        )

    @property
    def plan(self) -> Plan:
        return self._plan

    def _restoring(self) -> None:
        """A restore moved on: the loop, waiting for it, is alive."""
        if self._watchdog is not None:
            self._watchdog.beat("planner")

    def _partition_of(self, channel: str) -> int:
        return partition_for(channel, self._topics.partitions)

    def owns(self, channel: str) -> bool:
        """Whether this worker holds ``channel``'s plan (its commands' partition is restored here)."""
        return self._partition_of(channel) in self._owned

    async def restore(self, partitions: set[int]) -> None:
        """Rebuild the plan of newly owned partitions from the compacted changelogs (only their
        tail when a kept store's checkpoint matches: restore.py)."""
        started = time.perf_counter()
        async with self._restorer.lock:  # never in the middle of a step's store transaction
            jobs, skipped, warm = await self._restorer.restore(partitions)
            self.restored_records, self.warm_partitions = jobs, set(warm)
            # Reads nothing now: the timers and instants come from the store as they are needed.
            self._plan.index_restored(partitions)
            # Only now may the loop act on these partitions' commands (``_restored``): the plan
            # holds their jobs, their timers and their channels' flags.
            self._owned |= partitions
        release_freed_memory()
        took = time.perf_counter() - started
        self.restore_seconds = took
        self.restores += 1
        if self._metrics is not None:
            self._metrics.restore.observe(took)
        log.info(
            "restored partitions %s (warm: %s): %d plan records replayed (%d unreadable) in %.2f s",
            sorted(partitions),
            warm,
            jobs,
            skipped,
            took,
        )

    def assigned(self, partitions: set[int]) -> None:
        """Newly assigned: the loop restores them (``restore_assigned``) before it acts on them."""
        self._unrestored |= partitions

    async def restore_assigned(self) -> None:
        """Restore what was assigned since the last call, outside the rebalance callback, so the
        group's heartbeats go on meanwhile."""
        if self._unrestored:
            todo, self._unrestored = self._unrestored, set()
            await self.restore(todo)

    async def checkpoint(self) -> None:
        """Call once ``run`` has returned normally, so every plan write is acknowledged: writes
        the kept store's checkpoint, for the next start to replay only what comes after it."""
        await self._restorer.checkpoint()

    async def revoke(self, partitions: set[int]) -> None:
        # Nothing to commit: offsets go with the effects they caused, in one transaction.
        async with self._restorer.lock:
            self._unrestored -= partitions
            self._owned -= partitions
            self._restorer.forget(partitions)
            # A kept store keeps their rows: if the next assignment brings them back, it resumes.
            self._plan.drop_partitions(partitions, keep_rows=self._kept)

    async def apply(self, fx: Effects, offsets: Offsets | None = None) -> Written:
        """Write ``fx`` and commit ``offsets`` (the commands that caused it) atomically; returns
        where the records went."""
        if not fx and not offsets:
            return {}
        records = [Outgoing(self._topics.publish(d.platform), encode(d), d.job_id.encode()) for d in fx.due]
        records += [
            Outgoing(self._topics.schedule_jobs, encode(j), j.job_id.encode(), self._partition_of(j.channel))
            for j in fx.jobs
        ]
        records += [
            Outgoing(self._topics.publish_outcomes, encode(o), o.content_id.encode()) for o in fx.outcomes
        ]
        records += [  # tombstones: the compacted plan forgets finished jobs (retention.py)
            Outgoing(self._topics.schedule_jobs, None, j.job_id.encode(), self._partition_of(j.channel))
            for j in fx.forgotten
        ]
        snapshots = [(c.channel, self._partition_of(c.channel), encode(c)) for c in fx.channels]
        records += [Outgoing(self._topics.schedule_channels, v, c.encode(), p) for c, p, v in snapshots]
        written = await self._writer.write(records, offsets)
        self._restorer.keep_channels(snapshots)
        self.fired += len(fx.due)
        for note in fx.notes:
            log.info("%s", note)
        return written

    async def run(self, stop: asyncio.Event) -> None:
        await self._transactions.start()
        try:
            self._consumer.subscribe([self._topics.schedule_commands], listener=_Rebalance(self))
            await self._consumer.start()
            while not stop.is_set():
                if self._watchdog is not None:
                    self._watchdog.beat("planner")
                await self.restore_assigned()
                batch = await self._consumer.getmany(timeout_ms=self._wait_ms(), max_records=500)
                batch = await self._restored(batch)
                # A whole batch of commands is one transaction with its offsets: a crash before
                # it commits replays the batch onto the plan rebuilt from the changelog, which
                # never saw the aborted writes (nor does a kept store: one step, restore.py).
                async with self._restorer.step() as wrote:
                    # Records of a partition revoked since are its next owner's.
                    batch = {tp: rs for tp, rs in batch.items() if tp.partition in self._owned}
                    effects = Effects()
                    for records in batch.values():
                        for record in records:
                            effects.extend(await self._command(record))
                    offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
                    wrote(await self.apply(effects, offsets))
                if batch and self._metrics is not None:
                    for records in batch.values():
                        self._metrics.consumed.labels(self._topics.schedule_commands).inc(len(records))
                await self._fire()
                await self._forget_finished()
        finally:
            await self._consumer.stop()
            await self._transactions.stop()

    async def _restored(
        self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        """The batch, once the plan of each of its partitions is restored.

        aiokafka marks a new assignment complete, and may hand out its records, before
        ``on_partitions_assigned`` has run: a command handled then acts on a plan without the
        partition's jobs (an outcome for a job not yet restored is dropped as unknown, and its
        offset committed) or one the restore then overwrites. Records of a partition taken away
        meanwhile are dropped; its next owner reads them.
        """
        while True:
            await self.restore_assigned()
            assigned = self._consumer.assignment()
            waiting = [tp for tp in batch if tp in assigned and tp.partition not in self._owned]
            if not waiting:
                return {tp: records for tp, records in batch.items() if tp in assigned}
            # No watchdog beat here: an assignment whose callback never comes must stall the
            # loop until the watchdog restarts the service.
            await asyncio.sleep(0.01)

    async def _command(self, record: ConsumerRecord[bytes, bytes]) -> Effects:
        # Plan.handle undoes its own changes when it raises, so a dead-lettered command leaves
        # the plan as it was before it (plan.py, "A command that raises").
        return await self._dead_letters.handled(record, self._handle, Effects())

    async def _handle(self, record: ConsumerRecord[bytes, bytes]) -> Effects:
        channel = record.key.decode("utf-8", "replace") if record.key else ""
        return self._plan.handle(channel, decode(record.value), self._clock())

    def _count_poison(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if self._metrics is not None:
            self._metrics.poison.labels(record.topic).inc()

    async def _fire(self) -> None:
        async with self._restorer.step() as wrote:
            fx = self._plan.fire(self._clock())
            if not fx:
                return
            fx.due = [_traced(due) for due in fx.due]
            wrote(await self.apply(fx))
        # Lateness counts until the broker acknowledged the due job: that is when it fired.
        acked = self._clock()
        for due in fx.due:
            if self._metrics is not None:
                self._metrics.fired.labels(due.channel, due.purpose).inc()
            if due.purpose == "publish":
                late = (acked - due.slot).total_seconds()
                self.lateness.append(late)
                if self.on_fired is not None:
                    self.on_fired(late)
                if self._metrics is not None:
                    self._metrics.lateness.labels(due.channel).observe(max(0.0, late))

    async def _forget_finished(self) -> None:
        """Now and then, tombstone the jobs finished longer than the retention ago."""
        if time.monotonic() - self._swept_at < self._retention_sweep_s:
            return
        self._swept_at = time.monotonic()
        async with self._restorer.step() as wrote:
            fx = self._plan.forget_finished(self._clock(), _SWEEP_LIMIT)
            if len(fx.forgotten) >= _SWEEP_LIMIT:
                self._swept_at = float("-inf")  # more are waiting: go on at the next turn
            if not fx:
                return
            wrote(await self.apply(fx))
        self.forgotten += len(fx.forgotten)
        log.info("forgot %d jobs finished longer than the retention ago", len(fx.forgotten))

    def _wait_ms(self) -> int:
        nxt = self._plan.next_instant()
        if nxt is None:
            return int(self._tick_s * 1000)
        gap = nxt - self._clock().timestamp()
        return max(0, min(int(gap * 1000), int(self._tick_s * 1000)))

"""Writes ingest's events to Kafka and waits for the broker's acknowledgement (acks=all).

Records written in the same moment share a batch: each write joins its partition's queue, and
one flusher per partition hands the producer everything queued as one record batch
(``send_batch``) with one delivery future, instead of a future, a partitioner call and a
metadata wait per record (``AIOKafkaProducer.send``). While the broker works on a batch, new
records wait in the queue and leave together as the next one.

While other writes wait too, a partition also hands over at most one batch per
``batch_window_s``, so its records wait up to that long for company: batches of ~2 records grew
to ~6 at 3 ms, and the producer's cost is mostly per batch (a batch builder, a delivery future,
a partition's entry in a produce request and in its response). A record reaching a partition
quiet for a window, or a writer with no other write waiting, leaves at once. The producer's own
linger cannot do this: ``send_batch`` hands over a closed batch, so lingering only delays it.

Partitions are chosen with the producer's own default partitioner (murmur2 of the key, as in
Java clients), so a key still lands where ``send`` would put it.

A write not acknowledged within ``ack_timeout_s`` answers 503, yet its record may already sit in
the producer's buffer: aiokafka cannot take a record back, and delivers it once the broker
returns. So a write made under an Idempotency-Key is *held* until the broker settles it: the
client's retry with the same key waits for that first record instead of writing a second one,
so the retry is accepted once and the topic holds exactly one event. A held write that the broker acknowledges late is handed to ``on_late_ack`` (the status
view), so the retry finds it as if the first answer had been 202. A record still in the queue
when its time runs out was never handed over, so it is dropped, not held.

Errors::

    KafkaUnavailable (shared.kafka)   not acknowledged in time, or refused by the broker
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import RecordMetadata, TopicPartition

from shared.codec import encode
from shared.events import Event
from shared.kafka import KafkaUnavailable, make_producer
from shared.kafka_connection import KafkaAddress

log = logging.getLogger("warta.ingest.writer")


class BatchProducer(Protocol):
    """What the writer needs of a producer: aiokafka's ``AIOKafkaProducer`` in production."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def partitions_for(self, topic: str) -> set[int]: ...

    def create_batch(self) -> BatchBuilder: ...

    async def send_batch(
        self, batch: BatchBuilder, topic: str, *, partition: int
    ) -> asyncio.Future[object]: ...


@dataclass(frozen=True)
class Held:
    """A write that timed out while the broker may still store it."""

    event: Event
    ack: asyncio.Future[object]


@dataclass(eq=False)
class _Record:
    key: bytes
    value: bytes
    event: Event
    hold: Hashable | None
    deadline: float
    answer: asyncio.Future[RecordMetadata]


@dataclass(eq=False)
class _Queue:
    """One partition's records not yet handed to the producer."""

    records: list[_Record] = field(default_factory=list)
    flushing: bool = False
    handed_at: float = float("-inf")  # when the last batch was handed over (loop time)


@dataclass(eq=False)
class _HandedOver:
    """A batch the producer has taken, until the broker settles it."""

    records: list[_Record]
    delivery: asyncio.Future[object]
    timer: asyncio.TimerHandle | None = None


class EventWriter:
    def __init__(
        self,
        bootstrap: KafkaAddress,
        client_id: str,
        ack_timeout_s: float,
        on_late_ack: Callable[[Event], None] = lambda _event: None,
        batch_window_s: float = 0.0,
        producer: BatchProducer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # No producer linger: batches are formed here (above), and handed over closed.
        self.producer: BatchProducer = producer or make_producer(bootstrap, client_id, linger_ms=0)
        self._timeout = ack_timeout_s
        self._window = batch_window_s
        self._sleep = sleep  # the batch window's wait; tests hold it to decide when it ends
        self._on_late_ack = on_late_ack
        self._held: dict[Hashable, Held] = {}
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._queues: dict[TopicPartition, _Queue] = {}
        self._flushers: set[asyncio.Task[None]] = set()
        self._waiting = 0  # writes not answered yet

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        for task in list(self._flushers):
            task.cancel()
        await asyncio.gather(*self._flushers, return_exceptions=True)
        await self.producer.stop()

    def held(self, hold: Hashable) -> Held | None:
        return self._held.get(hold)

    async def write(
        self, topic: str, key: str, event: Event, *, hold: Hashable | None = None
    ) -> RecordMetadata:
        """Write ``event`` and wait for its acknowledgement, or raise ``KafkaUnavailable``.

        Returns where the broker stored it. With ``hold``, a write that times out after its
        record was handed to the producer is remembered under it until the broker settles it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        key_bytes = key.encode()
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = await self._learn_partitions(topic, deadline)
        tp = TopicPartition(topic, self._partitioner(key_bytes, partitions, partitions))
        record = _Record(key_bytes, encode(event), event, hold, deadline, loop.create_future())
        queue = self._queues.get(tp)
        if queue is None:
            queue = self._queues[tp] = _Queue()
        queue.records.append(record)
        if not queue.flushing:
            queue.flushing = True
            flusher = loop.create_task(self._flush(tp, queue))
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        self._waiting += 1
        try:
            return await record.answer
        finally:
            self._waiting -= 1

    async def outcome(self, held: Held) -> bool:
        """Whether a held write was stored (True) or refused (False); ``KafkaUnavailable`` while
        the broker has still not settled it after another ``ack_timeout_s``."""
        return await self._wait(held.ack, self._timeout)

    async def _wait(self, ack: asyncio.Future[object], timeout: float) -> bool:
        # asyncio.wait, not wait_for: timing out must not cancel the record's future.
        await asyncio.wait([ack], timeout=timeout)
        if not ack.done():
            raise KafkaUnavailable(f"no acknowledgement within {self._timeout:g} s")
        return not ack.cancelled() and ack.exception() is None

    async def _learn_partitions(self, topic: str, deadline: float) -> list[int]:
        # Once per topic. Kafka never takes partitions away, and only ingest writes its topics:
        # a partition added while ingest runs is used after its next start.
        try:
            async with asyncio.timeout_at(deadline):
                known = await self.producer.partitions_for(topic)
        except (KafkaError, TimeoutError) as exc:
            raise KafkaUnavailable(f"could not learn the partitions of {topic}: {exc!r}") from exc
        partitions = sorted(known)
        self._partitions[topic] = partitions
        return partitions

    async def _flush(self, tp: TopicPartition, queue: _Queue) -> None:
        """Hand ``queue``'s records to the producer, a batch at a time, until it is empty."""
        loop = asyncio.get_running_loop()
        taken: list[_Record] = []  # taken from the queue and not yet with the producer
        try:
            while queue.records:
                wait = queue.handed_at + self._window - loop.time()
                if wait > 0 and self._busy():
                    await self._sleep(wait)  # the records arriving meanwhile join this batch
                queue.handed_at = loop.time()
                batch = self.producer.create_batch()
                for record in queue.records:
                    if batch.append(key=record.key, value=record.value, timestamp=None) is None:
                        break  # full: the rest leave in the next batch (a first record always fits)
                    taken.append(record)
                del queue.records[: len(taken)]
                try:
                    await self._hand_over(tp, batch, taken)
                except Exception as exc:  # every waiting request must get an answer
                    log.exception("could not hand a batch for %s to the producer", tp)
                    _fail_all(taken, f"could not queue a record for {tp.topic}: {exc!r}")
                taken = []
        except asyncio.CancelledError:  # the writer stops: answer everyone still waiting
            _fail_all([*taken, *queue.records], "ingest is stopping")
            queue.records.clear()
            raise
        finally:
            queue.flushing = False

    def _busy(self) -> bool:
        # Alone, a write that waited would only be later; with others waiting, the ones that
        # come while it waits share its batch.
        return self._waiting > 1

    async def _hand_over(self, tp: TopicPartition, batch: BatchBuilder, taken: list[_Record]) -> None:
        try:
            # send_batch waits for metadata and for the partition's previous batch to leave;
            # cancelled there, nothing was queued.
            async with asyncio.timeout_at(taken[0].deadline):
                delivery = await self.producer.send_batch(batch, tp.topic, partition=tp.partition)
        except (KafkaError, TimeoutError) as exc:
            for record in taken:
                _fail(record, KafkaUnavailable(f"could not queue a record for {tp.topic}: {exc!r}"))
            return
        handed = _HandedOver(taken, delivery)
        delivery.add_done_callback(lambda done: self._delivered(tp, handed))
        self._expire(handed)

    def _expire(self, handed: _HandedOver) -> None:
        """Answer 503 to each record of a handed-over batch whose deadline has passed unacknowledged,
        and look again at the next deadline (one timer per batch, not one per record)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for record in handed.records:
            if record.answer.done():
                continue
            if record.deadline > now:
                handed.timer = loop.call_at(record.deadline, self._expire, handed)
                return  # records are in arrival order: the rest have later deadlines
            if record.hold is not None:
                self._held[record.hold] = Held(record.event, handed.delivery)
            _fail(record, KafkaUnavailable(f"no acknowledgement within {self._timeout:g} s"))
        handed.timer = None

    def _delivered(self, tp: TopicPartition, handed: _HandedOver) -> None:
        if handed.timer is not None:
            handed.timer.cancel()  # else it would keep the batch's records alive until it fires
        delivery, taken = handed.delivery, handed.records
        failed = delivery.cancelled() or delivery.exception() is not None  # marks it retrieved
        base = None if failed else delivery.result()
        for i, record in enumerate(taken):
            if not record.answer.done():
                if isinstance(base, RecordMetadata):
                    record.answer.set_result(
                        RecordMetadata(
                            tp.topic,
                            tp.partition,
                            tp,
                            base.offset + i,
                            base.timestamp,
                            base.timestamp_type,
                            base.log_start_offset,
                        )
                    )
                else:
                    reason = "cancelled" if delivery.cancelled() else repr(delivery.exception())
                    _fail(record, KafkaUnavailable(f"the broker refused the record for {tp.topic}: {reason}"))
                continue
            held = self._held.get(record.hold) if record.hold is not None else None
            if held is None or held.event is not record.event:
                continue  # answered in time, or by a newer write
            del self._held[record.hold]
            if not failed:
                # Answered 503 but stored: the retry must find it, even before the feeder does.
                self._on_late_ack(record.event)
                log.info("a write answered 503 was acknowledged late; its retry will find it")


def _fail_all(records: list[_Record], reason: str) -> None:
    for record in records:
        _fail(record, KafkaUnavailable(reason))


def _fail(record: _Record, error: KafkaUnavailable) -> None:
    if not record.answer.done():
        record.answer.set_exception(error)

"""Ingest's writer batches under load and not when alone (``EventWriter``'s batch window).

While other writes wait too, a partition hands the producer at most one batch per window, and
the records arriving meanwhile share it. A record reaching a partition quiet for a window, or a
writer with no other write waiting, leaves at once.

The producer is a fake with state whose deliveries the test settles; the real producer is
exercised against the broker in tests/integration/test_ingest_writer.py.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import RecordMetadata, TopicPartition

from services.ingest.writer import EventWriter
from shared.kafka import KafkaUnavailable
from tests.unit.writer_events import event

TOPIC = "content.control"


class SettledByTest:
    """One partition. Each batch handed over is kept with its delivery, unsettled until the test says."""

    def __init__(self) -> None:
        self.handed: list[tuple[float, int, asyncio.Future[object]]] = []  # (when, records, delivery)
        self.offset = 0
        self._more = asyncio.Event()

    async def batches(self, n: int) -> None:
        """Wait until ``n`` batches have been handed over."""
        async with asyncio.timeout(2):
            while len(self.handed) < n:
                self._more.clear()
                await self._more.wait()

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(16384, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> asyncio.Future[object]:
        loop = asyncio.get_running_loop()
        delivery: asyncio.Future[object] = loop.create_future()
        self.handed.append((loop.time(), batch.record_count(), delivery))
        self._more.set()
        return delivery

    def settle(self, index: int) -> None:
        _, count, delivery = self.handed[index]
        tp = TopicPartition(TOPIC, 0)
        delivery.set_result(RecordMetadata(TOPIC, 0, tp, self.offset, -1, 0, 0))
        self.offset += count

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class HeldWindow:
    """The writer's window wait, held until the test ends it: no real time decides the test."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._end = asyncio.Event()
        self._asked = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        self._asked.set()
        await self._end.wait()

    async def waiting(self) -> None:
        async with asyncio.timeout(2):
            await self._asked.wait()

    def end(self) -> None:
        self._end.set()


def writer(producer: SettledByTest, window_s: float, window: HeldWindow | None = None) -> EventWriter:
    return EventWriter(
        "127.0.0.1:1",
        "test",
        ack_timeout_s=30,
        batch_window_s=window_s,
        producer=producer,
        sleep=window.sleep if window is not None else asyncio.sleep,
    )


async def test_a_lone_record_leaves_at_once_however_long_the_window() -> None:
    producer = SettledByTest()
    w = writer(producer, window_s=60)
    first = asyncio.create_task(w.write(TOPIC, "k", event(1)))
    await producer.batches(1)
    producer.settle(0)
    assert (await first).offset == 0
    started = asyncio.get_running_loop().time()
    second = asyncio.create_task(w.write(TOPIC, "k", event(2)))  # the partition is settled: no wait
    await producer.batches(2)
    producer.settle(1)
    assert (await second).offset == 1
    assert asyncio.get_running_loop().time() - started < 1


async def test_under_load_records_arriving_within_the_window_share_one_batch() -> None:
    producer = SettledByTest()
    window = HeldWindow()
    w = writer(producer, window_s=60, window=window)
    writes = [asyncio.create_task(w.write(TOPIC, "k", event(0)))]
    await producer.batches(1)
    for n in range(1, 6):  # one at a time, each while the first is unanswered
        writes.append(asyncio.create_task(w.write(TOPIC, "k", event(n))))
        await asyncio.sleep(0)
    await window.waiting()
    # The partition waits out the rest of its window (no longer than the window) ...
    assert len(window.asked) == 1
    assert 0 < window.asked[0] <= 60
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(producer.handed) == 1  # ... and hands nothing over meanwhile
    window.end()
    await producer.batches(2)
    assert [count for _, count, _ in producer.handed] == [1, 5]
    producer.settle(0)
    producer.settle(1)
    assert [(await t).offset for t in writes] == [0, 1, 2, 3, 4, 5]


async def test_without_a_window_each_record_leaves_when_it_comes() -> None:
    producer = SettledByTest()
    w = writer(producer, window_s=0)
    writes = []
    for n in range(3):
        writes.append(asyncio.create_task(w.write(TOPIC, "k", event(n))))
        await producer.batches(len(writes))
    for i in range(3):
        producer.settle(i)
    assert [(await t).offset for t in writes] == [0, 1, 2]


async def test_an_unsettled_batch_holds_the_next_one_back_for_one_window_at_most() -> None:
    producer = SettledByTest()
    w = writer(producer, window_s=0.05)
    first = asyncio.create_task(w.write(TOPIC, "k", event(0)))
    await producer.batches(1)
    second = asyncio.create_task(w.write(TOPIC, "k", event(1)))  # the first is never settled here
    await producer.batches(2)
    waited = producer.handed[1][0] - producer.handed[0][0]
    assert 0.04 <= waited < 1, waited
    producer.settle(0)
    producer.settle(1)
    assert [(await first).offset, (await second).offset] == [0, 1]


async def test_stopping_during_the_window_answers_the_records_waiting_in_it() -> None:
    producer = SettledByTest()
    w = writer(producer, window_s=60)
    first = asyncio.create_task(w.write(TOPIC, "k", event(0)))
    await producer.batches(1)
    waiting = [asyncio.create_task(w.write(TOPIC, "k", event(n))) for n in (1, 2)]
    await asyncio.sleep(0.01)
    await w.stop()
    for task in waiting:
        with pytest.raises(KafkaUnavailable, match="stopping"):
            await task
    assert len(producer.handed) == 1
    first.cancel()

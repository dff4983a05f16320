"""Ingest's writer never leaves a request waiting: a producer that fails in an unexpected way,
or a writer that stops while records wait, answers every waiting write with KafkaUnavailable.

The producer here is a fake with state (the real one is exercised against the broker in
tests/integration/test_ingest_writer.py and test_ingest_outage.py).
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.producer.message_accumulator import BatchBuilder

from services.ingest.writer import EventWriter
from shared.kafka import KafkaUnavailable
from tests.unit.writer_events import event


class FakeProducer:
    """Knows three partitions; ``send_batch`` raises ``failure`` or waits until released."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.release = asyncio.Event()
        self.batches_offered = 0
        self.stopped = False

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(16384, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> asyncio.Future[object]:
        self.batches_offered += 1
        if self.failure is not None:
            raise self.failure
        await self.release.wait()
        return asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True


async def writer_with(producer: FakeProducer) -> EventWriter:
    return EventWriter("127.0.0.1:1", "test", ack_timeout_s=30, producer=producer)


async def test_an_unexpected_producer_error_answers_every_write_in_the_batch() -> None:
    producer = FakeProducer(failure=RuntimeError("partition vanished"))
    writer = await writer_with(producer)
    results = await asyncio.gather(
        *(writer.write("content.control", "same-key", event(i)) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, KafkaUnavailable) for r in results), results
    assert "partition vanished" in str(results[0])
    assert producer.batches_offered == 1  # written together, offered as one batch


async def test_stopping_the_writer_answers_the_writes_still_waiting() -> None:
    producer = FakeProducer()
    writer = await writer_with(producer)
    waiting = [asyncio.create_task(writer.write("content.control", "same-key", event(i))) for i in range(3)]
    await asyncio.sleep(0.01)  # the first batch is offered and hangs; none is answered yet
    assert not any(t.done() for t in waiting)
    await writer.stop()
    for task in waiting:
        with pytest.raises(KafkaUnavailable, match="stopping"):
            await task
    assert producer.stopped

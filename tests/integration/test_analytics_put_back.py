"""The fold consumer's put-back (services/analytics/fold_consumer.py, ``put_back_positions``) on
a real aiokafka consumer and the real broker: a fetch nobody was handed is read again, from its
first record, unless a seek came after it (a recovery's), which stands. Also the aiokafka rule
the put-back answers: a fetch whose partition set is emptied while it waits takes in the
records of every assigned partition. When faust leaves out a fetch:
tests/unit/test_analytics_fold_consumer_rebalance.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.analytics.fold_consumer import put_back_positions
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.kafka_txn import make_transactional_producer
from shared.topics import TopicSpec

pytestmark = pytest.mark.integration


@pytest.fixture
async def tp(kafka_bootstrap: str, run_id: str) -> AsyncIterator[TopicPartition]:
    name = f"t{run_id}.put-back"
    await ensure_topics(kafka_bootstrap, [TopicSpec(name, partitions=2, key="none")])
    yield TopicPartition(name, 0)
    await delete_topics(kafka_bootstrap, f"t{run_id}.")


@pytest.fixture
async def consumer(kafka_bootstrap: str, tp: TopicPartition) -> AsyncIterator[AIOKafkaConsumer]:
    # As the worker's: committed transactions only, so a transaction's marker follows its records.
    made = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, isolation_level="read_committed")
    await made.start()
    made.assign([tp])  # no group: the reading starts where the test seeks
    await made.seek_to_beginning(tp)
    try:
        yield made
    finally:
        await made.stop()


async def _fetch(consumer: AIOKafkaConsumer, tp: TopicPartition, count: int) -> list[int]:
    offsets: list[int] = []
    while len(offsets) < count:
        fetched = await consumer.getmany(tp, timeout_ms=10_000)
        assert fetched, f"only {offsets} fetched"
        offsets += [r.offset for r in fetched[tp]]
    return offsets


async def _produce(kafka_bootstrap: str, tp: TopicPartition, count: int) -> None:
    producer = make_producer(kafka_bootstrap, "put-back-test")
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(tp.topic, str(n).encode(), partition=tp.partition)
    finally:
        await producer.stop()


async def test_a_fetch_is_read_again_from_its_first_record_unless_sought_since(
    kafka_bootstrap: str, tp: TopicPartition, consumer: AIOKafkaConsumer
) -> None:
    await _produce(kafka_bootstrap, tp, 6)
    assert await _fetch(consumer, tp, 6) == [0, 1, 2, 3, 4, 5]
    put_back_positions(consumer, {tp: (0, 5)})
    assert await consumer.position(tp) == 0
    assert await _fetch(consumer, tp, 6) == [0, 1, 2, 3, 4, 5]
    consumer.seek(tp, 2)  # a recovery's seek after the fetch
    put_back_positions(consumer, {tp: (0, 5)})
    assert await consumer.position(tp) == 2


async def test_a_fetch_ending_before_a_transaction_marker_is_put_back_too(
    kafka_bootstrap: str, tp: TopicPartition, consumer: AIOKafkaConsumer, run_id: str
) -> None:
    producer = make_transactional_producer(kafka_bootstrap, "put-back-txn", f"put-back-{run_id}")
    await producer.start()
    try:
        async with producer.transaction():
            for n in range(3):
                await producer.send(tp.topic, str(n).encode(), partition=0)
    finally:
        await producer.stop()
    assert await _fetch(consumer, tp, 3) == [0, 1, 2]
    # The position is past the commit marker (offset 3), not right after the last record.
    assert await consumer.position(tp) == 4
    put_back_positions(consumer, {tp: (0, 2)})
    assert await consumer.position(tp) == 0


async def test_a_fetch_whose_set_empties_while_it_waits_takes_every_partition_and_is_put_back(
    kafka_bootstrap: str, tp: TopicPartition
) -> None:
    other = TopicPartition(tp.topic, 1)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, isolation_level="read_committed")
    await consumer.start()
    try:
        consumer.assign([tp, other])
        await consumer.seek_to_beginning(tp, other)
        # faust's way: the fetcher is handed the live set of active partitions, here only ``tp``.
        live = {tp}
        fetching = asyncio.ensure_future(consumer._fetcher.fetched_records(live, timeout=20.0))
        await asyncio.sleep(0.5)
        assert not fetching.done()
        live.clear()  # a pause of the last active partition, while the fetch waits
        await _produce(kafka_bootstrap, other, 3)
        fetched = await fetching  # as soon as the first of them came
        assert list(fetched) == [other]
        taken = [r.offset for r in fetched[other]]
        assert taken == list(range(len(taken)))
        assert await consumer.position(other) == len(taken)
        put_back_positions(consumer, {other: (0, taken[-1])})
        assert await _fetch(consumer, other, 3) == [0, 1, 2]
    finally:
        await consumer.stop()

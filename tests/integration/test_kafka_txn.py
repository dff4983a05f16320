"""The transactional writer against the real broker: group commit, offsets, and a dead writer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka import KafkaUnavailable, delete_topics, ensure_topics
from shared.kafka_txn import Outgoing, TransactionalWriter, make_transactional_producer, transactional_id
from shared.topics import TopicRegistry

pytestmark = pytest.mark.integration


async def test_concurrent_writes_share_transactions_and_commit_their_offsets(kafka_bootstrap: str) -> None:
    topics = TopicRegistry(prefix=f"txn{uuid.uuid4().hex[:8]}.", partitions=1)
    out, source = topics.publish_outcomes, topics.schedule_commands
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name in (out, source)])
    group = f"txn-{uuid.uuid4().hex[:8]}"
    producer = make_transactional_producer(kafka_bootstrap, "txn-test", transactional_id(group, "t"))
    await producer.start()
    try:
        writer = TransactionalWriter(producer, group)
        tp = TopicPartition(source, 0)
        writes = [writer.write([Outgoing(out, f"v{i}".encode(), b"k")], {tp: i + 1}) for i in range(20)]
        await asyncio.gather(*writes)
        # Twenty writers, far fewer round trips: those waiting while one commits go together.
        assert 1 <= writer.transactions < 20
        consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap, group_id=group, isolation_level="read_committed"
        )
        await consumer.start()
        try:
            # The highest offset handed in. The broker writes a transaction's markers just after
            # the commit returns; until then a fetch of committed offsets answers the one before.
            committed = None
            for _ in range(100):
                committed = await consumer.committed(tp)
                if committed == 20:
                    break
                await asyncio.sleep(0.05)
            assert committed == 20
        finally:
            await consumer.stop()
        await writer.write([])  # nothing to write, no offset moved: no transaction
        before = writer.transactions
        await writer.write([], {tp: 20})
        assert writer.transactions == before
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def test_a_fenced_writer_fails_and_stays_failed(kafka_bootstrap: str) -> None:
    topics = TopicRegistry(prefix=f"txn{uuid.uuid4().hex[:8]}.", partitions=1)
    out = topics.publish_outcomes
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == out])
    txn_id = transactional_id("txn-fence", uuid.uuid4().hex[:8])
    old = make_transactional_producer(kafka_bootstrap, "txn-old", txn_id)
    new = make_transactional_producer(kafka_bootstrap, "txn-new", txn_id)
    await old.start()
    try:
        writer = TransactionalWriter(old, "txn-fence", timeout=20.0)
        await writer.write([Outgoing(out, b"before", b"k")])
        await new.start()  # a restarted replica with the same id: the old producer is fenced
        with pytest.raises(KafkaUnavailable):
            await writer.write([Outgoing(out, b"zombie", b"k")])
        with pytest.raises(KafkaUnavailable):  # and it never writes again
            await writer.write([Outgoing(out, b"later", b"k")])
        successor = TransactionalWriter(new, "txn-fence")
        await successor.write([Outgoing(out, b"after", b"k")])
        assert await committed_values(kafka_bootstrap, out) == [b"before", b"after"]
    finally:
        await old.stop()
        await new.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def committed_values(bootstrap: str, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        values: list[bytes] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=500)).values():
                values += [r.value for r in records if r.value is not None]
        return values
    finally:
        await consumer.stop()

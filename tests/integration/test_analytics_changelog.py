"""The fold's changelog writes (services/analytics/changelog.py) on the real broker.

What faust's recovery reads back is judged with faust's own codec: a batch larger than one
record batch arrives whole, in the order written (the journal before its keys), each value
decoding to what was written; a write the broker refuses fails the batch instead of being
passed over, and the worker exits before faust commits any offset past it. (A write refused
for its size is never a record's fault: the fold keeps every entry within
``batch.ENTRY_LIMIT_BYTES``, so a topic that refuses one is set too low.)
"""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.serializers import codecs

from services.analytics.changelog import (
    MAX_BATCH_BYTES,
    ChangelogTooSmall,
    ChangelogWrites,
    changelog_producer,
    send_all,
)
from shared.kafka import committed_offsets, delete_topics, ensure_topics
from shared.topics import TopicRegistry, TopicSpec
from shared.watchdog import EXIT_STALLED
from tests.integration.test_analytics_worker import Worker, generate, produce, worker  # noqa: F401 (the fixture)

pytestmark = pytest.mark.integration


def table_of(tmp_path: Path, prefix: str) -> Any:
    """A faust table as the worker declares it (json keys and values), never started."""
    app = faust.App(
        f"{prefix}app",
        broker="kafka://127.0.0.1:1",
        store="memory://",
        datadir=str(tmp_path),
        autodiscover=False,
        key_serializer="json",
        value_serializer="json",
    )
    return app.Table("figures", default=None, partitions=3)


async def read_partition(bootstrap: str, topic: str, partition: int, count: int) -> list[tuple[Any, Any]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        records: list[tuple[Any, Any]] = []
        while len(records) < count:
            batch = await consumer.getmany(tp, timeout_ms=10_000)
            assert batch, f"only {len(records)} of {count} records on {topic}[{partition}]"
            records += [(codecs.loads("json", r.key), codecs.loads("json", r.value)) for r in batch[tp]]
        return records
    finally:
        await consumer.stop()


async def test_a_batch_larger_than_a_record_batch_lands_whole_and_in_order(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = f"cl{uuid.uuid4().hex[:8]}."
    table = table_of(tmp_path, prefix)
    topic = table.changelog_topic.get_topic_name()
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 3, "key")])
    producer = changelog_producer(kafka_bootstrap)
    try:
        writes = ChangelogWrites(table, 1)
        # Journal parts as large as batch.PART_BYTES allows, then many small keys; one key twice.
        journal = [(f"wal|1|{i}", {"b": "x", "n": 8, "w": {"k": "é" * 125_000}}) for i in range(8)]
        keys = [
            (f"post|c{i}:ig", {"s": {"reach": i, "tag": "banjir"}, "seen": {"engagement": i}})
            for i in range(400)
        ]
        written = [*journal, *keys, ("post|c0:ig", {"s": {"reach": -1}})]
        for key, value in written:
            writes.write(key, value)
        # The bytes faust's own changelog path (Table.send_changelog) would send.
        changelog = table.changelog_topic
        assert writes.records == [
            (changelog.prepare_key(k, "json")[0], changelog.prepare_value(v, "json")[0]) for k, v in written
        ]
        assert sum(len(k) + len(v) for k, v in writes.records) > 2 * MAX_BATCH_BYTES
        assert await send_all(producer, topic, [writes, ChangelogWrites(table, 2)]) == len(written)
        assert await read_partition(kafka_bootstrap, topic, 1, len(written)) == written
        assert table.data["post|c0:ig"] == {"s": {"reach": -1}}
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, prefix)


async def test_a_write_the_broker_refuses_fails_the_batch(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"cl{uuid.uuid4().hex[:8]}."
    table = table_of(tmp_path, prefix)
    topic = table.changelog_topic.get_topic_name()
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 3, "key", {"max.message.bytes": "65536"})])
    producer = changelog_producer(kafka_bootstrap)
    try:
        writes = ChangelogWrites(table, 0)
        writes.write("post|c1:ig", {"s": "x" * 200_000})
        with pytest.raises(ChangelogTooSmall, match="took no write"):
            await send_all(producer, topic, [writes])
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, prefix)


async def test_a_worker_whose_changelog_refuses_a_batch_exits_before_committing_past_it(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    run_id: str,
    worker: Worker,  # noqa: F811 (the fixture imported above)
) -> None:
    sources = {topics.content_approved, topics.publish_outcomes, topics.engagement_observed}
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name in sources])
    # The worker's changelog, made before faust would make it, taking no record over 1 kB: a
    # batch's journal is larger.
    group = f"{topics.prefix}g{run_id}-analytics"
    changelog = f"{group}-figures-changelog"
    limit = {"cleanup.policy": "compact", "max.message.bytes": "1024"}
    await ensure_topics(kafka_bootstrap, [TopicSpec(changelog, topics.partitions, "key", limit)])
    await produce(kafka_bootstrap, topics, generate(random.Random(5), 0, 40))
    worker.start()
    assert worker.proc is not None
    code = await asyncio.to_thread(worker.proc.wait, 240)
    log = worker.log.read_text(errors="replace")
    assert code == EXIT_STALLED, log[-3000:]
    assert "took no write" in log
    committed = await committed_offsets(kafka_bootstrap, group)
    assert all(offset <= 0 for offset in committed.values()), committed

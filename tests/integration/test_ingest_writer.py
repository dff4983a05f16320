"""Ingest's writer against the real broker: records written together leave as shared batches,
yet each write learns its own place on the topic, and keys land where a plain ``send`` puts them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from services.ingest.writer import EventWriter
from shared.events import ControlAction, ControlIssued
from shared.kafka import ensure_topics
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events

pytestmark = pytest.mark.integration


def withdrawal(content_id: str) -> ControlIssued:
    return ControlIssued(
        event_id=uuid.uuid4().hex,
        occurred_at=datetime.now(UTC),
        action=ControlAction.WITHDRAW,
        content_id=content_id,
        by="yuyun",
        reason="writer test",
    )


@pytest.fixture
async def writer(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[EventWriter]:
    """A started writer, with the test's topics created."""
    await ensure_topics(kafka_bootstrap, topics.specs())
    started = EventWriter(kafka_bootstrap, "writer-test", ack_timeout_s=30)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_concurrent_writes_each_learn_where_their_record_was_stored(
    kafka_bootstrap: str, topics: TopicRegistry, writer: EventWriter
) -> None:
    topic = topics.content_control
    events = [withdrawal(f"item{i:04d}") for i in range(300)]
    stored = await asyncio.gather(*(writer.write(topic, e.content_id or "", e) for e in events))

    places = {(m.partition, m.offset): e.event_id for m, e in zip(stored, events, strict=True)}
    assert len(places) == len(events), "two writes were told the same offset"
    read_back = await read_events(kafka_bootstrap, topic)
    assert len(read_back) == len(events)
    by_id = {e.event_id: e for e in read_back}
    assert set(by_id) == set(places.values())
    assert {m.partition for m in stored} == set(range(topics.partitions)), "keys did not spread"


async def test_a_key_lands_where_the_producers_own_partitioner_puts_it(
    kafka_bootstrap: str, topics: TopicRegistry, writer: EventWriter
) -> None:
    topic = topics.content_control
    plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await plain.start()
    try:
        for i in range(20):
            key = f"content-{i}"
            ours = await writer.write(topic, key, withdrawal(key))
            theirs = await plain.send_and_wait(topic, b"{}", key=key.encode())
            assert ours.partition == theirs.partition, key
            assert ours.offset + 1 == theirs.offset, "the writer's offset is not the record's"
    finally:
        await plain.stop()

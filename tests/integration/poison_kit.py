"""What the poison-record tests share: topics on the real broker, reading letters and commits back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.codec import decode
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    DeadLettered,
    Event,
    Priority,
)
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry

WAIT_S = 60.0  # a group's first join and a busy shared broker take seconds, not minutes


@asynccontextmanager
async def on_broker(
    bootstrap: str, topics: TopicRegistry, names: Iterable[str]
) -> AsyncIterator[AIOKafkaProducer]:
    """Create the named topics (fresh per test), yield a producer; delete them afterwards."""
    wanted = set(names)
    await ensure_topics(bootstrap, [s for s in topics.specs() if s.name in wanted])
    producer = make_producer(bootstrap, "poison-test")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
        await delete_topics(bootstrap, topics.prefix)


def approved(content_id: str, channel: str, **update: object) -> ContentApproved:
    now = datetime.now(UTC)
    event = ContentApproved(
        event_id=f"e-{content_id}",
        occurred_at=now,
        content_id=content_id,
        priority=Priority.NORMAL,
        not_before=now + timedelta(hours=2),  # nothing fires during the test
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=now),
        submitted_by="yuyun",
        variants=(ChannelVariant(channel=channel, content=Content(text=f"text {content_id}")),),
    )
    return event.model_copy(update=update) if update else event


async def read_all(bootstrap: str, topic: str, until: Callable[[list[Event]], bool]) -> list[Event]:
    """Every event on ``topic`` from the beginning, read until ``until`` holds (or time runs out)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    events: list[Event] = []
    try:
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while not until(events) and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            events += [decode(r.value) for rs in batch.values() for r in rs]
        return events
    finally:
        await consumer.stop()


async def letters(bootstrap: str, topics: TopicRegistry, count: int = 1) -> list[DeadLettered]:
    """The dead letters on the topic, once there are at least ``count``."""
    found = await read_all(
        bootstrap, topics.publish_dead, lambda evs: sum(isinstance(e, DeadLettered) for e in evs) >= count
    )
    return [e for e in found if isinstance(e, DeadLettered)]


async def committed(bootstrap: str, group: str, tp: TopicPartition, at_least: int) -> int | None:
    """The group's committed offset of ``tp``, waiting until it reaches ``at_least``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + WAIT_S
        offset: int | None = None
        while asyncio.get_running_loop().time() < deadline:
            offset = await consumer.committed(tp)
            if offset is not None and offset >= at_least:
                return offset
            await asyncio.sleep(0.3)
        return offset
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)

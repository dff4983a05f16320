"""Reading topics: whole, without a consumer group, to rebuild state at start and then to follow;
or as a member of a group, committing what was handled (``consume``).

``read_to_end`` replays every partition from its start to the end offsets seen when it began
(the inbox rebuilds its book from the compacted ``inbox.items``); ``follow`` does the same and
then keeps reading (the collector learns every published post from ``publish.outcomes``).
A record that is not a Warta event is dead-lettered here when the inbox is its topic's sole
reader (``inbox.items``, ``complaints.items``, ``inbox.templates``: ``DeadLetters.owns``), and
skipped and counted on a topic a consumer group's consumer letters; one that ``apply`` raises
on is dead-lettered here. Either way the reading goes on, and a replay at the next start does
not letter the same record again (``shared.replay_letters``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.codec import DecodeError, decode, is_tombstone
from shared.dead_letters import DeadLetters
from shared.events import Event
from shared.kafka import KafkaUnavailable
from shared.kafka_connection import KafkaAddress, client_args
from shared.kafka_metadata import refresh_metadata
from shared.replay_letters import ReplayLetters


async def _partitions(
    consumer: AIOKafkaConsumer, topic: str, patience_s: float = 60.0
) -> list[TopicPartition]:
    """The topic's partitions, waiting for a topic created a moment ago to reach the metadata.

    ``KafkaUnavailable`` past ``patience_s``: the broker, not a record, is at fault (the service
    stops and its supervisor restarts it)."""
    deadline = asyncio.get_running_loop().time() + patience_s
    while asyncio.get_running_loop().time() < deadline:
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        await refresh_metadata(consumer)
        await asyncio.sleep(0.2)
    raise KafkaUnavailable(
        f"topic {topic} has no partitions in the broker's metadata after {patience_s:.0f} s"
    )


async def read_to_end(
    kafka: KafkaAddress, topic: str, apply: Callable[[Event], None], dead_letters: DeadLetters
) -> int:
    """Apply every event on ``topic`` up to its current end; the number applied."""
    return await follow(kafka, topic, apply, dead_letters, stop=None)


async def follow(
    kafka: KafkaAddress,
    topic: str,
    apply: Callable[[Event], None],
    dead_letters: DeadLetters,
    *,
    stop: asyncio.Event | None,
    caught_up: asyncio.Event | None = None,
    from_start: bool = True,
) -> int:
    """Apply ``topic``'s events; with ``stop`` None, return at the end seen at start."""
    consumer = AIOKafkaConsumer(
        **client_args(kafka), enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    letters = ReplayLetters(kafka, dead_letters)
    applied = 0
    try:
        tps = await _partitions(consumer, topic)
        consumer.assign(tps)
        if from_start:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        ends = await consumer.end_offsets(tps)
        while True:
            done = all([await consumer.position(tp) >= ends[tp] for tp in tps])
            if done and caught_up is not None:
                caught_up.set()
            if done and stop is None:
                return applied
            if stop is not None and stop.is_set():
                return applied
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batch.values():
                for record in records:
                    if is_tombstone(record.value):
                        continue  # a compacted topic's "gone", not a bad record
                    try:
                        event = decode(record.value)
                    except DecodeError as exc:
                        await letters.undecodable(record, exc)
                        continue
                    try:
                        apply(event)
                    except Exception as exc:  # one record never stops the reader (guarantee 6)
                        await letters.failed(record, exc)
                        continue
                    applied += 1
    finally:
        await consumer.stop()
        await letters.close()


async def consume(
    kafka: KafkaAddress,
    topics: list[str],
    group: str,
    handle: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]],
    dead: DeadLetters,
    stop: asyncio.Event,
    *,
    max_records: int = 500,
) -> None:
    """As a member of ``group``: each record to ``handle`` (one that raises is dead-lettered and
    the reading goes on), the batch's offsets committed once it is handled."""
    consumer = AIOKafkaConsumer(
        *topics,
        **client_args(kafka),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=max_records)
            records = [r for rs in batch.values() for r in rs]
            for record in records:
                await dead.handled(record, handle, None)
            if records:
                await consumer.commit()
    finally:
        await consumer.stop()

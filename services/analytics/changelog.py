"""The table writes of one fold batch, sent to the table's changelog as whole Kafka record
batches (adapter: faust's table, aiokafka's producer).

Why not ``Table.send_changelog``: there each write is a message of its own through faust's
producer buffer, its sensors and a debug log record, then aiokafka's per-record ``send``.
Profiled under ``bench.analytics --broker``, that path took more of the worker's time than the
fold itself. Here a batch's writes on one changelog partition are serialized with the table's
own codec (the bytes faust's recovery decodes) and appended, in write order, to as few record
batches as fit (the journal before the keys, as ``batch`` needs).

Why the fold waits for the acknowledgement: the consumer acks a batch's records into faust's
bookkeeping, and faust may then commit their offsets, as soon as the fold returns
(``fold_consumer``). Waiting first means a committed
offset never passes an event whose changelog writes every in-sync replica does not hold.
faust's own ``commit`` flushes only faust's producer, so it would not wait for these.

Errors: ``KafkaUnavailable`` when the broker took no write; ``ChangelogTooSmall`` when it
refused one for its size. Both stop the worker (``app._whole``): no record is at fault, for the
fold keeps every entry within ``batch.ENTRY_LIMIT_BYTES`` and dead-letters what would not be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from faust.serializers import codecs

from services.analytics.batch import ENTRY_LIMIT_BYTES
from shared.kafka import KafkaUnavailable, LazyProducer, make_producer
from shared.kafka_connection import KafkaAddress

# One changelog record batch may hold a whole fold batch of a partition (its journal parts,
# ``batch.PART_BYTES`` each, and its keys) and stays under Kafka's 1 MB default limits.
MAX_BATCH_BYTES = 900 * 1024


class ChangelogTooSmall(Exception):
    """The changelog topic (or the broker) refused a write for its size. Every write is within
    ``batch.ENTRY_LIMIT_BYTES`` and a journal part's framing, under Kafka's default limits: the
    topic's ``max.message.bytes`` (or the broker's ``message.max.bytes``) was set lower than the
    worker needs. Dead-lettering would bury every batch until it is raised, so the worker stops."""


def changelog_producer(kafka: KafkaAddress) -> LazyProducer:
    """The worker's producer of changelog batches (idempotent, acks=all), started by the first
    batch."""
    return LazyProducer(
        lambda: make_producer(
            kafka, "warta-analytics-changelog", linger_ms=0, max_batch_size=MAX_BATCH_BYTES
        ),
        "analytics changelog",
    )


class ChangelogWrites:
    """One partition's table writes of a fold batch: applied to the table's store at once (the
    fold reads them back), held as changelog records until ``send_all``.

    The partition is the source partition of the batch's records, named here: faust's
    ``Table.__setitem__`` would take it from a stream's current event, and the fold reads no
    stream (``fold_consumer``)."""

    def __init__(self, table: Any, partition: int) -> None:
        self.table = table
        self.partition = partition
        self.records: list[tuple[bytes, bytes]] = []

    def write(self, key: str, value: Any) -> None:
        """A ``batch.Writer``: the key's new value in the store and, later, in the changelog."""
        # The table's codecs by name, as its changelog topic would apply them to plain keys
        # and values (no faust Record here), without its schema and header plumbing per write.
        key_bytes = codecs.dumps(self.table.key_serializer, key)
        value_bytes = codecs.dumps(self.table.value_serializer, value)
        self.records.append((key_bytes, value_bytes))
        self.table.data[key] = value


async def send_all(changelog: LazyProducer, topic: str, batches: Iterable[ChangelogWrites]) -> int:
    """Send every partition's records, in order, and wait until the broker acknowledged them
    all; the number of records. Raises ``KafkaUnavailable`` if any could not be written,
    ``ChangelogTooSmall`` if the broker refused one for its size."""
    producer = await changelog.started()
    sent: list[tuple[ChangelogWrites, int, asyncio.Future[Any]]] = []
    try:
        for writes in batches:
            builder = producer.create_batch()
            for key, value in writes.records:
                if builder.append(key=key, value=value, timestamp=None) is None:
                    sent.append(await _send(producer, topic, writes, builder))
                    builder = producer.create_batch()
                    builder.append(key=key, value=value, timestamp=None)
            if builder.record_count():
                sent.append(await _send(producer, topic, writes, builder))
        landed = await asyncio.gather(*(future for _, _, future in sent))
    except (MessageSizeTooLargeError, RecordTooLargeError) as exc:
        raise ChangelogTooSmall(
            f"the analytics changelog {topic} took no write: it refuses records of the size the worker"
            f" writes (up to {ENTRY_LIMIT_BYTES:,} bytes an entry); its max.message.bytes is set too low:"
            f" {exc!r}"
        ) from exc
    except KafkaError as exc:
        raise KafkaUnavailable(f"the analytics changelog {topic} took no write: {exc!r}") from exc
    for (writes, count, _), first in zip(sent, landed, strict=True):
        # What faust's own changelog callback records: a store kept on disk (rocksdb) reads
        # its changelog from there at the next start; the memory store ignores it.
        writes.table.data.set_persisted_offset(
            TopicPartition(topic, writes.partition), first.offset + count - 1
        )
    return sum(count for _, count, _ in sent)


async def _send(
    producer: AIOKafkaProducer, topic: str, writes: ChangelogWrites, builder: Any
) -> tuple[ChangelogWrites, int, asyncio.Future[Any]]:
    future = await producer.send_batch(builder, topic, partition=writes.partition)
    return writes, builder.record_count(), future

"""Thin adapters over aiokafka shared by the services: producer, topic creation, replay.

Dead letters have their own module, ``shared.dead_letters``.

How each client reaches the brokers (TLS, SASL) comes from ``shared.kafka_connection``.

Errors::

    KafkaUnavailable     the broker did not answer in time (ingest turns it into 503 + Retry-After)
    (KafkaMisconfigured  from shared.kafka_connection: the broker refuses these settings)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata
from pydantic import BaseModel

from shared.codec import encode
from shared.kafka_connection import KafkaAddress, client_args, start_client
from shared.kafka_metadata import known_partitions, refresh_metadata
from shared.topics import TopicSpec

log = logging.getLogger(__name__)


class KafkaUnavailable(RuntimeError):
    """The broker could not be reached or did not acknowledge in time."""

    retriable = True


def make_producer(
    kafka: KafkaAddress,
    client_id: str,
    *,
    linger_ms: int = 2,
    request_timeout_s: float = 15.0,
    max_batch_size: int = 16384,
) -> AIOKafkaProducer:
    # acks=all + idempotence: 202 from ingest means every in-sync replica has the event,
    # and a producer retry can't write it twice (design.md, guarantee 1).
    # ``request_timeout_s`` also bounds a record's wait for the topic's metadata and its life in
    # the producer's queue: past it the send fails instead of landing later.
    return AIOKafkaProducer(
        **client_args(kafka),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=max_batch_size,
        request_timeout_ms=int(request_timeout_s * 1000),
    )


class LazyProducer:
    """A producer started by its first use, for a worker whose framework (faust) starts its
    parts in an order of its own; ``stop`` closes it if it was started."""

    def __init__(self, make: Callable[[], AIOKafkaProducer], role: str) -> None:
        self._make = make
        self._role = role
        self._producer: AIOKafkaProducer | None = None

    async def started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._make()
            try:
                await producer.start()
            except KafkaError as exc:
                raise KafkaUnavailable(f"could not start the {self._role} producer: {exc!r}") from exc
            self._producer = producer
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def send_event(
    producer: AIOKafkaProducer,
    topic: str,
    key: str,
    event: BaseModel,
    *,
    partition: int | None = None,
    timeout: float = 20.0,
) -> RecordMetadata:
    """Send and wait for the broker's acknowledgement; returns where the record landed."""
    try:
        return await asyncio.wait_for(
            producer.send_and_wait(topic, encode(event), key=key.encode(), partition=partition), timeout
        )
    except (KafkaError, TimeoutError) as exc:
        raise KafkaUnavailable(f"could not write to {topic}: {exc!r}") from exc


# How long a service waits for the broker to acknowledge its own writes before giving up. The
# idempotent producer retries inside this window; past it the service exits and its supervisor
# restarts it, and it rebuilds its state from Kafka — never carrying on with writes in limbo.
ACK_DEADLINE_S = 60.0


async def acknowledged(
    futures: Iterable[Awaitable[object]], what: str, timeout: float = ACK_DEADLINE_S
) -> None:
    """Wait for the broker to acknowledge sends already queued; ``KafkaUnavailable`` past ``timeout``."""
    try:
        await asyncio.wait_for(asyncio.gather(*futures), timeout)
    except (KafkaError, TimeoutError) as exc:
        raise KafkaUnavailable(f"{what}: no acknowledgement within {timeout:.0f} s ({exc!r})") from exc


async def ensure_topics(
    kafka: KafkaAddress, specs: Iterable[TopicSpec], timeout: float = 30.0, patience: float = 180.0
) -> list[str]:
    """Create the topics that don't exist yet; returns the names created. Safe to re-run, and
    to run from several services at once. A busy broker can time a creation out while still
    doing it, so this asks again (only for what is still missing) until ``patience`` runs out."""
    wanted = {s.name: s for s in specs}
    created: list[str] = []
    deadline = asyncio.get_running_loop().time() + patience
    delay = 1.0
    while True:
        try:
            created += await _create_missing(kafka, wanted, timeout)
            return created
        except (KafkaError, TimeoutError, OSError) as exc:
            if asyncio.get_running_loop().time() + delay > deadline:
                raise KafkaUnavailable(f"could not create topics: {exc!r}") from exc
            log.warning("creating topics failed (%r); retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


async def _create_missing(kafka: KafkaAddress, wanted: dict[str, TopicSpec], timeout: float) -> list[str]:
    admin = AIOKafkaAdminClient(**client_args(kafka), request_timeout_ms=int(timeout * 1000))
    await start_client(admin, kafka, timeout)
    try:
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if not missing:
            return []
        # One request for all of them: a broker holding thousands of topics creates them far
        # faster in a batch than one round trip each.
        response = await admin.create_topics(
            [NewTopic(s.name, s.partitions, s.replication, topic_configs=dict(s.configs)) for s in missing]
        )
        created = []
        for name, code, *_ in getattr(response, "topic_errors", ()):
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:  # another service created it meanwhile
                raise KafkaError(f"creating {name} failed with error code {code}")
        return created
    finally:
        await admin.close()


async def delete_topics(kafka: KafkaAddress, prefix: str, timeout: float = 30.0) -> int:
    """Delete every topic named with ``prefix`` (test and benchmark systems clean up after
    themselves, so one broker can serve a whole test session)."""
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    admin = AIOKafkaAdminClient(**client_args(kafka), request_timeout_ms=int(timeout * 1000))
    await start_client(admin, kafka, timeout)
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
        return len(names)
    finally:
        await admin.close()


async def committed_offsets(kafka: KafkaAddress, group: str) -> dict[TopicPartition, int]:
    """The offsets ``group`` has committed, by partition (none for a partition it never did)."""
    admin = AIOKafkaAdminClient(**client_args(kafka))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def missing_topics(kafka: KafkaAddress, names: Iterable[str], timeout: float = 5.0) -> list[str]:
    admin = AIOKafkaAdminClient(**client_args(kafka), request_timeout_ms=int(timeout * 1000))
    await start_client(admin, kafka, timeout)
    try:
        existing = set(await asyncio.wait_for(admin.list_topics(), timeout))
        return [n for n in names if n not in existing]
    finally:
        await admin.close()


async def replay(
    kafka: KafkaAddress,
    partitions: Iterable[TopicPartition],
    *,
    until: dict[TopicPartition, int] | None = None,
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Read the given partitions from the beginning to their current end (or ``until``), then
    stop: ``replay_batches`` a record at a time, where a caller reads little or wants one loop.

    Used to rebuild state from compacted changelogs before a worker acts on a partition.
    """
    async for records in replay_batches(kafka, partitions, until=until):
        for record in records:
            yield record


async def replay_batches(
    kafka: KafkaAddress,
    partitions: Iterable[TopicPartition],
    *,
    batch_ms: int = 200,
    start: dict[TopicPartition, int] | None = None,
    until: dict[TopicPartition, int] | None = None,
) -> AsyncIterator[list[ConsumerRecord[bytes, bytes]]]:
    """Read the given partitions from the beginning (or ``start``) to their current end (or
    ``until``), then stop, a fetched batch at a time (one partition's records, in offset order):
    a cold restore reads millions of records, and a loop over a list costs less per record than
    one step of an async generator."""
    tps = list(partitions)
    if not tps:
        return
    consumer = AIOKafkaConsumer(
        **client_args(kafka),
        enable_auto_commit=False,
        isolation_level="read_committed",
        # A restore reads whole logs: large fetches mean fewer round trips per million records.
        max_partition_fetch_bytes=8 * 2**20,
        fetch_max_bytes=64 * 2**20,
    )
    await start_client(consumer, kafka, None)
    try:
        # A topic another process has just created may not be in this client's metadata yet;
        # assigning it before then leaves end_offsets waiting forever.
        await wait_for_topics(consumer, {tp.topic for tp in tps})
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        for tp in tps:
            if start is not None and tp in start:
                consumer.seek(tp, start[tp])
        ends = dict(until) if until is not None else await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        for tp in list(pending):
            if await consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=batch_ms)
            for tp, records in batch.items():
                end = ends[tp]
                if records and records[-1].offset >= end:
                    records = [r for r in records if r.offset < end]
                if records:
                    yield records
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()


async def log_bounds(
    kafka: KafkaAddress, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, tuple[int, int]]:
    """Each partition's (log start offset, end offset) as a read_committed reader sees them."""
    tps = list(partitions)
    if not tps:
        return {}
    consumer = AIOKafkaConsumer(
        **client_args(kafka), enable_auto_commit=False, isolation_level="read_committed"
    )
    await start_client(consumer, kafka, None)
    try:
        await wait_for_topics(consumer, {tp.topic for tp in tps})
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        return {tp: (starts[tp], ends[tp]) for tp in tps}
    finally:
        await consumer.stop()


async def wait_for_topics(consumer: AIOKafkaConsumer, topics: Iterable[str], timeout: float = 60.0) -> None:
    """Wait until the client's metadata knows every topic (created elsewhere moments ago)."""
    wanted = set(topics)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        missing = sorted(t for t in wanted if not consumer.partitions_for_topic(t))
        if not missing:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise KafkaUnavailable(f"topics never appeared in the broker's metadata: {', '.join(missing)}")
        await refresh_metadata(consumer, missing)
        if any(not consumer.partitions_for_topic(t) for t in missing):
            await asyncio.sleep(0.2)


async def read_from_start(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """Start ``consumer`` on every partition of ``topics`` from its first record (a view's feeder:
    no group, replay, then follow); returns each partition's end offset as of now."""
    await consumer.start()
    tps = await partitions_of(consumer, topics)
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    return ends


async def partitions_of(
    consumer: AIOKafkaConsumer, topics: Iterable[str], timeout: float = 60.0
) -> list[TopicPartition]:
    """Every partition of ``topics``, once the client's metadata knows them all."""
    names = list(topics)
    await wait_for_topics(consumer, names, timeout)
    return known_partitions(consumer, names)

"""Atomic read-process-write on Kafka: a transactional producer behind a group-commit writer.

A service that consumes a record, changes its state and writes the change must never leave half
of it on the broker: the scheduler's ``JobDue`` without the plan record saying the job is due, or
a publisher's ledger entry without the outcome the scheduler waits for. Kafka transactions make
the writes and the consumer offsets of the records that caused them visible together or not at
all, to consumers that read with ``isolation_level="read_committed"`` (every Warta reader does).

``TransactionalWriter.write`` returns once its records are committed. Writes that arrive while a
transaction is being committed wait and go together in the next one (group commit), so a
publisher's concurrent lanes share transactions instead of queueing one round trip each.

Fencing: a producer's ``transactional.id`` is ``<role>-<instance>``. Give every replica a stable
instance id (``WARTA_INSTANCE_ID``; ``warta dev`` does): a restarted replica then aborts what its
predecessor left open at once and fences it if it still runs. Without one, each process gets a
random id, and a transaction left open by a killed process holds read_committed readers of its
partitions back until the broker aborts it (``TRANSACTION_TIMEOUT_MS``).

Errors::

    KafkaUnavailable   (shared.kafka) the transaction did not commit in time or was aborted;
                       the writer is then unusable, and the caller exits to rebuild from Kafka
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.producer import sender as aiokafka_sender

from shared.kafka import ACK_DEADLINE_S, KafkaUnavailable
from shared.kafka_connection import KafkaAddress, client_args

Offsets = Mapping[TopicPartition, int]
Written = dict[TopicPartition, tuple[int, int]]
"""Per partition written to, the offsets of a write's first and last record there."""

# Longer than any transaction Warta keeps open (a handful of sends), short enough that a
# transaction left by a killed process without a stable instance id stalls its readers briefly.
TRANSACTION_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Outgoing:
    """One record to write in a transaction; a ``None`` value is a tombstone (compacted topics)."""

    topic: str
    value: bytes | None
    key: bytes
    partition: int | None = None


# How soon to ask again when a transaction begun right after the previous commit is refused
# (CONCURRENT_TRANSACTIONS: the coordinator is still writing that commit's markers, a few ms on a
# local broker). aiokafka waits a fixed 20 ms there (its module constant, the only knob for this
# one case; ``retry_backoff_ms`` governs every other retry too). A planner firing a busy minute
# begins transactions back to back, and that 20 ms was most of its firing lateness p99
# (bench.scheduler, docs/scheduler-restart.md); a refused request costs the broker next to nothing.
CONCURRENT_TRANSACTION_RETRY_S = 0.002


def shorten_concurrent_transaction_retry(seconds: float = CONCURRENT_TRANSACTION_RETRY_S) -> None:
    """Set aiokafka's retry wait for CONCURRENT_TRANSACTIONS after a commit, for the process."""
    if not hasattr(aiokafka_sender, "BACKOFF_OVERRIDE"):
        # An aiokafka that renamed it would silently keep 20 ms: fail where it is set instead.
        raise RuntimeError("aiokafka.producer.sender.BACKOFF_OVERRIDE is gone: see shared/kafka_txn.py")
    aiokafka_sender.BACKOFF_OVERRIDE = float(seconds)


def transactional_id(role: str, instance: str) -> str:
    return f"{role}-{instance or uuid.uuid4().hex[:12]}"


def make_transactional_producer(kafka: KafkaAddress, client_id: str, txn_id: str) -> AIOKafkaProducer:
    shorten_concurrent_transaction_retry()
    return AIOKafkaProducer(
        **client_args(kafka),
        client_id=client_id,
        transactional_id=txn_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=15000,
        transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
        # The other refusals of a transaction's requests (CONCURRENT_TRANSACTIONS once it holds
        # partitions or when offsets join it, a coordinator moving): 20 ms, not the default 100.
        retry_backoff_ms=20,
    )


class TransactionalWriter:
    """Writes records, with consumer offsets, in Kafka transactions; one transaction at a time.

    ``settled`` gives, when a transaction begins, the offsets of consumed records whose effects
    are durable (in an earlier transaction, or in this one): they are committed with it.
    """

    def __init__(
        self,
        producer: AIOKafkaProducer,
        group_id: str,
        settled: Callable[[], Offsets] | None = None,
        timeout: float = ACK_DEADLINE_S,
    ) -> None:
        self._producer = producer
        self._group_id = group_id
        self._settled = settled
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._pending: list[tuple[list[Outgoing], Offsets, asyncio.Future[Written]]] = []
        self._committed: dict[TopicPartition, int] = {}
        self._broken: KafkaUnavailable | None = None
        self.transactions = 0

    async def write(self, records: Iterable[Outgoing], offsets: Offsets | None = None) -> Written:
        """Commit ``records`` (and ``offsets``, plus the settled ones) atomically; returns, once
        the transaction holding them is committed, where they were written. Nothing to write
        and no offset that moved: no transaction."""
        if self._broken is not None:
            raise self._broken
        done: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._pending.append((list(records), dict(offsets or {}), done))
        async with self._lock:
            if not done.done():
                await self._flush()
        return await done

    async def _flush(self) -> None:
        # Taken together, with no await in between: a writer that marked its record settled
        # before queueing its outcome is in this batch whenever its offset is.
        batch, self._pending = self._pending, []
        offsets: dict[TopicPartition, int] = dict(self._settled() if self._settled else {})
        for _, extra, _ in batch:
            for tp, offset in extra.items():
                offsets[tp] = max(offset, offsets.get(tp, offset))
        offsets = {tp: o for tp, o in offsets.items() if o > self._committed.get(tp, -1)}
        records = [r for rs, _, _ in batch for r in rs]
        placed: list[tuple[TopicPartition, int]] = []
        try:
            if self._broken is not None:
                raise self._broken
            if records or offsets:
                placed = await asyncio.wait_for(self._commit(records, offsets), self._timeout)
        except BaseException as exc:
            if self._broken is None:
                self._broken = KafkaUnavailable(f"transaction failed: {exc!r}")
                self._broken.__cause__ = exc
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._producer.abort_transaction(), 5.0)
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(self._broken)
            if not isinstance(exc, Exception):
                raise
            return
        self._committed.update(offsets)
        at = 0
        for rs, _, done in batch:
            written: Written = {}
            for tp, offset in placed[at : at + len(rs)]:
                first, _ = written.get(tp, (offset, offset))
                written[tp] = (first, offset)
            at += len(rs)
            done.set_result(written)

    async def _commit(
        self, records: list[Outgoing], offsets: dict[TopicPartition, int]
    ) -> list[tuple[TopicPartition, int]]:
        """Where each record went, in ``records`` order."""
        await self._producer.begin_transaction()
        try:
            sent = [
                await self._producer.send(r.topic, r.value, key=r.key, partition=r.partition) for r in records
            ]
            metadata = await asyncio.gather(*sent)
            if offsets:
                await self._producer.send_offsets_to_transaction(offsets, self._group_id)
        except (KafkaError, OSError) as exc:
            raise KafkaUnavailable(f"writing a transaction failed: {exc!r}") from exc
        await self._producer.commit_transaction()
        self.transactions += 1
        return [(TopicPartition(m.topic, m.partition), m.offset) for m in metadata]

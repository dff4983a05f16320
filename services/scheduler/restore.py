"""Rebuilding the plan of newly owned partitions from ``schedule.jobs`` and ``schedule.channels``,
and keeping the kept store's checkpoint true while the plan runs.

Without a kept store every assignment replays both changelogs from the beginning. With one
(``KeptStore``: the SQLite store file, whose claims are its checkpoint, and a lock), each
partition whose checkpoint still matches (``checkpoint.resume_point``) replays only the tail after
it, on top of the job rows and channel snapshots the file already holds; the others are dropped
from the file and replayed in full. ``step`` wraps each planner step in one store transaction
that commits the step's rows with the claims its Kafka transaction advanced; ``checkpoint``, at a
clean stop, copies the tail written since into the file and claims the logs' ends
(``checkpoint.py`` says why each claim is true).

A tombstone on ``schedule.jobs`` (a finished job the plan forgot, ``retention.py``) deletes the
job's row; it is never counted as unreadable.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiokafka import ConsumerRecord, TopicPartition

from services.scheduler.checkpoint import Checkpoint, LogBounds, ResumePoint, resume_point
from services.scheduler.plan import Plan
from services.scheduler.store import ChannelRow, JobStore, RestoreRow, SqliteJobStore
from services.scheduler.store_sql import LAYOUT
from shared.codec import DecodeError, decode_as, is_tombstone
from shared.events import ChannelStateRecorded
from shared.kafka import log_bounds, replay_batches
from shared.kafka_connection import KafkaAddress
from shared.kafka_txn import Written
from shared.runtime import collector_paused
from shared.topics import TopicRegistry

log = logging.getLogger("warta.scheduler.restore")

_WRITE_BATCH = 5000
"""Rows (and tombstones) per store write: the write of one overlaps the reading of the next."""

RowOf = Callable[[bytes | None, int], RestoreRow | None]


@dataclass
class KeptStore:
    """A store file kept across restarts (its checkpoint inside it), and the lock that makes it
    this process's alone (a second worker on the same state directory gets a disposable file)."""

    store: SqliteJobStore
    lock: IO[bytes] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, path: Path, cache_kib: int = 8192) -> KeptStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(path.name + ".lock"), "wb")  # noqa: SIM115 - held while the process lives
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            log.warning("%s is held by another worker: using a disposable store", path)
            path = path.with_name(f"{path.stem}-{os.getpid()}{path.suffix}")
            return cls(SqliteJobStore(path, cache_kib))
        return cls(SqliteJobStore(path, cache_kib, keep=True), lock)

    def close(self) -> None:
        self.store.close()
        if self.lock is not None:
            self.lock.close()  # releases the flock


@dataclass(eq=False)
class Restorer:
    bootstrap: KafkaAddress
    topics: TopicRegistry
    plan: Plan
    row_of: RowOf
    kept: KeptStore | None = None
    # Called as a replay moves on: the planner's loop waits for the restore meanwhile
    # (``lock``), and the watchdog must see a long restore that progresses as alive.
    progress: Callable[[], None] = lambda: None
    # One store transaction at a time: a planner step, a restore, a revocation.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    # Per owned changelog partition: the next offset the store holds everything before...
    _reflects: dict[TopicPartition, int] = field(default_factory=dict, init=False)
    # ... and the offset this worker's next record there must have to move that claim on.
    _expect: dict[TopicPartition, int] = field(default_factory=dict, init=False)

    def _tps(self, partitions: Iterable[int]) -> list[TopicPartition]:
        ps = sorted(partitions)
        return [
            TopicPartition(t, p)
            for t in (self.topics.schedule_jobs, self.topics.schedule_channels)
            for p in ps
        ]

    async def restore(self, partitions: set[int]) -> tuple[int, int, list[int]]:
        """Restore ``partitions`` into the plan's store and channels (the caller indexes them);
        returns (job records replayed, unreadable records, the partitions restored warm)."""
        tps = self._tps(partitions)
        bounds = await log_bounds(self.bootstrap, tps)
        points = self._resume_points(partitions, bounds)
        warm = sorted(p for p, point in points.items() if point.warm)
        for point in points.values():
            if not point.warm:
                log.info("full restore: %s", point.full_reason)
        if self.kept is not None:
            store = self.kept.store
            # Partitions restored in full (their claims go with their rows: none may vouch for
            # a partition rebuilt from another start), and whatever else the file holds but
            # this worker neither owns nor is given now (kept from an earlier assignment).
            owned = {tp.partition for tp in self._reflects}
            stale = (set(partitions) - set(warm)) | (store.partitions() - set(partitions) - owned)
            store.drop_partitions(stale)
            for payload in store.channel_snapshots(warm):
                self._restore_channel(payload)
        start = {TopicPartition(t, p): at for p, point in points.items() for t, at in point.offsets.items()}
        ends = claimable(bounds, start)
        coming = sum(ends[tp] - at for tp, at in start.items() if tp.topic == self.topics.schedule_jobs)
        into: JobStore = self.kept.store if self.kept is not None else self.plan.store
        # More rows coming than the store holds (a cold start): build its indexes once, after.
        bulk = coming > into.count()
        if bulk:
            into.defer_indexes()
        try:
            with collector_paused():  # a million records and rows, none in a cycle
                jobs, skipped = await self._replay(tps, start, ends)
        finally:
            if bulk:
                await asyncio.to_thread(into.build_indexes)
        self._reflects.update(ends)
        self._expect.update(ends)
        if self.kept is not None:
            self.kept.store.claim({(tp.topic, tp.partition): at for tp, at in ends.items()})
        return jobs, skipped, warm

    def forget(self, partitions: set[int]) -> None:
        """Revoked: their rows and claims stay in a kept store, true as they are, for the next
        assignment to resume from (or to drop, if it does not bring them back)."""
        for tp in self._tps(partitions):
            self._reflects.pop(tp, None)
            self._expect.pop(tp, None)

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[Callable[[Written], None]]:
        """One planner step: yields ``wrote``, to be called with where the step's Kafka
        transaction put its records once it committed. The step's store writes commit with the
        claims they advance when the block ends; they are rolled back when it raises."""
        async with self.lock:
            if self.kept is None:
                yield lambda _written: None
                return
            store = self.kept.store
            claims: dict[tuple[str, int], int] = {}
            with store.transaction():
                yield lambda written: claims.update(self._advance(written))
                store.claim(claims)

    def _advance(self, written: Written) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = {}
        for tp, (first, last) in written.items():
            if tp not in self._reflects:
                continue  # not a changelog partition of this worker
            if self._expect.get(tp) == first:
                self._reflects[tp] = last + 1
                self._expect[tp] = last + 2  # after this transaction's commit marker
                out[(tp.topic, tp.partition)] = last + 1
            else:
                # Someone else wrote in between: the claim stays, the tail replays that.
                self._expect.pop(tp, None)
        return out

    def keep_channels(self, rows: list[ChannelRow]) -> None:
        """A step's channel snapshots, as written to ``schedule.channels``: in the kept store
        too, so that its claims on that topic stay true."""
        if self.kept is not None and rows:
            self.kept.store.put_channels_raw(rows)

    async def checkpoint(self) -> None:
        """After a clean stop (every plan write acknowledged): bring the file up to the logs' end,
        claim that, and put the file on disk."""
        if self.kept is None or not self._reflects:
            return
        async with self.lock:
            tps = list(self._reflects)
            bounds = await log_bounds(self.bootstrap, tps)
            ends = claimable(bounds, self._reflects)
            # The tail is mostly this worker's own writes, already in the file; copying it again
            # is an idempotent upsert, and it takes in whatever anyone else wrote meanwhile.
            await self._replay(tps, dict(self._reflects), ends, plan=False)
            self._reflects.update(ends)
            store = self.kept.store
            store.claim({(tp.topic, tp.partition): at for tp, at in self._reflects.items()})
            store.sync()
        log.info("checkpoint written: %d changelog partitions", len(self._reflects))

    def _resume_points(
        self, partitions: set[int], bounds: dict[TopicPartition, tuple[int, int]]
    ) -> dict[int, ResumePoint]:
        store = self.kept.store if self.kept is not None else None
        found = Checkpoint(LAYOUT, store.store_id, store.claims()) if store is not None else None
        out: dict[int, ResumePoint] = {}
        for p in partitions:
            mine = {tp.topic: LogBounds(*b) for tp, b in bounds.items() if tp.partition == p}
            out[p] = resume_point(
                found, layout=LAYOUT, store_id=store.store_id if store else "", partition=p, bounds=mine
            )
        return out

    async def _replay(
        self,
        tps: list[TopicPartition],
        start: dict[TopicPartition, int],
        until: dict[TopicPartition, int],
        *,
        plan: bool = True,
    ) -> tuple[int, int]:
        store = self.kept.store if self.kept is not None else self.plan.store
        # Each batch keeps only every key's last change: an upsert (rows) or a tombstone (gone),
        # so a job forgotten after its last record in the batch stays forgotten, and the other
        # way round.
        rows: dict[str, RestoreRow] = {}
        gone: set[str] = set()
        channels: list[ChannelRow] = []
        jobs = skipped = 0
        tps = [tp for tp in tps if start.get(tp, 0) < until[tp]]  # an empty tail needs no reader
        # The store writes one batch in a worker thread (SQLite lets go of the GIL) while the
        # next is read and parsed; batches are written one after the other, in log order.
        writing: asyncio.Future[None] | None = None
        # Looked up once: this loop runs once per record, a million times in a cold restore.
        channel_topic, row_of = self.topics.schedule_channels, self.row_of
        try:
            async for records in replay_batches(self.bootstrap, tps, start=start, until=until):
                if records[0].topic == channel_topic:
                    channels += self._restore_channels(records, apply=plan)
                    continue
                for record in records:
                    if is_tombstone(record.value) and record.key is not None:
                        job_id = record.key.decode("utf-8", "replace")
                        rows.pop(job_id, None)
                        gone.add(job_id)
                        continue
                    row = row_of(record.value, record.partition)
                    if row is None:
                        skipped += 1
                        continue
                    gone.discard(row[0])
                    rows[row[0]] = row
                    jobs += 1
                    if len(rows) + len(gone) >= _WRITE_BATCH:
                        if writing is not None:
                            await writing
                        writing = asyncio.ensure_future(asyncio.to_thread(self._write, store, rows, gone))
                        rows, gone = {}, set()
                        self.progress()
                        await asyncio.sleep(0)  # let heartbeats through
        finally:
            if writing is not None:
                await writing
        self._write(store, rows, gone)
        if self.kept is not None:
            self.kept.store.put_channels_raw(channels)
        return jobs, skipped

    @staticmethod
    def _write(store: JobStore, rows: dict[str, RestoreRow], gone: set[str]) -> None:
        store.put_raw(rows.values())
        store.delete_raw(gone)

    def _restore_channels(
        self, records: list[ConsumerRecord[bytes, bytes]], *, apply: bool
    ) -> list[ChannelRow]:
        """The snapshots of ``schedule.channels`` records, applied to the plan unless ``apply``
        is off; the readable ones, as the kept store keeps them (none without a kept store)."""
        out: list[ChannelRow] = []
        for record in records:
            channel = self._restore_channel(record.value, apply=apply)
            if channel is not None and self.kept is not None and record.value is not None:
                out.append((channel, record.partition, record.value))
        return out

    def _restore_channel(self, payload: bytes | None, *, apply: bool = True) -> str | None:
        """The snapshot's channel, once applied to the plan; None (skipped, as a full restore
        skips it) when it does not decode, so the file never keeps what a full restore ignores."""
        try:
            record = decode_as(payload, ChannelStateRecorded)
        except DecodeError as exc:
            log.warning("skipping undecodable channel record: %s", exc)
            return None
        if apply:
            self.plan.restore_channel(record)
        return record.channel


def claimable(
    bounds: dict[TopicPartition, tuple[int, int]], held: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Where a claim may stand after reading to the logs' ends: never behind what the file
    already ``held``. A read_committed end stops before a transaction whose commit markers are
    still on their way, this worker's last one too (the broker writes them after the commit
    returns); a claim that went back behind such writes would have the next start replay them."""
    return {tp: max(end, held.get(tp, end)) for tp, (_, end) in bounds.items()}

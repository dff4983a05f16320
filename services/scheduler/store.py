"""Where the plan's job records live while a worker owns them.

The plan needs three things from a store: a job by id, the held jobs of a channel that share a
topic or a state, and a small integer reference per job for the timer wheel. Payloads (the
content to post) stay out of Python objects in ``SqliteJobStore`` — a local, disposable cache of
the compacted ``schedule.jobs`` changelog, like a Kafka Streams state store — so that a worker
holding a million pending jobs keeps in RAM only the timers of the next minutes (``due_page``)
and the occupied instants of the channels it is placing jobs on (``occupied``).
``MemoryJobStore`` keeps records as objects: simple, for tests and small deployments.

Both can be rebuilt from the changelog when a worker is assigned partitions, so losing the local
file loses nothing. ``SqliteJobStore(keep=True)`` keeps its file across restarts, with the
channels' latest snapshots beside the jobs and, in the same file, the checkpoint: the changelog
offsets the rows reflect (``claims``), so that a worker whose checkpoint matches
(``checkpoint.py``) replays only the changelogs' tail. A claim changes in the same SQLite
transaction as the rows it vouches for (``transaction``), so no crash can part them. A plan write
made outside a transaction may be one the changelog never gets: it withdraws every claim first.

Errors: a kept file that is not a SQLite database, or of another ``LAYOUT``, is deleted and
started afresh (``fresh`` says so); nothing is raised for it.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Protocol

import orjson

from services.scheduler.plan_state import FIRING_NAMES, OCCUPYING_NAMES, occupied_instant
from services.scheduler.retention import finished_at
from shared.codec import decode_as, encode
from shared.events import JobPlanned, JobState

log = logging.getLogger("warta.scheduler.store")

RestoreRow = tuple[str, str, int, str, str | None, float | None, float | None, float | None, bytes]
"""(job id, channel, partition, state, topic key, slot, next measurement, finished since
(``retention.finished_at``), encoded JobPlanned); instants in epoch seconds."""

Indexed = tuple[int, str, float | None, str | None, float | None, float | None]
"""(ref, state, slot, channel, first pending measurement, occupied instant): epoch seconds."""


class JobStore(Protocol):
    def get(self, job_id: str) -> JobPlanned | None: ...

    def ref_of(self, job_id: str) -> int | None: ...

    def by_ref(self, ref: int) -> JobPlanned | None: ...

    def put(self, job: JobPlanned, partition: int) -> int:
        """Store (or replace) a job's record; returns its reference."""
        ...

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        """Bulk restore: (job id, channel, partition, state, topic key, slot, measure, payload)."""
        ...

    def defer_indexes(self) -> None:
        """Before a restore that writes more rows than the store holds: the store may leave the
        work of its indexes to ``build_indexes``."""
        ...

    def build_indexes(self) -> None:
        """After the restore: whatever ``defer_indexes`` left out (safe in a worker thread)."""
        ...

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]: ...

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]: ...

    def drop_partitions(self, partitions: Iterable[int]) -> None: ...

    def delete(self, job_id: str) -> None:
        """Forget one job (the plan undoing a command that raised, or forgetting a finished one).
        A wheel entry left with its reference is harmless: the plan re-reads the store when an
        entry comes due."""
        ...

    def delete_raw(self, job_ids: Iterable[str]) -> None:
        """Bulk restore of tombstones: the changelog says these jobs are gone."""
        ...

    def finished_before(self, cutoff: datetime, limit: int) -> list[JobPlanned]:
        """Up to ``limit`` jobs finished (``retention.finished_at``) at ``cutoff`` or before, oldest first."""
        ...

    def instants(self, refs: list[int]) -> Iterable[tuple[int, float | None]]:
        """Exact due instants of wheel references: a publish slot (ref > 0) or the next
        measurement (ref < 0); None when the job is no longer due."""
        ...

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        """Every job of the partitions, by what its timers and its channel's instants need."""
        ...

    def due_page(self, after: float, limit: int) -> tuple[list[tuple[float, int]], float]:
        """The timer wheel's next page (``wheel.Pager``): the timers due at ``after`` or later,
        about ``limit`` of them in instant order, as (instant, wheel reference), and the instant
        before which they are all there is (``math.inf``: there are no later ones)."""
        ...

    def occupied(self, channel: str) -> list[float]:
        """The instants occupying ``channel`` (``plan_state.occupied_instant``), in no order."""
        ...

    def count(self) -> int: ...

    def count_by_state(self) -> dict[tuple[str, str], int]:
        """Jobs by (channel, state)."""
        ...


_FIRING = FIRING_NAMES


def page_of(entries: list[tuple[float, int]], limit: int) -> tuple[list[tuple[float, int]], float]:
    """``due_page`` from the timers due at its ``after`` or later, in instant order (at least
    ``limit`` of them, or all there are): a page ends before an instant, so that the timers it
    leaves out are all at or after its end. All ``limit`` at one instant: they are the page."""
    if len(entries) <= limit:
        return entries, math.inf
    end = entries[limit - 1][0]
    page = [e for e in entries[:limit] if e[0] < end]
    if page:
        return page, end
    return [e for e in entries if e[0] == end], math.nextafter(end, math.inf)


def due_instant(job: JobPlanned | None, ref: int) -> float | None:
    if job is None:
        return None
    if ref > 0:
        return job.slot.timestamp() if job.slot is not None and job.state.value in _FIRING else None
    if job.state is JobState.PUBLISHED and job.measure_at:
        return job.measure_at[0].timestamp()
    return None


class MemoryJobStore:
    def __init__(self) -> None:
        self._jobs: dict[str, JobPlanned] = {}
        self._refs: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._partition: dict[str, int] = {}
        self._next_ref = 1  # references are never reused, even after a job is dropped

    def get(self, job_id: str) -> JobPlanned | None:
        return self._jobs.get(job_id)

    def ref_of(self, job_id: str) -> int | None:
        return self._refs.get(job_id)

    def by_ref(self, ref: int) -> JobPlanned | None:
        job_id = self._ids.get(ref)
        return self._jobs.get(job_id) if job_id is not None else None

    def put(self, job: JobPlanned, partition: int) -> int:
        ref = self._refs.get(job.job_id)
        if ref is None:
            ref = self._refs[job.job_id] = self._next_ref
            self._next_ref += 1
            self._ids[ref] = job.job_id
        self._jobs[job.job_id] = job
        self._partition[job.job_id] = partition
        return ref

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        for row in rows:
            self.put(decode_as(row[-1], JobPlanned), row[2])

    def defer_indexes(self) -> None:
        return

    def build_indexes(self) -> None:
        return

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]:
        return [j for j in self._jobs.values() if j.channel == channel and j.topic_key == topic_key]

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]:
        wanted = set(states)
        return [j for j in self._jobs.values() if j.channel == channel and j.state in wanted]

    def instants(self, refs: list[int]) -> Iterable[tuple[int, float | None]]:
        for ref in refs:
            yield ref, due_instant(self.by_ref(abs(ref)), ref)

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        gone = set(partitions)
        for job_id in [j for j, p in self._partition.items() if p in gone]:
            self.delete(job_id)

    def delete(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self._partition.pop(job_id, None)
        ref = self._refs.pop(job_id, None)
        if ref is not None:
            self._ids.pop(ref, None)

    def delete_raw(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self.delete(job_id)

    def finished_before(self, cutoff: datetime, limit: int) -> list[JobPlanned]:
        done = [(at, job) for job in self._jobs.values() if (at := finished_at(job)) and at <= cutoff]
        return [job for _, job in sorted(done, key=lambda pair: pair[0])[:limit]]

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        wanted = set(partitions)
        for job_id, job in list(self._jobs.items()):
            if self._partition.get(job_id) in wanted:
                slot = job.slot.timestamp() if job.slot else None
                published = job.published_at.timestamp() if job.published_at else None
                measure = job.measure_at[0].timestamp() if job.measure_at else None
                yield self._refs[job_id], job.state.value, slot, job.channel, measure, published or slot

    def due_page(self, after: float, limit: int) -> tuple[list[tuple[float, int]], float]:
        entries = []
        for job_id, job in self._jobs.items():
            ref = self._refs[job_id]
            for signed in (ref, -ref):
                at = due_instant(job, signed)
                if at is not None and at >= after:
                    entries.append((at, signed))
        return page_of(sorted(entries), limit)

    def occupied(self, channel: str) -> list[float]:
        return [
            at
            for j in self._jobs.values()
            if j.channel == channel and (at := occupied_instant(j)) is not None
        ]

    def count(self) -> int:
        return len(self._jobs)

    def count_by_state(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for job in self._jobs.values():
            key = (job.channel, job.state.value)
            out[key] = out.get(key, 0) + 1
        return out


_UPSERT = (
    "INSERT INTO jobs (job_id, channel, partition, state, topic_key, slot, measure, occupied, finished,"
    " due, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
    " CASE WHEN ?4 = 'published' THEN coalesce(published_at(?9), ?6) ELSE ?6 END, ?8,"
    " CASE WHEN ?4 IN ('scheduled', 'retrying') THEN ?6 WHEN ?4 = 'published' THEN ?7 END, ?9)"
    " ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, payload = excluded.payload,"
    " partition = excluded.partition, slot = excluded.slot, measure = excluded.measure,"
    " topic_key = excluded.topic_key, occupied = excluded.occupied, finished = excluded.finished,"
    " due = excluded.due"
)
"""A published post occupies its publishing instant, which only the record holds: read once, when
the row is written, so that reading a channel's occupied instants never reads a payload.
``finished`` (since when a finished job is so) makes finding the jobs past their retention one
index range; the restore reads it from the record it has parsed already (``planner.restore_row``).
``due`` is the instant of the job's timer (``due_instant``: the slot of a firing job, the next
measurement of a published one), which the timer wheel pages in by (``due_page``)."""

LAYOUT = 6
"""The kept file's layout version (SQLite ``user_version``): bump it whenever the schema or the
meaning of a column changes, so a file of the old layout is rebuilt instead of misread."""

ChannelRow = tuple[str, int, bytes]
"""(channel, partition, encoded ChannelStateRecorded) as it was read from ``schedule.channels``."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS channels (
    channel TEXT PRIMARY KEY,
    partition INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    ref INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    partition INTEGER NOT NULL,
    state TEXT NOT NULL,
    topic_key TEXT,
    slot REAL,
    measure REAL,
    occupied REAL,
    finished REAL,
    due REAL,
    payload BLOB NOT NULL
);
-- Appended to in a restore (rows arrive partition by partition): kept during a bulk load.
CREATE INDEX IF NOT EXISTS jobs_partition ON jobs (partition);
"""

_INDEXES = {
    "jobs_topic": "jobs (channel, topic_key) WHERE topic_key IS NOT NULL",
    # Covers ``occupied``: a channel's instants come from the index, never from the payloads.
    "jobs_state": "jobs (channel, state, occupied)",
    "jobs_finished": "jobs (finished) WHERE finished IS NOT NULL",
    # Covers ``due_page``: the timer wheel reads the next page of timers from it.
    "jobs_due": "jobs (due, ref, state) WHERE due IS NOT NULL",
}
"""Indexes that a bulk restore builds once at its end (``bulk_load``): inserted into row by row,
their random keys made a million-row restore several times slower."""

_BULK_CACHE_KIB = 64 * 1024
_OCCUPYING = sorted(OCCUPYING_NAMES)
_OCCUPIED = (
    f"SELECT occupied FROM jobs WHERE channel = ? AND state IN ({','.join('?' * len(_OCCUPYING))})"
    " AND occupied IS NOT NULL"
)


def _create_indexes() -> str:
    return "".join(f"CREATE INDEX IF NOT EXISTS {name} ON {on};" for name, on in _INDEXES.items())


class SqliteJobStore:
    """Job records in a local SQLite file; durability comes from Kafka, so the file is a cache."""

    def __init__(self, path: Path | str, cache_kib: int = 8192, *, keep: bool = False) -> None:
        self.path = str(path)
        on_disk = self.path != ":memory:"
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if not keep:
                Path(path).unlink(missing_ok=True)  # rebuilt from the changelog on assignment
        self._in_transaction = False
        self._cache_kib = cache_kib
        self._db, found = self._open(cache_kib)
        self.fresh = found is None
        if found is None and on_disk and keep:
            # Whatever the file was (another layout, not a database, half-written), the
            # changelog can rebuild it: start from an empty file.
            self._db.close()
            for suffix in ("", "-wal", "-shm"):
                Path(self.path + suffix).unlink(missing_ok=True)
            self._db, _ = self._open(cache_kib)
        self.store_id = found or uuid.uuid4().hex
        if found is None:
            self._db.executescript(_SCHEMA + f"PRAGMA user_version = {LAYOUT};")
            self._db.execute("INSERT INTO meta VALUES ('store_id', ?)", (self.store_id,))
        self._db.executescript(_SCHEMA + _create_indexes())  # a bulk load cut short left some out
        self._claimed = bool(self.claims())

    def _open(self, cache_kib: int) -> tuple[sqlite3.Connection, str | None]:
        """The connection, and the file's store id when it is a store of this layout."""
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            # The changelog is the source of truth: no fsync per write. The write-ahead log keeps
            # each commit atomic when the process dies mid-write, so a kept file is never half a
            # transaction, and its checksummed frames make what survives a power loss a prefix
            # of the commits: rows and the claims written with them stay together.
            db.executescript(
                f"PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-{cache_kib};"
                " PRAGMA temp_store=MEMORY;"
            )
            db.create_function("published_at", 1, _published_at, deterministic=True)
            if db.execute("PRAGMA user_version").fetchone()[0] != LAYOUT:
                return db, None
            row = db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
        except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
            log.warning("rebuilding the plan store %s: %r", self.path, exc)
            return db, None
        return db, str(row[0]) if row else None

    def _changing(self) -> None:
        """Before a plan write: outside a transaction, nothing will tie it to the changelog."""
        if self._claimed and not self._in_transaction:
            self._db.execute("DELETE FROM claims")
            self._claimed = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite transaction: committed when the block ends, rolled back when it raises
        (and by SQLite itself when the process dies first)."""
        if self._in_transaction:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self._db.execute("ROLLBACK")
            raise
        self._in_transaction = False
        self._db.execute("COMMIT")

    def claims(self) -> dict[tuple[str, int], int]:
        """(topic, partition) -> the next changelog offset: the rows reflect every record before it."""
        rows = self._db.execute("SELECT topic, partition, next_offset FROM claims")
        return {(str(t), int(p)): int(o) for t, p, o in rows}

    def claim(self, offsets: dict[tuple[str, int], int]) -> None:
        """Record what the rows now reflect: in the transaction that wrote them, or after it."""
        self._db.executemany(
            "INSERT INTO claims VALUES (?, ?, ?) ON CONFLICT (topic, partition)"
            " DO UPDATE SET next_offset = excluded.next_offset",
            [(t, p, o) for (t, p), o in offsets.items()],
        )
        self._claimed = self._claimed or bool(offsets)

    def sync(self) -> None:
        """Put the file's committed pages on disk (the claims with them): a clean stop's last act."""
        if self.path == ":memory:":
            return
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def partitions(self) -> set[int]:
        rows = self._db.execute(
            "SELECT DISTINCT partition FROM jobs UNION SELECT DISTINCT partition FROM channels"
        ).fetchall()
        return {int(r[0]) for r in rows}

    def put_channels_raw(self, rows: Iterable[ChannelRow]) -> None:
        """Restored channel snapshots, latest wins (rows in changelog order)."""
        self._db.executemany(
            "INSERT INTO channels VALUES (?, ?, ?) ON CONFLICT (channel) DO UPDATE"
            " SET partition = excluded.partition, payload = excluded.payload",
            rows,
        )

    def channel_snapshots(self, partitions: Iterable[int]) -> list[bytes]:
        out: list[bytes] = []
        for p in partitions:
            rows = self._db.execute("SELECT payload FROM channels WHERE partition = ?", (p,))
            out += [bytes(r[0]) for r in rows]
        return out

    def close(self) -> None:
        self._db.close()

    def get(self, job_id: str) -> JobPlanned | None:
        row = self._db.execute("SELECT payload FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return decode_as(row[0], JobPlanned) if row else None

    def ref_of(self, job_id: str) -> int | None:
        row = self._db.execute("SELECT ref FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return int(row[0]) if row else None

    def by_ref(self, ref: int) -> JobPlanned | None:
        row = self._db.execute("SELECT payload FROM jobs WHERE ref = ?", (ref,)).fetchone()
        return decode_as(row[0], JobPlanned) if row else None

    def put(self, job: JobPlanned, partition: int) -> int:
        self._changing()
        slot = job.slot.timestamp() if job.slot else None
        measure = job.measure_at[0].timestamp() if job.measure_at else None
        finished = finished_at(job)
        row = self._db.execute(
            _UPSERT + " RETURNING ref",
            (
                job.job_id,
                job.channel,
                partition,
                job.state.value,
                job.topic_key,
                slot,
                measure,
                finished.timestamp() if finished is not None else None,
                encode(job),
            ),
        ).fetchone()
        return int(row[0])

    def defer_indexes(self) -> None:
        """The secondary indexes are dropped and built once at the end, from sorted keys: a
        million rows inserted into them one by one made a cold restore several times slower.
        A process that dies meanwhile leaves a file without them; opening it builds them."""
        for name in _INDEXES:
            self._db.execute(f"DROP INDEX IF EXISTS {name}")
        # The job id's unique index takes random inserts: a cache that holds it (~30 MiB a
        # million jobs) keeps them off the disk; given back at the end.
        self._db.execute(f"PRAGMA cache_size=-{max(self._cache_kib, _BULK_CACHE_KIB)}")

    def build_indexes(self) -> None:
        """Seconds at a million rows: the restore runs it in a thread (SQLite lets go of the
        GIL), so that the group's heartbeats go on meanwhile."""
        self._db.executescript(_create_indexes() + f"PRAGMA cache_size=-{self._cache_kib};")

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        with self.transaction():
            self._db.executemany(_UPSERT, rows)

    def instants(self, refs: list[int]) -> Iterable[tuple[int, float | None]]:
        sign = {abs(r): r for r in refs}
        keys = list(sign)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for ref, state, slot, measure in self._db.execute(
                f"SELECT ref, state, slot, measure FROM jobs WHERE ref IN ({marks})", chunk
            ):
                if sign[ref] > 0:
                    yield ref, slot if state in _FIRING else None
                else:
                    yield -ref, measure if state == JobState.PUBLISHED.value else None

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]:
        rows = self._db.execute(
            "SELECT payload FROM jobs WHERE channel = ? AND topic_key = ?", (channel, topic_key)
        ).fetchall()
        return [decode_as(r[0], JobPlanned) for r in rows]

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]:
        names = [s.value for s in states]
        marks = ",".join("?" * len(names))
        rows = self._db.execute(
            # In the order the jobs came, as the memory store gives them (the index is ordered by
            # instant): the policy's choices among equals follow it.
            f"SELECT payload FROM jobs WHERE channel = ? AND state IN ({marks}) ORDER BY ref",
            (channel, *names),
        ).fetchall()
        return [decode_as(r[0], JobPlanned) for r in rows]

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        """Forget the partitions' rows, snapshots and claims, together."""
        gone = [(p,) for p in partitions]
        if not gone:
            return
        with self.transaction():
            for table in ("jobs", "channels", "claims"):
                self._db.executemany(f"DELETE FROM {table} WHERE partition = ?", gone)

    def delete(self, job_id: str) -> None:
        self._changing()
        self._db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))

    def delete_raw(self, job_ids: Iterable[str]) -> None:
        with self.transaction():
            self._db.executemany("DELETE FROM jobs WHERE job_id = ?", ((j,) for j in job_ids))

    def finished_before(self, cutoff: datetime, limit: int) -> list[JobPlanned]:
        rows = self._db.execute(
            "SELECT payload FROM jobs WHERE finished <= ? ORDER BY finished LIMIT ?",
            (cutoff.timestamp(), limit),
        ).fetchall()
        return [decode_as(r[0], JobPlanned) for r in rows]

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        for p in partitions:
            yield from self._db.execute(
                "SELECT ref, state, slot, channel, measure, occupied FROM jobs WHERE partition = ?", (p,)
            )

    def due_page(self, after: float, limit: int) -> tuple[list[tuple[float, int]], float]:
        query = "SELECT due, ref, state FROM jobs WHERE due >= ? ORDER BY due LIMIT ?"
        entries = self._signed(self._db.execute(query, (after, limit + 1)))
        page, end = page_of(entries, limit)
        if len(page) == limit + 1:  # a page's worth at one instant: every timer at it
            page = self._signed(
                self._db.execute("SELECT due, ref, state FROM jobs WHERE due = ?", (page[0][0],))
            )
        return page, end

    @staticmethod
    def _signed(rows: Iterable[tuple[float, int, str]]) -> list[tuple[float, int]]:
        return [(at, ref if state in _FIRING else -ref) for at, ref, state in rows]

    def occupied(self, channel: str) -> list[float]:
        return [r[0] for r in self._db.execute(_OCCUPIED, (channel, *_OCCUPYING))]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM jobs").fetchone()[0])

    def count_by_state(self) -> dict[tuple[str, str], int]:
        rows = self._db.execute(
            "SELECT channel, state, count(*) FROM jobs GROUP BY channel, state"
        ).fetchall()
        return {(str(channel), str(state)): int(n) for channel, state, n in rows}


def _published_at(payload: bytes) -> float | None:
    try:
        iso = orjson.loads(payload).get("published_at")
        return datetime.fromisoformat(iso).timestamp() if isinstance(iso, str) else None
    except (orjson.JSONDecodeError, AttributeError, ValueError):
        return None

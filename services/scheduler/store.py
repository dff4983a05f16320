"""Where the plan's job records live while a worker owns them.

The plan needs three things from a store: a job by id, the held jobs of a channel that share a
topic or a state, and a small integer reference per job for the timer wheel. Payloads (the
content to post) stay out of Python objects in ``SqliteJobStore`` — a local, disposable cache of
the compacted ``schedule.jobs`` changelog, like a Kafka Streams state store — so that a worker
holding a million pending jobs keeps in RAM only the timers of the next minutes (``due_page``)
and the occupied instants of the channels it is placing jobs on (``occupied``).
``MemoryJobStore`` (store_memory.py) keeps records as objects: simple, for tests and small
deployments.

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

from services.scheduler import store_bulk
from services.scheduler.plan_state import FIRING_NAMES
from services.scheduler.retention import finished_at
from services.scheduler.store_sql import (
    LAYOUT,
    OCCUPIED,
    OCCUPYING,
    SCHEMA,
    UPSERT,
    create_indexes,
)
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


ChannelRow = tuple[str, int, bytes]
"""(channel, partition, encoded ChannelStateRecorded) as it was read from ``schedule.channels``."""


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
        # Set while a bulk load of an empty file is under way: it takes the rows (store_bulk.py).
        self._appender: store_bulk.Appender | None = None
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
            self._db.executescript(SCHEMA + f"PRAGMA user_version = {LAYOUT};")
            self._db.execute("INSERT INTO meta VALUES ('store_id', ?)", (self.store_id,))
        self._db.executescript(SCHEMA + create_indexes())  # a bulk load cut short left some out
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
            UPSERT + " RETURNING ref",
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
        """Indexes built once at the end, and no journal when the whole file is rebuilt
        (store_bulk.py says why each is safe)."""
        unlogged = self.path != ":memory:" and store_bulk.is_empty(self._db)
        self._appender = store_bulk.begin(self._db, self._cache_kib, unlogged=unlogged)

    def build_indexes(self) -> None:
        """Seconds at a million rows: the restore runs it in a thread (SQLite lets go of the
        GIL), so that the group's heartbeats go on meanwhile."""
        appended, self._appender = self._appender, None
        store_bulk.end(self._db, self._cache_kib, appended)

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        with self.transaction():
            if self._appender is not None:
                self._appender.put(rows)
            else:
                self._db.executemany(UPSERT, rows)

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
            if self._appender is not None:
                self._appender.delete(job_ids)
            else:
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
        return [r[0] for r in self._db.execute(OCCUPIED, (channel, *OCCUPYING))]

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

"""Where the plan's job records live while a worker owns them.

The plan needs three things from a store: a job by id, the held jobs of a channel that share a
topic or a state, and a small integer reference per job for the timer wheel. Payloads (the
content to post) stay out of Python objects in ``SqliteJobStore`` — a local, disposable cache of
the compacted ``schedule.jobs`` changelog, like a Kafka Streams state store — so that a worker
holding a million pending jobs keeps only their due instants and references in RAM.
``MemoryJobStore`` keeps records as objects: simple, for tests and small deployments.

Both are rebuilt from the changelog when a worker is assigned partitions, so losing the local
file loses nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

import orjson

from shared.codec import decode_as, encode
from shared.events import JobPlanned, JobState

RestoreRow = tuple[str, str, int, str, str | None, float | None, float | None, bytes]
"""(job id, channel, partition, state, topic key, slot, next measurement, encoded JobPlanned)."""

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

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]: ...

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]: ...

    def drop_partitions(self, partitions: Iterable[int]) -> None: ...

    def delete(self, job_id: str) -> None:
        """Forget one job (the plan undoing a command that raised). A wheel entry left with its
        reference is harmless: the plan re-reads the store when an entry comes due."""
        ...

    def instants(self, refs: list[int]) -> Iterable[tuple[int, float | None]]:
        """Exact due instants of wheel references: a publish slot (ref > 0) or the next
        measurement (ref < 0); None when the job is no longer due."""
        ...

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        """What the wheel and the channels' occupied instants need, for every job of the partitions."""
        ...

    def count(self) -> int: ...

    def count_by_state(self) -> dict[tuple[str, str], int]:
        """Jobs by (channel, state)."""
        ...


_FIRING = frozenset({JobState.SCHEDULED.value, JobState.RETRYING.value})


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

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        wanted = set(partitions)
        for job_id, job in list(self._jobs.items()):
            if self._partition.get(job_id) in wanted:
                slot = job.slot.timestamp() if job.slot else None
                published = job.published_at.timestamp() if job.published_at else None
                measure = job.measure_at[0].timestamp() if job.measure_at else None
                yield self._refs[job_id], job.state.value, slot, job.channel, measure, published or slot

    def count(self) -> int:
        return len(self._jobs)

    def count_by_state(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for job in self._jobs.values():
            key = (job.channel, job.state.value)
            out[key] = out.get(key, 0) + 1
        return out


_UPSERT = (
    "INSERT INTO jobs (job_id, channel, partition, state, topic_key, slot, measure, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, payload = excluded.payload,"
    " partition = excluded.partition, slot = excluded.slot, measure = excluded.measure,"
    " topic_key = excluded.topic_key"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    ref INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    partition INTEGER NOT NULL,
    state TEXT NOT NULL,
    topic_key TEXT,
    slot REAL,
    measure REAL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_topic ON jobs (channel, topic_key) WHERE topic_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (channel, state);
CREATE INDEX IF NOT EXISTS jobs_partition ON jobs (partition);
"""


class SqliteJobStore:
    """Job records in a local SQLite file; durability comes from Kafka, so the file is a cache."""

    def __init__(self, path: Path | str, cache_kib: int = 8192) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).unlink(missing_ok=True)  # rebuilt from the changelog on assignment
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # The changelog is the source of truth: no fsync, no rollback journal on disk.
        self._db.executescript(
            f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-{cache_kib};"
            " PRAGMA temp_store=MEMORY;" + _SCHEMA
        )

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
        slot = job.slot.timestamp() if job.slot else None
        measure = job.measure_at[0].timestamp() if job.measure_at else None
        row = self._db.execute(
            _UPSERT + " RETURNING ref",
            (job.job_id, job.channel, partition, job.state.value, job.topic_key, slot, measure, encode(job)),
        ).fetchone()
        return int(row[0])

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany(_UPSERT, rows)
        self._db.execute("COMMIT")

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
            f"SELECT payload FROM jobs WHERE channel = ? AND state IN ({marks})", (channel, *names)
        ).fetchall()
        return [decode_as(r[0], JobPlanned) for r in rows]

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        self._db.executemany("DELETE FROM jobs WHERE partition = ?", [(p,) for p in partitions])

    def delete(self, job_id: str) -> None:
        self._db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        for p in partitions:
            cursor = self._db.execute(
                "SELECT ref, state, slot, channel, measure, payload FROM jobs WHERE partition = ?", (p,)
            )
            for ref, state, slot, channel, measure, payload in cursor:
                occupied = slot
                if state == JobState.PUBLISHED.value:
                    # A published post occupies its publishing instant, which only the record holds.
                    occupied = _ts(orjson.loads(payload).get("published_at")) or slot
                yield int(ref), str(state), slot, channel, measure, occupied

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM jobs").fetchone()[0])

    def count_by_state(self) -> dict[tuple[str, str], int]:
        rows = self._db.execute(
            "SELECT channel, state, count(*) FROM jobs GROUP BY channel, state"
        ).fetchall()
        return {(str(channel), str(state)): int(n) for channel, state, n in rows}


def _ts(iso: object) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if isinstance(iso, str) else None

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

Indexed = tuple[int, str, float | None, str | None, float | None, float | None]
"""(ref, state, slot, channel, first pending measurement, occupied instant): epoch seconds."""


class JobStore(Protocol):
    def get(self, job_id: str) -> JobPlanned | None: ...

    def ref_of(self, job_id: str) -> int | None: ...

    def by_ref(self, ref: int) -> JobPlanned | None: ...

    def put(self, job: JobPlanned, partition: int) -> int:
        """Store (or replace) a job's record; returns its reference."""
        ...

    def put_raw(self, rows: Iterable[tuple[str, str, int, str, str | None, bytes]]) -> None:
        """Bulk restore: (job id, channel, partition, state, topic key, encoded JobPlanned)."""
        ...

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]: ...

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]: ...

    def drop_partitions(self, partitions: Iterable[int]) -> None: ...

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        """What the wheel and the channels' occupied instants need, for every job of the partitions."""
        ...

    def count(self) -> int: ...


class MemoryJobStore:
    def __init__(self) -> None:
        self._jobs: dict[str, JobPlanned] = {}
        self._refs: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._partition: dict[str, int] = {}

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
            ref = self._refs[job.job_id] = len(self._refs) + 1
            self._ids[ref] = job.job_id
        self._jobs[job.job_id] = job
        self._partition[job.job_id] = partition
        return ref

    def put_raw(self, rows: Iterable[tuple[str, str, int, str, str | None, bytes]]) -> None:
        for _, _, partition, _, _, payload in rows:
            self.put(decode_as(payload, JobPlanned), partition)

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]:
        return [j for j in self._jobs.values() if j.channel == channel and j.topic_key == topic_key]

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]:
        wanted = set(states)
        return [j for j in self._jobs.values() if j.channel == channel and j.state in wanted]

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        gone = set(partitions)
        for job_id in [j for j, p in self._partition.items() if p in gone]:
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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    ref INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    partition INTEGER NOT NULL,
    state TEXT NOT NULL,
    topic_key TEXT,
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
        row = self._db.execute(
            "INSERT INTO jobs (job_id, channel, partition, state, topic_key, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, payload = excluded.payload,"
            " partition = excluded.partition RETURNING ref",
            (job.job_id, job.channel, partition, job.state.value, job.topic_key, encode(job)),
        ).fetchone()
        return int(row[0])

    def put_raw(self, rows: Iterable[tuple[str, str, int, str, str | None, bytes]]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT INTO jobs (job_id, channel, partition, state, topic_key, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, payload = excluded.payload,"
            " partition = excluded.partition",
            rows,
        )
        self._db.execute("COMMIT")

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

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        for p in partitions:
            cursor = self._db.execute("SELECT ref, state, payload FROM jobs WHERE partition = ?", (p,))
            for ref, state, payload in cursor:
                # Only instants are needed; orjson is far cheaper than validating the whole record.
                raw = orjson.loads(payload)
                slot = _ts(raw.get("slot"))
                published = _ts(raw.get("published_at"))
                measures = raw.get("measure_at") or ()
                measure = _ts(measures[0]) if measures else None
                yield int(ref), str(state), slot, raw.get("channel"), measure, published or slot

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM jobs").fetchone()[0])


def _ts(iso: object) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if isinstance(iso, str) else None

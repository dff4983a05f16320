"""How ``SqliteJobStore`` takes a bulk restore: the secondary indexes built once at its end and,
when the whole file is being rebuilt, no journal meanwhile.

- Indexes (``store_sql.INDEXES``) are dropped before and built from sorted keys after: a million
  rows inserted into them one by one made a cold restore several times slower. A process that
  dies meanwhile leaves a file without them; opening it builds them.
- The job id's unique index takes random inserts during the load: a cache that holds it (~30 MiB
  a million jobs) keeps them off the disk; given back at the end.
- Building an index scans the whole table (payloads included): read through a memory map, that
  scan costs no copy per page; unmapped at the end.
- A store that holds nothing (no rows, no channel, no claim) is rebuilt from the changelog alone:
  its writes skip the journal (the write-ahead log would write every page twice). The file is
  marked as no layout (``user_version`` 0) until the load is done, so a process that dies
  mid-load leaves a file the next start deletes and restores again, never a torn one it trusts.
- That load also appends without the job id's unique index (``Appender``): kept during the load,
  its random keys made each insert cost about twice an append. A job's records repeat across
  written batches (an uncompacted tail, a tombstone), so before the index is built only the
  last word on each job is kept: the rows of a job after its last tombstone, the latest of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from services.scheduler.store_sql import APPEND, BULK_CACHE_KIB, INDEXES, LAYOUT, create_indexes

_MMAP_BYTES = 1 << 31  # SQLite's default ceiling; a smaller file maps only its own size


def is_empty(db: sqlite3.Connection) -> bool:
    """Nothing in the file a restore would keep: every row it will hold comes from the changelog."""
    return not db.execute(
        "SELECT EXISTS (SELECT 1 FROM jobs) OR EXISTS (SELECT 1 FROM channels)"
        " OR EXISTS (SELECT 1 FROM claims)"
    ).fetchone()[0]


_SEEN_BITS = 1 << 27
"""Bits of the filter of job ids appended so far (16 MiB while the load lasts): at a million jobs,
a few thousand ids are doubted that were not repeated, each a look-up at the end."""

_UNIQUE_JOB_ID = "CREATE UNIQUE INDEX IF NOT EXISTS jobs_job_id ON jobs (job_id)"

_SETTLE = (
    "DELETE FROM jobs WHERE ref IN (SELECT ref FROM ("
    " SELECT j.ref, s.gone, max(j.ref) OVER (PARTITION BY j.job_id) AS last"
    # CROSS JOIN keeps the table the outer loop: one scan, each row looked up in the few doubted
    # ids (SQLite would otherwise sort the whole table by job id for the join).
    " FROM jobs AS j CROSS JOIN settle AS s ON s.job_id = j.job_id)"
    " WHERE ref < last OR ref <= gone)"
)


class Appender:
    """An empty file's bulk load, appending rows with no job-id index: rows get increasing refs in
    the order they are written (log order), so the last row of a job is its latest record.

    What it must undo before the index can be built: rows of a job written more than once (a
    filter of the ids seen says which may have been: ``_doubted``, never missing a repeat), and
    rows a later tombstone forgot (``_gone``: each job's rows up to the highest ref at the time)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._seen = bytearray(_SEEN_BITS // 8)
        self._doubted: set[str] = set()
        self._gone: dict[str, int] = {}

    def put(self, rows: Iterable[tuple[object, ...]]) -> None:
        rows = list(rows)
        seen, doubted = self._seen, self._doubted
        for row in rows:
            # A str caches its hash: the batch's dict has computed it already.
            at = hash(row[0]) & (_SEEN_BITS - 1)
            bit = 1 << (at & 7)
            if seen[at >> 3] & bit:
                doubted.add(str(row[0]))
            else:
                seen[at >> 3] |= bit
        self._db.executemany(APPEND, rows)

    def delete(self, job_ids: Iterable[str]) -> None:
        job_ids = list(job_ids)
        if not job_ids:
            return
        top = self._db.execute("SELECT coalesce(max(ref), 0) FROM jobs").fetchone()[0]
        for job_id in job_ids:
            self._gone[job_id] = top

    def settle(self) -> None:
        """Keep each doubted or tombstoned job's latest row, if no tombstone came after it; then
        the job id is unique, and indexed as such."""
        gone = self._gone
        settle = [(job_id, gone.get(job_id, 0)) for job_id in self._doubted | gone.keys()]
        if settle:
            self._db.execute(
                "CREATE TEMP TABLE settle (job_id TEXT PRIMARY KEY, gone INTEGER NOT NULL) WITHOUT ROWID"
            )
            self._db.executemany("INSERT INTO settle VALUES (?, ?)", settle)
            self._db.execute(_SETTLE)
            self._db.execute("DROP TABLE temp.settle")
        self._db.execute(_UNIQUE_JOB_ID)
        self._seen = bytearray()


def begin(db: sqlite3.Connection, cache_kib: int, *, unlogged: bool) -> Appender | None:
    """Ready for a bulk load; the ``Appender`` that must take its rows when it is unlogged."""
    for name in INDEXES:
        db.execute(f"DROP INDEX IF EXISTS {name}")
    db.execute(f"PRAGMA cache_size=-{max(cache_kib, BULK_CACHE_KIB)}")
    if not unlogged:
        return None
    db.execute("PRAGMA user_version = 0")  # committed (autocommit) before the journal goes
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("DROP INDEX jobs_job_id")
    return Appender(db)


def end(db: sqlite3.Connection, cache_kib: int, appended: Appender | None) -> None:
    """The indexes built; after an unlogged load (``appended``), the file a store again."""
    db.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    if appended is not None:
        appended.settle()
    db.executescript(create_indexes())
    db.execute("PRAGMA mmap_size=0")
    db.execute(f"PRAGMA cache_size=-{cache_kib}")
    if appended is not None:
        # The rows are all there: back to the write-ahead log, then the file is a store again.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA user_version = {LAYOUT}")

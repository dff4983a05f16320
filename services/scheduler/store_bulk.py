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
"""

from __future__ import annotations

import sqlite3

from services.scheduler.store_sql import BULK_CACHE_KIB, INDEXES, LAYOUT, create_indexes

_MMAP_BYTES = 1 << 31  # SQLite's default ceiling; a smaller file maps only its own size


def is_empty(db: sqlite3.Connection) -> bool:
    """Nothing in the file a restore would keep: every row it will hold comes from the changelog."""
    return not db.execute(
        "SELECT EXISTS (SELECT 1 FROM jobs) OR EXISTS (SELECT 1 FROM channels)"
        " OR EXISTS (SELECT 1 FROM claims)"
    ).fetchone()[0]


def begin(db: sqlite3.Connection, cache_kib: int, *, unlogged: bool) -> None:
    for name in INDEXES:
        db.execute(f"DROP INDEX IF EXISTS {name}")
    db.execute(f"PRAGMA cache_size=-{max(cache_kib, BULK_CACHE_KIB)}")
    if unlogged:
        db.execute("PRAGMA user_version = 0")  # committed (autocommit) before the journal goes
        db.execute("PRAGMA journal_mode=OFF")


def end(db: sqlite3.Connection, cache_kib: int, *, unlogged: bool) -> None:
    db.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    db.executescript(create_indexes())
    db.execute("PRAGMA mmap_size=0")
    db.execute(f"PRAGMA cache_size=-{cache_kib}")
    if unlogged:
        # The rows are all there: back to the write-ahead log, then the file is a store again.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA user_version = {LAYOUT}")

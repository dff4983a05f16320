"""The SQL of ``SqliteJobStore`` (store.py): its schema and layout version, the upsert that derives
a row's indexed columns, and the indexes a bulk restore builds once at its end."""

from __future__ import annotations

from services.scheduler.plan_state import OCCUPYING_NAMES

APPEND = (
    "INSERT INTO jobs (job_id, channel, partition, state, topic_key, slot, measure, occupied, finished,"
    " due, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
    " CASE WHEN ?4 = 'published' THEN coalesce(published_at(?9), ?6) ELSE ?6 END, ?8,"
    " CASE WHEN ?4 IN ('scheduled', 'retrying') THEN ?6 WHEN ?4 = 'published' THEN ?7 END, ?9)"
)
"""A new row; an empty file's bulk load appends with it, before the job id is unique
(``store_bulk.Appender``)."""

UPSERT = APPEND + (
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

LAYOUT = 7
"""The kept file's layout version (SQLite ``user_version``): bump it whenever the schema or the
meaning of a column changes, so a file of the old layout is rebuilt instead of misread."""

SCHEMA = """
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
    job_id TEXT NOT NULL,
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
-- Named, not declared in the table: an empty file's bulk load builds it once, at its end.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_job_id ON jobs (job_id);
-- Appended to in a restore (rows arrive partition by partition): kept during a bulk load.
CREATE INDEX IF NOT EXISTS jobs_partition ON jobs (partition);
"""

INDEXES = {
    "jobs_topic": "jobs (channel, topic_key) WHERE topic_key IS NOT NULL",
    # Covers ``occupied``: a channel's instants come from the index, never from the payloads.
    "jobs_state": "jobs (channel, state, occupied)",
    "jobs_finished": "jobs (finished) WHERE finished IS NOT NULL",
    # Covers ``due_page``: the timer wheel reads the next page of timers from it.
    "jobs_due": "jobs (due, ref, state) WHERE due IS NOT NULL",
}
"""Indexes that a bulk restore builds once at its end (``bulk_load``): inserted into row by row,
their random keys made a million-row restore several times slower."""

BULK_CACHE_KIB = 64 * 1024
OCCUPYING = sorted(OCCUPYING_NAMES)
OCCUPIED = (
    f"SELECT occupied FROM jobs WHERE channel = ? AND state IN ({','.join('?' * len(OCCUPYING))})"
    " AND occupied IS NOT NULL"
)


def create_indexes() -> str:
    return "".join(f"CREATE INDEX IF NOT EXISTS {name} ON {on};" for name, on in INDEXES.items())

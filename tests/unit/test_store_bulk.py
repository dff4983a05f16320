"""A bulk restore builds the store's indexes once, at its end, and a file left without them (the
process died mid-restore) gets them back when it is opened."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.planner import restore_row
from services.scheduler.store import RestoreRow, SqliteJobStore
from services.scheduler.store_sql import INDEXES
from shared.codec import encode
from shared.events import JobState
from tests.unit.test_plan import CH, T0
from tests.unit.test_plan_lazy import planned


def _indexes(store: SqliteJobStore) -> set[str]:
    rows = store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return {str(r[0]) for r in rows}


def _rows() -> list[tuple[object, ...]]:
    jobs = planned([timedelta(minutes=m) for m in (5, 6, 7)])
    return [r for r in (restore_row(encode(j), 0) for j in jobs) if r is not None]


def test_a_bulk_restore_ends_with_every_index_and_answers_as_before(tmp_path: Path) -> None:
    store = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    built = _indexes(store)
    store.defer_indexes()
    assert _indexes(store) < built  # deferred to the end
    store.put_raw(_rows())  # type: ignore[arg-type]
    store.build_indexes()
    assert _indexes(store) == built
    assert len(store.in_states(CH, [JobState.SCHEDULED])) == 3
    assert len(store.occupied(CH)) == 3
    page, _ = store.due_page((T0 + timedelta(minutes=6)).timestamp(), 10)
    assert len(page) == 2


def test_a_file_left_mid_bulk_restore_gets_its_indexes_back_on_opening(tmp_path: Path) -> None:
    store = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    built = _indexes(store)
    for name in INDEXES:  # what a bulk load beside kept rows does first; then the process dies
        store._db.execute(f"DROP INDEX {name}")
    store.put_raw(_rows())  # type: ignore[arg-type]
    store.close()
    again = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    assert _indexes(again) == built
    assert again.count() == 3


def _journal(store: SqliteJobStore) -> str:
    return str(store._db.execute("PRAGMA journal_mode").fetchone()[0])


def test_a_bulk_load_of_an_empty_file_skips_the_journal_and_ends_a_store_again(tmp_path: Path) -> None:
    store = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    store.defer_indexes()
    assert _journal(store) == "off"
    store.put_raw(_rows())  # type: ignore[arg-type]
    store.build_indexes()
    assert _journal(store) == "wal"
    store.close()
    again = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    assert not again.fresh
    assert again.store_id == store.store_id
    assert again.count() == 3


def test_a_file_left_mid_unlogged_load_is_started_afresh(tmp_path: Path) -> None:
    store = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    store.defer_indexes()
    store.put_raw(_rows())  # type: ignore[arg-type]
    store.claim({("jobs", 0): 3})
    store.close()  # the process dies before the load ends
    again = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    assert again.fresh
    assert again.count() == 0
    assert again.claims() == {}


def test_a_bulk_load_beside_kept_rows_keeps_the_journal(tmp_path: Path) -> None:
    store = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    store.put_raw(_rows()[:1])  # type: ignore[arg-type]
    store.defer_indexes()
    assert _journal(store) == "wal"
    store.put_raw(_rows())  # type: ignore[arg-type]
    store.build_indexes()
    assert store.count() == 3


# A changelog as the restore reads it: (job index, version), or (job index, None) for a tombstone.
_records = st.lists(st.tuples(st.integers(0, 6), st.none() | st.integers(0, 3)), max_size=40)


def _row(job: int, version: int) -> RestoreRow:
    return (f"j{job}", CH, job % 3, "scheduled", None, 1000.0 + job, None, None, f"j{job}v{version}".encode())


def _written(
    records: list[tuple[int, int | None]], cuts: list[int]
) -> list[tuple[list[RestoreRow], set[str]]]:
    """The store writes of ``records`` cut into batches at ``cuts``, each batch keeping every key's
    last change as the restore's replay does."""
    out = []
    for start, stop in itertools.pairwise([0, *sorted(cuts), len(records)]):
        rows: dict[str, RestoreRow] = {}
        gone: set[str] = set()
        for job, version in records[start:stop]:
            if version is None:
                rows.pop(f"j{job}", None)
                gone.add(f"j{job}")
            else:
                gone.discard(f"j{job}")
                rows[f"j{job}"] = _row(job, version)
        out.append((list(rows.values()), gone))
    return out


@settings(max_examples=150, deadline=None)
@given(_records, st.lists(st.integers(0, 40), max_size=6), st.booleans())
def test_a_bulk_load_keeps_each_jobs_last_record_however_the_writes_were_cut(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[tuple[int, int | None]],
    cuts: list[int],
    empty: bool,
) -> None:
    """The judge is the changelog's own rule (the last record of a key wins, a tombstone deletes),
    not the store: the unlogged load of an empty file appends and settles at the end, the load
    beside kept rows upserts as it goes; both must end as the log says."""
    store = SqliteJobStore(tmp_path_factory.mktemp("bulk") / "plan.sqlite3", keep=True)
    kept = [] if empty else [_row(9, 0)]
    store.put_raw(kept)
    store.defer_indexes()
    for rows, gone in _written(records, [c for c in cuts if c <= len(records)]):
        store.put_raw(rows)
        store.delete_raw(gone)
    store.build_indexes()
    expected: dict[str, bytes] = {r[0]: r[8] for r in kept}
    for job, version in records:
        if version is None:
            expected.pop(f"j{job}", None)
        else:
            expected[f"j{job}"] = f"j{job}v{version}".encode()
    found = store._db.execute("SELECT job_id, payload FROM jobs").fetchall()
    assert sorted((str(j), bytes(p)) for j, p in found) == sorted(expected.items())
    assert "jobs_job_id" in _indexes(store)
    for job_id in expected:  # the job id's index answers, and upserts find their row again
        assert store.ref_of(job_id) is not None
    store.close()

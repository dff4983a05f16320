"""A bulk restore builds the store's indexes once, at its end, and a file left without them (the
process died mid-restore) gets them back when it is opened."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.scheduler.planner import restore_row
from services.scheduler.store import SqliteJobStore
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
    for name in built:  # what a bulk load does first; then the process dies
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

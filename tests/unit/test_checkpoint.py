"""The kept plan store's checkpoint: when a partition may replay only its tail, and when it must be
restored in full; what the store file and the checkpoint file do across a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.checkpoint import Checkpoint, CheckpointFile, LogBounds, resume_point
from services.scheduler.restore import KeptStore
from services.scheduler.store import LAYOUT, RestoreRow, SqliteJobStore

JOBS, CHANNELS = "w.schedule.jobs", "w.schedule.channels"


def _checkpoint(jobs: int = 100, channels: int = 10, layout: int = LAYOUT) -> Checkpoint:
    return Checkpoint(layout, "store-a", {(JOBS, 1): jobs, (CHANNELS, 1): channels})


def _bounds(jobs: tuple[int, int] = (0, 150), channels: tuple[int, int] = (0, 12)) -> dict[str, LogBounds]:
    return {JOBS: LogBounds(*jobs), CHANNELS: LogBounds(*channels)}


def _point(
    checkpoint: Checkpoint | None, bounds: dict[str, LogBounds], store_id: str = "store-a"
) -> str | None:
    return resume_point(checkpoint, layout=LAYOUT, store_id=store_id, partition=1, bounds=bounds).full_reason


def test_a_matching_checkpoint_replays_each_topic_from_its_checkpointed_offset() -> None:
    point = resume_point(_checkpoint(), layout=LAYOUT, store_id="store-a", partition=1, bounds=_bounds())
    assert point.warm
    assert point.offsets == {JOBS: 100, CHANNELS: 10}


@pytest.mark.parametrize(
    ("jobs", "channels"),
    [
        ((0, 100), (0, 10)),  # nothing written since: an empty tail
        ((100, 150), (10, 12)),  # log start exactly at the checkpoint: nothing before it is missed
        ((40, 150), (0, 12)),  # log start before it (compaction never moves it past live records)
    ],
)
def test_the_checkpoint_still_matches_at_its_edges(jobs: tuple[int, int], channels: tuple[int, int]) -> None:
    assert _point(_checkpoint(), _bounds(jobs, channels)) is None


@pytest.mark.parametrize(
    ("checkpoint", "bounds", "store_id", "reason"),
    [
        (None, _bounds(), "store-a", "no checkpoint"),
        (_checkpoint(layout=LAYOUT - 1), _bounds(), "store-a", "store layout"),
        (_checkpoint(), _bounds(), "store-b", "another store file"),
        (Checkpoint(LAYOUT, "store-a", {(JOBS, 1): 100}), _bounds(), "store-a", f"{CHANNELS} not in"),
        (Checkpoint(LAYOUT, "store-a", {(JOBS, 2): 1, (CHANNELS, 2): 1}), _bounds(), "store-a", "not in"),
        (_checkpoint(), _bounds(jobs=(0, 99)), "store-a", "recreated or truncated"),
        (_checkpoint(), _bounds(channels=(0, 3)), "store-a", "recreated or truncated"),
        (_checkpoint(), _bounds(jobs=(101, 150)), "store-a", "records deleted"),
        (_checkpoint(), _bounds(channels=(11, 12)), "store-a", "records deleted"),
    ],
)
def test_a_checkpoint_that_does_not_match_means_a_full_restore_from_the_log_start(
    checkpoint: Checkpoint | None, bounds: dict[str, LogBounds], store_id: str, reason: str
) -> None:
    point = resume_point(checkpoint, layout=LAYOUT, store_id=store_id, partition=1, bounds=bounds)
    assert not point.warm
    assert reason in (point.full_reason or "")
    assert point.offsets == {t: b.start for t, b in bounds.items()}


def test_the_checkpoint_file_round_trips_and_an_unreadable_one_counts_as_none(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "plan.sqlite3.checkpoint")
    assert file.read() is None
    file.write(_checkpoint())
    assert file.read() == _checkpoint()
    file.path.write_bytes(b'{"layout": 2, "store_')  # torn by hand
    assert file.read() is None
    file.discard()
    file.discard()  # twice is fine
    assert not file.path.exists()


def _row(job_id: str, partition: int, payload: bytes) -> RestoreRow:
    return (job_id, "ch", partition, "scheduled", None, 1.0, None, None, payload)


def test_a_kept_store_file_survives_a_restart_only_when_its_checkpoint_vouches_for_it(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite3"
    kept = KeptStore.open(path)
    kept.store.put_raw([_row("a", 0, b"{}")])
    kept.file.write(Checkpoint(LAYOUT, kept.store.store_id, {}))
    kept.close()

    kept = KeptStore.open(path)
    assert not kept.store.fresh
    assert kept.store.count() == 1
    kept.close()

    kept.file.write(Checkpoint(LAYOUT, "someone-else", {}))
    kept = KeptStore.open(path)
    assert kept.store.fresh  # a checkpoint of another file: this one is started afresh
    assert kept.store.count() == 0
    kept.close()

    kept.file.discard()
    kept = KeptStore.open(path)
    assert kept.store.fresh  # no checkpoint (a crash while it was written to)
    kept.close()


def test_the_first_write_the_changelog_may_not_hold_discards_the_checkpoint(tmp_path: Path) -> None:
    kept = KeptStore.open(tmp_path / "plan.sqlite3")
    store = kept.store
    kept.file.write(Checkpoint(LAYOUT, store.store_id, {}))
    store.put_raw([_row("a", 0, b"{}")])  # restored from the changelog
    store.put_channels_raw([("ch", 0, b"{}")])
    store.drop_partitions([])  # a first join revokes nothing
    assert kept.file.path.exists()
    store.delete("nothing")  # a plan write (undoing a command)
    assert not kept.file.path.exists()

    kept.file.write(Checkpoint(LAYOUT, store.store_id, {}))
    store.drop_partitions([3])  # already dirty: nothing more is done until marked clean
    assert kept.file.path.exists()
    store.mark_clean()
    store.drop_partitions([3])
    assert not kept.file.path.exists()
    kept.close()


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b""])
def test_a_store_file_that_is_not_a_store_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plan.sqlite3"
    path.write_bytes(content)
    store = SqliteJobStore(path, keep=True)
    assert store.fresh
    store.put_raw([_row("a", 0, b"{}")])
    assert store.count() == 1
    store.close()


def test_a_store_file_of_another_layout_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite3"
    store = SqliteJobStore(path, keep=True)
    store.put_raw([_row("a", 0, b"{}")])
    store.close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {LAYOUT + 1}")
    db.close()
    store = SqliteJobStore(path, keep=True)
    assert store.fresh
    assert store.count() == 0
    store.close()


def test_a_second_worker_on_the_same_state_directory_gets_a_disposable_store(tmp_path: Path) -> None:
    first = KeptStore.open(tmp_path / "plan.sqlite3")
    second = KeptStore.open(tmp_path / "plan.sqlite3")
    assert second.store.path != first.store.path
    second.close()
    first.close()


@settings(max_examples=60, deadline=None)
@given(
    log=st.lists(st.tuples(st.sampled_from("abcdef"), st.binary(max_size=4)), min_size=1, max_size=30),
    data=st.data(),
)
def test_replaying_the_tail_from_an_older_checkpoint_ends_where_a_full_replay_ends(
    log: list[tuple[str, bytes]], data: st.DataObject
) -> None:
    """A crash after the store took records in but before the checkpoint said so: the next start
    replays from the older checkpoint onto a store that already holds some of the tail."""
    held = data.draw(st.integers(0, len(log)), "records the store holds")
    checkpoint = data.draw(st.integers(0, held), "the older checkpoint")
    rows = [_row(key, 0, value) for key, value in log]
    snapshots = [(key, 0, key.encode() + b":" + value) for key, value in log]

    def state(store: SqliteJobStore) -> tuple[list[tuple[str, bytes]], list[bytes]]:
        jobs = store._db.execute("SELECT job_id, payload FROM jobs ORDER BY job_id").fetchall()
        return jobs, sorted(store.channel_snapshots([0]))

    full = SqliteJobStore(":memory:")
    full.put_raw(rows)
    full.put_channels_raw(snapshots)
    warm = SqliteJobStore(":memory:")
    warm.put_raw(rows[:held])
    warm.put_channels_raw(snapshots[:held])
    warm.put_raw(rows[checkpoint:])
    warm.put_channels_raw(snapshots[checkpoint:])
    assert state(warm) == state(full)

"""The kept plan store's checkpoint: when a partition may replay only its tail, and when it must be
restored in full; what the store file and the claims inside it do across a restart and a crash."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.checkpoint import Checkpoint, LogBounds, resume_point
from services.scheduler.restore import KeptStore, claimable
from services.scheduler.store import RestoreRow, SqliteJobStore
from services.scheduler.store_sql import LAYOUT

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


def _row(job_id: str, partition: int, payload: bytes) -> RestoreRow:
    return (job_id, "ch", partition, "scheduled", None, 1.0, None, None, payload)


def test_a_kept_store_keeps_its_rows_and_claims_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite3"
    kept = KeptStore.open(path)
    with kept.store.transaction():
        kept.store.put_raw([_row("a", 0, b"{}")])
        kept.store.claim({(JOBS, 0): 7})
    kept.close()

    kept = KeptStore.open(path)
    assert not kept.store.fresh
    assert kept.store.count() == 1
    assert kept.store.claims() == {(JOBS, 0): 7}
    kept.close()


_KILLED_MID_STEP = """
import os, signal, sys
from services.scheduler.store import SqliteJobStore
row = lambda job_id, payload: (job_id, "ch", 0, "scheduled", None, 1.0, None, None, payload)
store = SqliteJobStore(sys.argv[1], keep=True)
with store.transaction():
    store.put_raw([row("a", b'{"v": 1}')])
    store.claim({("w.schedule.jobs", 0): 5})
with store.transaction():  # the next step: its Kafka transaction committed, then kill -9
    store.put_raw([row("a", b'{"v": 2}'), row("b", b"{}")])
    store.claim({("w.schedule.jobs", 0): 9})
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_kill_in_the_middle_of_a_step_leaves_the_last_committed_rows_and_claims(tmp_path: Path) -> None:
    """Killed between the Kafka commit and the store's: neither the rows nor the claims of that
    step are in the file, so the next start replays the step's records from the older claim."""
    path = tmp_path / "plan.sqlite3"
    done = subprocess.run([sys.executable, "-c", _KILLED_MID_STEP, str(path)], check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL
    store = SqliteJobStore(path, keep=True)
    assert not store.fresh
    assert store.claims() == {(JOBS, 0): 5}
    assert store._db.execute("SELECT job_id, payload FROM jobs").fetchall() == [("a", b'{"v": 1}')]
    store.close()


def test_a_plan_write_outside_a_step_withdraws_the_claims_and_dropped_partitions_lose_theirs(
    tmp_path: Path,
) -> None:
    store = SqliteJobStore(tmp_path / "plan.sqlite3", keep=True)
    store.claim({(JOBS, 0): 5, (JOBS, 3): 8, (CHANNELS, 3): 2})
    store.put_raw([_row("a", 0, b"{}"), _row("b", 3, b"{}")])  # restored from the changelog
    store.put_channels_raw([("ch", 3, b"{}")])
    store.drop_partitions([])  # a first join revokes nothing
    assert len(store.claims()) == 3
    store.drop_partitions([3])  # rows, snapshots and claims go together
    assert store.claims() == {(JOBS, 0): 5}
    assert store.partitions() == {0}
    with store.transaction():
        store.delete("a")  # a plan write inside a step: the step's claims decide
    assert store.claims() == {(JOBS, 0): 5}
    store.delete("nothing")  # a plan write outside any step: nothing ties it to the changelog
    assert store.claims() == {}
    store.close()


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


@given(
    st.dictionaries(
        st.integers(0, 5),
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.none() | st.integers(0, 10**6)),
        max_size=6,
    )
)
def test_a_claim_after_reading_to_the_ends_never_goes_back_behind_what_the_file_held(
    logs: dict[int, tuple[int, int, int | None]],
) -> None:
    bounds = {TopicPartition("schedule.jobs", p): (0, end) for p, (_, end, _) in logs.items()}
    held = {TopicPartition("schedule.jobs", p): at for p, (_, _, at) in logs.items() if at is not None}
    claims = claimable(bounds, held)
    assert set(claims) == set(bounds)
    for tp, (_, end) in bounds.items():
        assert claims[tp] >= end  # whatever the logs' ends hold is read
        assert claims[tp] >= held.get(tp, 0)  # and the file's own writes are not read again
        if tp not in held:
            assert claims[tp] == end  # nothing held there: the ends as read

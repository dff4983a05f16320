"""The collector settings every service applies at start (shared.runtime)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from shared.runtime import collector_paused, tune_gc
from shared.settings import ROOT, CommonSettings


@pytest.fixture
def restored_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_thresholds")
def test_the_young_threshold_changes_and_the_older_generations_keep_their_ratios() -> None:
    gc.set_threshold(700, 10, 10)
    tune_gc(10_000)
    assert gc.get_threshold() == (10_000, 10, 10)


def test_services_collect_less_often_than_cpython_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WARTA_GC_YOUNG_THRESHOLD", raising=False)
    assert CommonSettings().gc_young_threshold == 10_000
    monkeypatch.setenv("WARTA_GC_YOUNG_THRESHOLD", "700")
    assert CommonSettings().gc_young_threshold == 700


# Freezing pins every object of the process that runs it, so these run in a child process.
_CHILD = """
import gc, weakref
from shared.runtime import freeze_survivors, sweep, unfreeze_survivors

class Node:
    pass

gc.collect()
before = gc.get_freeze_count()
freeze_survivors()
kept = [Node() for _ in range(1000)]
gc.collect(0)
assert gc.get_freeze_count() >= before + 1000, "survivors of a young collection are frozen"

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle, alive at the next collection, so frozen by it
gc.collect(0)
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is not None, "a frozen cycle waits for the sweep"
sweep()
assert gone() is None, "the sweep frees it"

unfreeze_survivors()
assert gc.get_freeze_count() == 0
print("ok")
"""


def test_survivors_are_frozen_and_a_sweep_frees_the_cycles_among_them() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def _restore_that_fails(collections: list[int], inside: list[tuple[bool, int]]) -> None:
    with collector_paused():
        collections.clear()
        # Kept alive, so that they count towards the young threshold many times over.
        kept: list[list[int]] = [[] for _ in range(50_000)]
        inside.append((gc.isenabled(), len(collections)))
        raise RuntimeError(f"the restore failed after {len(kept)} rows")


def test_a_paused_collector_collects_nothing_inside_and_is_back_after_even_when_the_block_raises() -> None:
    assert gc.isenabled()
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    inside: list[tuple[bool, int]] = []
    gc.callbacks.append(count)
    try:
        with pytest.raises(RuntimeError):
            _restore_that_fails(collections, inside)
    finally:
        gc.callbacks.remove(count)
    assert inside == [(False, 0)]
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off_after_a_pause_and_nested_pauses_keep_it_off() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

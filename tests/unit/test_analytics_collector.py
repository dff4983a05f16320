"""The analytics worker's setting of Python's cyclic collector, judged by CPython's own
``gc.callbacks``: a growing table no longer costs passes over the whole heap, and cyclic
garbage is still collected without anyone calling ``gc.collect``."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from services.analytics.settings import AnalyticsSettings
from shared.runtime import tune_gc
from shared.settings import CommonSettings

DEFAULT_YOUNG = 700  # CPython's


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    before = gc.get_threshold()
    was_enabled = gc.isenabled()
    gc.enable()
    gc.collect()  # each test starts from a collected heap, whatever ran before it
    yield
    gc.set_threshold(*before)
    if not was_enabled:
        gc.disable()


class _Passes:
    """The collector's passes by generation, as CPython reports them."""

    def __init__(self) -> None:
        self.by_generation = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            self.by_generation[info["generation"]] += 1

    def __enter__(self) -> _Passes:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


def _grow_a_table(entries: int) -> dict[str, Any]:
    """Entries shaped like the fold's: a post and its bucket, JSON values without cycles."""
    table: dict[str, Any] = {}
    for i in range(entries):
        table[f"post|c{i}"] = {"ch": "x", "at": i, "c": {"likes": [i, 1], "shares": [0, 0]}}
        table[f"b|day|{i}"] = {"n": [1, 2], "sum": {"likes": 3}}
    return table


def test_the_workers_threshold_is_above_the_other_services_and_cpythons() -> None:
    # The command sets it for the process (tests/unit/test_cli_launch.py); here, only the default.
    assert AnalyticsSettings().gc_young_threshold > CommonSettings().gc_young_threshold > DEFAULT_YOUNG


@pytest.mark.parametrize("settings", [CommonSettings, AnalyticsSettings])
@pytest.mark.parametrize("threshold", [0, -5, 699])
def test_a_threshold_that_would_stop_or_undercut_the_collector_is_refused(
    settings: type[CommonSettings], threshold: int
) -> None:
    with pytest.raises(ValidationError):
        settings(gc_young_threshold=threshold)


def test_a_table_growing_by_a_burst_costs_next_to_no_passes_over_older_objects() -> None:
    gc.set_threshold(DEFAULT_YOUNG, 10, 10)
    with _Passes() as at_default:
        default_table = _grow_a_table(100_000)
    del default_table
    gc.collect()
    tune_gc(AnalyticsSettings().gc_young_threshold)
    with _Passes() as tuned:
        tuned_table = _grow_a_table(100_000)
    # The cost removed (without it the assertions after would prove nothing), then its absence.
    # Counted over the older generations: how many of those passes reach the whole heap also
    # depends on how big the rest of the process is (CPython waits for it to grow by a quarter),
    # so a test process holding a whole suite's objects makes fewer than the worker would.
    older = [passes.by_generation[1] + passes.by_generation[2] for passes in (at_default, tuned)]
    assert older[0] >= 50  # one every 7,000 tracked objects: ~700,000 made here
    assert older[1] <= 2
    assert tuned.by_generation[2] == 0
    assert len(tuned_table) == 200_000


def test_cyclic_garbage_is_still_collected_without_gc_collect() -> None:
    young = AnalyticsSettings().gc_young_threshold
    tune_gc(young)
    watched: list[weakref.ref[Any]] = []
    with _Passes() as passes:
        for i in range(2 * young):
            node: dict[str, Any] = {"i": i}
            node["self"] = node  # a cycle: reference counting alone never frees it
            if i < young // 2 and i % 100 == 0:
                watched.append(weakref.ref(_Ref(node)))
    assert passes.by_generation[0] >= 1
    assert watched
    assert all(ref() is None for ref in watched)


class _Ref:
    """A weakly referenceable object caught in its node's cycle."""

    def __init__(self, node: dict[str, Any]) -> None:
        self.node = node
        node["ref"] = self

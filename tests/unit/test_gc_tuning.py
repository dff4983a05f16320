"""The collector settings every service applies at start (shared.runtime)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared.runtime import tune_gc
from shared.settings import CommonSettings


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

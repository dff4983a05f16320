"""Every service command starts through one launcher: the service's own settings reach its run()."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from shared.settings import CommonSettings
from warta.cli import _launch


@pytest.fixture
def gc_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_launcher_runs_the_service_with_its_settings_until_it_returns(gc_thresholds: None) -> None:
    settings = CommonSettings(gc_young_threshold=12_345)
    seen: list[tuple[CommonSettings, bool]] = []

    async def run(given: CommonSettings, stop: asyncio.Event) -> None:
        seen.append((given, stop.is_set()))

    assert _launch("probe", settings, run) == 0
    assert seen == [(settings, False)]
    assert gc.get_threshold()[0] == 12_345

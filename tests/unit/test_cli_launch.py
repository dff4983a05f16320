"""Every service command starts through one launcher: the service's own settings reach its run(),
on the event loop they name."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from importlib.util import find_spec

import pytest

from services.analytics.settings import AnalyticsSettings
from shared.runtime import EventLoop
from shared.settings import CommonSettings
from warta.cli import _launch, _prepare_process

# uvloop is not installed on Windows (pyproject's marker): only its own case skips there.
needs_uvloop = pytest.mark.skipif(find_spec("uvloop") is None, reason="uvloop is not installed here")


@pytest.fixture
def process_state() -> Iterator[None]:
    # What the launcher sets for the whole process: the tests that follow keep their own.
    thresholds = gc.get_threshold()
    policy = asyncio.get_event_loop_policy()
    yield
    gc.set_threshold(*thresholds)
    asyncio.set_event_loop_policy(policy)


def test_the_launcher_runs_the_service_with_its_settings_until_it_returns(process_state: None) -> None:
    settings = CommonSettings(gc_young_threshold=12_345)
    seen: list[tuple[CommonSettings, bool]] = []

    async def run(given: CommonSettings, stop: asyncio.Event) -> None:
        seen.append((given, stop.is_set()))

    assert _launch("probe", settings, run) == 0
    assert seen == [(settings, False)]
    assert gc.get_threshold()[0] == 12_345


@pytest.mark.parametrize(
    ("choice", "uvloop_runs"), [pytest.param("uvloop", True, marks=needs_uvloop), ("asyncio", False)]
)
def test_the_service_runs_on_the_event_loop_its_settings_name(
    process_state: None, choice: EventLoop, uvloop_runs: bool
) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def run(given: CommonSettings, stop: asyncio.Event) -> None:
        loops.append(asyncio.get_running_loop())

    assert _launch("probe", CommonSettings(event_loop=choice), run) == 0
    assert type(loops[0]).__module__.startswith("uvloop") is uvloop_runs


def test_the_analytics_command_sets_the_workers_own_collector_threshold(process_state: None) -> None:
    # The analytics worker starts outside the launcher (faust's worker owns its loop), through
    # the same process preparation.
    settings = AnalyticsSettings(event_loop="asyncio")
    _prepare_process("analytics", settings)
    assert gc.get_threshold()[0] == settings.gc_young_threshold == AnalyticsSettings().gc_young_threshold

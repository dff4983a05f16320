"""Every service command starts through one launcher: the service's own settings reach its run(),
on the event loop they name."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
from collections.abc import Iterator
from importlib.util import find_spec

import pytest

import services.analytics.app as analytics_app
from services.analytics.settings import AnalyticsSettings
from shared.runtime import EventLoop
from shared.settings import CommonSettings
from warta.cli import _analytics, _launch

# uvloop is not installed on Windows (pyproject's marker): only its own case skips there.
needs_uvloop = pytest.mark.skipif(find_spec("uvloop") is None, reason="uvloop is not installed here")


@pytest.fixture
def process_state() -> Iterator[None]:
    # What the launcher sets for the whole process: the tests that follow keep their own.
    thresholds = gc.get_threshold()
    policy = asyncio.get_event_loop_policy()
    root, kafka = logging.getLogger(), logging.getLogger("aiokafka")
    handlers, levels = list(root.handlers), (root.level, kafka.level)
    yield
    gc.set_threshold(*thresholds)
    asyncio.set_event_loop_policy(policy)
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    kafka.setLevel(levels[1])


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


def test_the_analytics_command_sets_the_workers_own_collector_threshold(
    process_state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The analytics worker starts outside the launcher (faust's worker owns its loop): its command
    # prepares the process itself, before the worker runs.
    seen: list[int] = []
    monkeypatch.setenv("WARTA_EVENT_LOOP", "asyncio")
    monkeypatch.setattr(analytics_app, "run", lambda settings: seen.append(gc.get_threshold()[0]))
    assert _analytics(argparse.Namespace()) == 0
    assert seen == [AnalyticsSettings().gc_young_threshold]

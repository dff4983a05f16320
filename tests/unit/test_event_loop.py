"""Which event loop a process runs on (``WARTA_EVENT_LOOP``, ``shared.runtime.use_event_loop``):
the loops asyncio.run creates and the one faust's worker takes from asyncio.get_event_loop()."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec

import pytest
from mode.utils.loops import get_event_loop as faust_loop
from pydantic import ValidationError

from services.analytics.settings import AnalyticsSettings
from shared.runtime import EventLoop, use_event_loop
from shared.settings import CommonSettings

# uvloop is not installed on Windows (pyproject's marker): only the tests that make its loops skip.
HAS_UVLOOP = find_spec("uvloop") is not None
needs_uvloop = pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed here")


@pytest.fixture
def policy_restored() -> Iterator[None]:
    # The tests' own session loop was made under the standard policy: whatever a test sets
    # must not reach the loops made after it.
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


async def running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def worker_loop() -> type:
    """The class of the loop faust's worker runs on: mode's services take it from mode's own
    get_event_loop, outside any running loop (in a thread of its own here, as mode caches it
    per thread)."""
    loop = faust_loop()
    try:
        return type(loop)
    finally:
        loop.close()


def loops_made(choice: EventLoop) -> tuple[type, type]:
    """The class of the loop asyncio.run makes, and of faust's worker's loop."""
    use_event_loop(choice)
    run_loop = type(asyncio.run(running_loop()))
    with ThreadPoolExecutor(1) as pool:
        return run_loop, pool.submit(worker_loop).result()


@needs_uvloop
def test_uvloop_makes_every_loop_a_uvloop_loop(policy_restored: None) -> None:
    import uvloop

    assert loops_made("uvloop") == (uvloop.Loop, uvloop.Loop)


@needs_uvloop
def test_asyncio_gives_the_standard_library_loop_back(policy_restored: None) -> None:
    import uvloop

    loops_made("uvloop")
    run_loop, fresh = loops_made("asyncio")
    assert not issubclass(run_loop, uvloop.Loop)
    assert not issubclass(fresh, uvloop.Loop)
    assert run_loop.__module__.startswith("asyncio.")


def test_the_analytics_worker_defaults_to_uvloop_and_the_others_to_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WARTA_EVENT_LOOP", raising=False)
    assert AnalyticsSettings().event_loop == ("uvloop" if HAS_UVLOOP else "asyncio")
    assert CommonSettings().event_loop == "asyncio"
    monkeypatch.setenv("WARTA_EVENT_LOOP", "asyncio")
    assert AnalyticsSettings().event_loop == "asyncio"
    monkeypatch.setenv("WARTA_EVENT_LOOP", "uvloop")
    assert CommonSettings().event_loop == "uvloop"


@pytest.mark.parametrize("value", ["trio", "UVLOOP ", "", "gevent"])
def test_an_unknown_loop_stops_the_service_at_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("WARTA_EVENT_LOOP", value)
    with pytest.raises(ValidationError, match="event_loop"):
        CommonSettings()

"""A refresh that fails for now is tried again when the token endpoint asked (``Retry-After``),
else after a wait that doubles up to a cap; never at every pass of the refresher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.credentials import policy
from services.publisher.credentials.policy import MAX_RETRY_WAIT, RETRY_AFTER, retry_at
from services.publisher.credentials.refresher import Refresher
from shared import platform_throttles
from shared.credentials import RefreshTemporary
from shared.credentials.token_client import AppCredentials, Grant, answer, refresh
from tests.unit.token_world import World, in_process

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "asked_s", "wait"),
    [
        (1, None, RETRY_AFTER),
        (2, None, 2 * RETRY_AFTER),
        (3, None, 4 * RETRY_AFTER),
        (5, None, 16 * RETRY_AFTER),
        (6, None, MAX_RETRY_WAIT),
        (10**9, None, MAX_RETRY_WAIT),
        (1, 60.0, timedelta(seconds=60)),
        (7, 60.0, timedelta(seconds=60)),  # the endpoint's own wait, not the doubling
        (1, 0.0, timedelta(0)),
        (1, platform_throttles.MAX_WAIT, timedelta(days=7)),
    ],
)
def test_when_a_failed_refresh_is_tried_again(failures: int, asked_s: float | None, wait: timedelta) -> None:
    assert retry_at(NOW, failures, asked_s) == NOW + wait


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=1, max_value=10**12))
def test_the_wait_grows_with_the_failures_and_stays_within_the_cap(a: int, b: int) -> None:
    first, second = sorted((a, b))
    assert NOW < retry_at(NOW, first, None) <= retry_at(NOW, second, None) <= NOW + MAX_RETRY_WAIT


class Throttled:
    """The world's token endpoints while ``status`` is None; else that status, with ``retry_after``
    as its Retry-After header read. Remembers when it was asked, in seconds from its start."""

    def __init__(self, world: World, status: int | None, retry_after: float | None) -> None:
        self._world = world
        self._call = in_process(world.authorities)
        self.status = status
        self.retry_after = retry_after
        self.start = world.clock()
        self.asked_at: list[float] = []

    async def __call__(self, platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        self.asked_at.append((self._world.clock() - self.start).total_seconds())
        if self.status is not None:
            return answer(self.status, {"error": "rate_limited"}, self.retry_after)
        return await self._call(platform, url, app, refresh_token)


async def _passes(world: World, endpoint: Throttled, seconds: int) -> Refresher:
    """The scheduled pass once a second (the publisher's ``refresh_interval_s``) for ``seconds``."""
    refresher = Refresher(world.vault, endpoint, world.clock)
    for _ in range(seconds + 1):
        await refresher.tick(["x-demo"])
        world.clock.advance(seconds=1)
    return refresher


def _world(tmp_path: Path) -> World:
    world = World(tmp_path, platforms=("x",))
    world.clock.advance(minutes=110)  # due, ten minutes before the 2-hour token expires
    return world


async def test_a_429_with_retry_after_is_asked_again_only_when_it_said(tmp_path: Path) -> None:
    world = _world(tmp_path)
    endpoint = Throttled(world, 429, 60.0)
    refresher = await _passes(world, endpoint, 150)
    assert endpoint.asked_at == [0, 60, 120]
    assert refresher.failures["x"] == 3


async def test_without_retry_after_the_wait_doubles_from_retry_after_up_to_the_cap(tmp_path: Path) -> None:
    world = _world(tmp_path)
    endpoint = Throttled(world, 503, None)
    await _passes(world, endpoint, 400)
    assert endpoint.asked_at == [0, 5, 15, 35, 75, 155, 275, 395]


async def test_a_success_ends_the_wait_and_the_next_failure_starts_it_anew(tmp_path: Path) -> None:
    world = _world(tmp_path)
    endpoint = Throttled(world, 503, None)
    refresher = await _passes(world, endpoint, 20)  # asked at 0, 5, 15
    endpoint.status = None
    world.clock.advance(seconds=20)  # the next try, at 35, goes through
    await refresher.tick(["x-demo"])
    assert refresher.refreshes["x"] == 1
    world.clock.advance(hours=2)  # due again; the endpoint fails again
    endpoint.status = 503
    asked = len(endpoint.asked_at)
    for _ in range(6):
        await refresher.tick(["x-demo"])
        world.clock.advance(seconds=1)
    assert len(endpoint.asked_at) - asked == 2  # now and five seconds on, not after 40 s


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"Retry-After": "60"}, 60.0),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, platform_throttles.MAX_WAIT),
        ({"Retry-After": "1e400"}, None),
        ({}, None),
    ],
)
async def test_the_token_client_reads_the_endpoints_retry_after(
    header: dict[str, str], expected: float | None
) -> None:
    async def token(request: web.Request) -> web.Response:
        return web.json_response({"error": "rate_limited"}, status=429, headers=header)

    app = web.Application()
    app.router.add_post("/2/oauth2/token", token)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        url = str(server.make_url("/2/oauth2/token"))
        with pytest.raises(RefreshTemporary) as throttled:
            await refresh(session, "x", url, AppCredentials("x-app"), "r")
    assert throttled.value.retry_after == expected
    assert policy.retry_at(NOW, 1, throttled.value.retry_after) >= NOW

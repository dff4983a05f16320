"""Bluesky's session over a simulated week, with the PDS's token rules (the sandbox's fake: an
access JWT lives 2 hours, the refresh JWT 60 days and rotates on use): the real adapter keeps
one session alive by ``refreshSession`` when the PDS says ``ExpiredToken``, so every post is
published, none meets an auth failure, and the app password logs in once. An app password is
not a token that expires, so nothing is stored or refreshed in the vault: the session lives in
the adapter."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import aiohttp
import pytest

from sandbox.bluesky import BlueskyState
from services.publisher.adapters.bluesky import BlueskyAdapter
from services.publisher.adapters.port import AuthExpired
from tests.integration.conftest_fakes import publish_request, running_sandbox

pytestmark = pytest.mark.integration


def _counting(calls: Counter[str]) -> aiohttp.TraceConfig:
    async def on_start(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        calls[params.url.path.rsplit("/", 1)[-1]] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return trace


async def test_a_simulated_week_of_bluesky_posts_keeps_one_session_alive(
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls: Counter[str] = Counter()
    async with running_sandbox() as env, aiohttp.ClientSession(trace_configs=[_counting(calls)]) as session:
        state = env.states["bluesky"]
        assert isinstance(state, BlueskyState)
        adapter = BlueskyAdapter(session)
        minutes = sorted(random.Random(7).sample(range(7 * 24 * 60), 60))
        published = expired = 0
        for n, minute in enumerate(minutes):
            state.offset = timedelta(minutes=minute)  # the PDS's clock: the week goes by
            request = publish_request(job_id=f"c{n}:bluesky-demo", marker=f"wmarker{n:04d}")
            try:
                await adapter.publish(env.target("bluesky"), request)
                published += 1
            except AuthExpired:
                expired += 1
    refreshes, logins = calls["com.atproto.server.refreshSession"], calls["com.atproto.server.createSession"]
    with capsys.disabled():
        print(
            f"\nweek: bluesky: refreshes {refreshes}, published {published}, AuthExpired {expired}, logins {logins}"
        )
    assert (published, expired, logins) == (60, 0, 1)
    # A post more than 2 hours after the session was last renewed renews it once, first.
    gaps = 0
    renewed = minutes[0]
    for minute in minutes[1:]:
        if minute - renewed >= 120:
            gaps += 1
            renewed = minute
    assert refreshes == gaps

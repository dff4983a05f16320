"""One API version per platform, in the capability table; the fakes answer as it, the adapters speak it.

A platform's API version is stated once, ``PlatformCapabilities.api_version``. The Graph fakes
serve only under their own ``GRAPH_VERSION``/``THREADS_VERSION`` (as graph.facebook.com and
graph.threads.net serve under ``/vNN.0``), LinkedIn's fake answers only inside its window of
active ``LinkedIn-Version`` months, and the path-versioned fakes (X ``/2``, YouTube ``/v3``,
TikTok ``/v2``, Mastodon ``/api/v1``, WordPress ``wp/v2``) carry the version in their routes. Each
test here fails when the table, a fake or an adapter moves without the others.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from sandbox import graph, threads
from sandbox.linkedin import LinkedInState
from sandbox.sandbox import FAKES
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.linkedin import LinkedInAdapter
from services.publisher.adapters.port import Permanent
from services.publisher.adapters.threads import ThreadsAdapter
from shared.capabilities import CAPABILITIES, capabilities_for
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

# Where each path-versioned platform's version shows in its fake's routes.
PATH_VERSIONED = {
    "x": "/{v}/tweets",
    "youtube": "/youtube/{v}/videos",
    "tiktok": "/{v}/post/publish/video/init/",
    "mastodon": "/api/{v}/statuses",
    "wordpress": "/wp-json/{v}/posts",
}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def routes(platform: str) -> set[str]:
    make_state, create_app = FAKES[platform]
    app: web.Application = create_app(make_state())
    return {r.canonical for r in app.router.resources()}


def test_every_platform_states_its_version() -> None:
    assert all(caps.api_version for caps in CAPABILITIES.values()), [
        p for p, caps in CAPABILITIES.items() if not caps.api_version
    ]


@pytest.mark.parametrize("platform", ["facebook", "instagram", "whatsapp"])
def test_graph_fakes_answer_as_the_table_version(platform: str) -> None:
    assert capabilities_for(platform).api_version == graph.GRAPH_VERSION
    assert all(
        r.startswith(f"/{graph.GRAPH_VERSION}/")
        for r in routes(platform)
        if "_fake" not in r and r != "/{tail}"
    )


def test_threads_fake_answers_as_the_table_version() -> None:
    assert capabilities_for("threads").api_version == threads.THREADS_VERSION


def test_linkedin_fake_serves_the_table_version() -> None:
    state = LinkedInState()
    assert state.min_version <= capabilities_for("linkedin").api_version <= state.max_version


@pytest.mark.parametrize(("platform", "pattern"), sorted(PATH_VERSIONED.items()))
def test_path_versioned_fakes_carry_the_table_version(platform: str, pattern: str) -> None:
    assert pattern.format(v=capabilities_for(platform).api_version) in routes(platform)


async def test_graph_adapter_calls_land_under_the_table_version(env: FakeEnv) -> None:
    await FacebookAdapter(env.session).publish(
        env.target("facebook", options={"page_id": "1010"}), publish_request()
    )
    version = capabilities_for("facebook").api_version
    assert env.states["facebook"].requests == {f"POST /facebook/{version}/1010/feed": 1}


async def test_threads_adapter_calls_land_under_the_table_version(env: FakeEnv) -> None:
    adapter = ThreadsAdapter(env.session, poll_interval=0.01, poll_limit=0.5)
    await adapter.publish(env.target("threads", options={"threads_user_id": "7001"}), publish_request())
    version = capabilities_for("threads").api_version
    assert env.states["threads"].requests
    assert all(path.split()[1].startswith(f"/threads/{version}/") for path in env.states["threads"].requests)


async def test_linkedin_adapter_is_refused_once_its_version_leaves_the_window(env: FakeEnv) -> None:
    state = env.states["linkedin"]
    assert isinstance(state, LinkedInState)
    target = env.target("linkedin", options={"author": "urn:li:organization:1"})
    await LinkedInAdapter(env.session).publish(target, publish_request())
    state.max_version = "200001"  # the fake moves on without the table: the adapter must notice
    with pytest.raises(Permanent) as info:
        await LinkedInAdapter(env.session).publish(
            target, publish_request(marker="wmarker0002", job_id="c-2:ch")
        )
    assert info.value.http_status == 426

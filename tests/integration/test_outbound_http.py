"""Platform calls never follow a redirect and never read an unbounded reply.

A partner's webhook (or any platform host gone bad) answering ``307`` to an internal address
must not make the publisher re-send its signed request there; a reply that never ends must not
fill the publisher's memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from sandbox.base import FakeState
from services.publisher.adapters._http import MAX_REPLY_BYTES
from services.publisher.adapters.media import SessionMediaFetcher
from services.publisher.adapters.port import Ambiguous, Permanent, Temporary
from services.publisher.adapters.webhook import WebhookAdapter
from services.publisher.adapters.x import XAdapter
from shared.events import Media
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
async def internal() -> AsyncIterator[tuple[BaseTestServer, list[str]]]:
    """An "internal" service on 127.0.0.1 that records every request reaching it."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path} {request.headers.get('webhook-signature', '')}")
        return web.json_response({"id": "internal"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server, hits


async def test_a_webhook_redirect_to_an_internal_address_is_refused_not_followed(
    env: FakeEnv, internal: tuple[TestServer, list[str]]
) -> None:
    server, hits = internal
    location = str(server.make_url("/admin/secret-endpoint"))
    await env.admin(
        "webhook",
        "faults",
        {"path_contains": "/inbox", "status": 307, "body": "", "headers": {"Location": location}},
    )
    target = env.target("webhook", base_url=env.url("/webhook/inbox"))

    with pytest.raises(Permanent) as info:
        await WebhookAdapter(env.session).publish(target, publish_request())

    assert hits == []
    assert info.value.code == "redirect_refused"
    assert info.value.http_status == 307
    assert "127.0.0.1" in info.value.message
    assert "secret-endpoint" not in info.value.message


async def test_a_platform_read_that_redirects_is_refused(
    env: FakeEnv, internal: tuple[TestServer, list[str]]
) -> None:
    server, hits = internal
    location = str(server.make_url("/latest/meta-data"))
    redirect = {"status": 302, "body": "", "headers": {"Location": location}}
    await env.admin("x", "faults", {"path_contains": "/2/tweets/1", **redirect})
    with pytest.raises(Permanent, match="redirect"):
        await XAdapter(env.session).engagement(env.target("x"), "1")
    assert hits == []


async def test_an_endless_reply_to_a_post_is_cut_and_ambiguous(env: FakeEnv) -> None:
    await env.admin("x", "faults", {"path_contains": "/2/tweets", "method": "POST", "mode": "endless"})
    with pytest.raises(Ambiguous) as info:
        await XAdapter(env.session).publish(env.target("x"), publish_request())
    # The post was made before the endless answer began: reconciliation must settle it.
    assert info.value.code == "reply_too_large"
    assert str(MAX_REPLY_BYTES) in info.value.message
    state = env.states["x"]
    assert isinstance(state, FakeState)
    assert len(state.posts) == 1


async def test_an_endless_reply_to_a_read_is_cut_and_temporary(env: FakeEnv) -> None:
    await env.admin("x", "faults", {"path_contains": "/2/tweets/", "method": "GET", "mode": "endless"})
    with pytest.raises(Temporary) as info:
        await XAdapter(env.session).engagement(env.target("x"), "1")
    assert info.value.code == "reply_too_large"


@pytest.fixture
async def media_host(internal: tuple[TestServer, list[str]]) -> AsyncIterator[BaseTestServer]:
    """A media host gone bad: one file that never ends, one that moves to the internal service."""
    server, _ = internal

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        try:
            while True:
                await response.write(b"\xff" * 65536)
        except (ConnectionError, RuntimeError):
            return response

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(str(server.make_url("/private.jpg")))

    app = web.Application()
    app.router.add_get("/endless.jpg", endless)
    app.router.add_get("/moved.jpg", moved)
    async with TestServer(app, host="127.0.0.1") as host:
        yield host


async def test_endless_media_is_refused_at_the_fetchers_cap(env: FakeEnv, media_host: BaseTestServer) -> None:
    fetcher = SessionMediaFetcher(env.session, max_bytes=1024 * 1024)
    with pytest.raises(Permanent) as info:
        await fetcher.fetch(Media(url=str(media_host.make_url("/endless.jpg")), type="image/jpeg"))
    assert info.value.code == "media_too_large"


async def test_a_redirecting_media_host_is_refused_by_the_plain_fetcher(
    env: FakeEnv, media_host: BaseTestServer, internal: tuple[TestServer, list[str]]
) -> None:
    _, hits = internal
    with pytest.raises(Permanent) as info:
        await SessionMediaFetcher(env.session).fetch(
            Media(url=str(media_host.make_url("/moved.jpg")), type="image/jpeg")
        )
    assert info.value.code == "redirect_refused"
    assert hits == []

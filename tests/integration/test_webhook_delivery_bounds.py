"""A lifecycle webhook goes to the subscriber's URL and nowhere else, and its reply is read only
so far: a partner answering ``307`` to an internal address does not get the signed POST
re-sent there, and one that streams an endless body does not fill the console's memory.

Real local servers on 127.0.0.1; no broker needed (one delivery attempt, as the dispatcher
makes it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from services.console.webhooks import REPLY_LIMIT_BYTES, Lifecycle, Subscriber, post_once

LIFE = Lifecycle("published", "evt-1", {"id": "evt-1", "type": "published", "data": {}})
BODY = orjson.dumps(LIFE.body)


def subscriber(url: str) -> Subscriber:
    return Subscriber(name="partner", url=url, secret="s" * 32)


@pytest.fixture
async def internal() -> AsyncIterator[tuple[BaseTestServer, list[str]]]:
    """An "internal" service on 127.0.0.1 that records every request reaching it."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(f"{request.method} {request.path} {request.headers.get('webhook-signature', '')}")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server, hits


@pytest.fixture
async def partner(internal: tuple[TestServer, list[str]]) -> AsyncIterator[BaseTestServer]:
    """A partner's receiver gone bad: one path redirects to the internal service, one answers
    200 and then never stops sending, one behaves."""
    server, _ = internal

    async def redirect(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPTemporaryRedirect(str(server.make_url("/admin/secret-endpoint?token=abc")))

    async def endless(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            while True:
                await response.write(b"x" * 65536)
        except (ConnectionError, RuntimeError):
            return response

    async def fine(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="thanks")

    app = web.Application()
    app.router.add_post("/redirect", redirect)
    app.router.add_post("/endless", endless)
    app.router.add_post("/fine", fine)
    async with TestServer(app, host="127.0.0.1") as host:
        yield host


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_a_307_to_an_internal_address_is_a_failed_delivery_never_followed(
    partner: BaseTestServer, internal: tuple[TestServer, list[str]], session: aiohttp.ClientSession
) -> None:
    _, hits = internal
    sub = subscriber(str(partner.make_url("/redirect")))

    attempt, retriable = await post_once(session, sub, LIFE, BODY, 5.0, int(time.time()))

    assert hits == []
    assert attempt["ok"] is False
    assert attempt["status"] == 307
    assert attempt["error"] == "redirect_refused"
    reason = str(attempt["reason"])
    assert "127.0.0.1" in reason
    assert "secret-endpoint" not in reason
    assert "token" not in reason
    assert retriable is False  # the receiver answered; it would answer the same again


async def test_an_endless_reply_is_cut_at_the_limit_and_fails_the_delivery(
    partner: BaseTestServer, session: aiohttp.ClientSession
) -> None:
    sub = subscriber(str(partner.make_url("/endless")))

    started = time.monotonic()
    attempt, retriable = await post_once(session, sub, LIFE, BODY, 30.0, int(time.time()))

    # Cut at the cap, not by the 30 s timeout.
    assert time.monotonic() - started < 10
    assert attempt["ok"] is False
    assert attempt["error"] == "reply_too_large"
    assert str(REPLY_LIMIT_BYTES) in str(attempt["reason"])
    assert retriable is False


async def test_a_receiver_that_behaves_gets_its_delivery(
    partner: BaseTestServer, session: aiohttp.ClientSession
) -> None:
    attempt, retriable = await post_once(
        session, subscriber(str(partner.make_url("/fine"))), LIFE, BODY, 5.0, int(time.time())
    )
    assert attempt == {"ok": True, "status": 200}
    assert retriable is False

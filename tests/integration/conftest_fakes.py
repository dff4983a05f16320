"""Helpers for the adapter contract suites: the sandbox on an ephemeral port, targets, requests.

Not a conftest: each suite builds its own fixture with ``running_sandbox`` so the suites stay
independent of the lead's shared conftest.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import BaseTestServer, TestServer

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox
from services.publisher.adapters.port import Credentials, PublishRequest, Target
from shared.events import Content

ACCOUNT = "demo"
TOKEN = "t0ken-demo-secret"
OTHER_ACCOUNT = "other"
OTHER_TOKEN = "t0ken-other-secret"


@dataclass
class FakeEnv:
    server: BaseTestServer
    session: aiohttp.ClientSession
    states: dict[str, FakeState]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def media_url(self, name: str = "photo.jpg") -> str:
        return self.url(f"/media/{name}")

    def target(
        self,
        platform: str,
        *,
        token: str = TOKEN,
        account: str = ACCOUNT,
        options: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        base_url: str | None = None,
    ) -> Target:
        return Target(
            channel=f"{platform}-{account}",
            account=account,
            base_url=base_url or self.url(f"/{platform}"),
            credentials=Credentials(token=token, extra=extra or {}),
            options=options or {},
        )

    async def admin(self, platform: str, path: str, payload: Any = None) -> Any:
        """Call a fake's ``/_fake`` admin API over HTTP, as an operator would."""
        method = "GET" if payload is None else "POST"
        async with self.session.request(method, self.url(f"/{platform}/_fake/{path}"), json=payload) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()


@asynccontextmanager
async def running_sandbox(tokens: dict[str, str] | None = None, id_base: int = 0) -> AsyncIterator[FakeEnv]:
    app = build_sandbox(tokens or {ACCOUNT: TOKEN, OTHER_ACCOUNT: OTHER_TOKEN}, id_base=id_base)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        yield FakeEnv(server, session, app[STATES])


def publish_request(
    content: Content | None = None, *, marker: str = "wmarker0001", **kw: Any
) -> PublishRequest:
    return PublishRequest(
        job_id=kw.pop("job_id", "content-1:channel-1"),
        attempt=kw.pop("attempt", 1),
        content=content or Content(text="Hello from the press office"),
        marker=marker,
        **kw,
    )


def closed_port_url(path: str = "") -> str:
    """A URL on which nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"

"""The console's HTTP app in-process, against a fake ingest on loopback: its OpenAPI document
names exactly the routes it serves, and pause/resume pass ingest's answers through whole.

No broker: the routes exercised here read no topic and write none (the Kafka producer is never
started; pause and resume go to ingest over HTTP).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer

from services.console.http_api import create_app
from services.console.http_deps import Deps
from services.console.openapi import openapi_document
from services.console.settings import ConsoleSettings
from shared.channels import load_channels
from shared.http_auth import generate_dev_keys
from shared.settings import ROOT
from shared.topics import TopicRegistry
from tests.integration.console_app import console_deps


def console_with_keys(tmp_path: Path, ingest_url: str, session: aiohttp.ClientSession) -> tuple[Deps, str]:
    """The console's dependencies with an empty view; the operator's key."""
    store = generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json")
    operator_key = json.loads((tmp_path / "dev-keys.json").read_text())["operator"]["key"]
    settings = ConsoleSettings(ingest_url=ingest_url, keys_file=tmp_path / "keys.json")
    deps = console_deps(
        settings=settings,
        topics=TopicRegistry(prefix="unused."),
        channels=load_channels(ROOT / "deploy" / "channels.local.yaml"),
        keys=store,
        producer=cast(AIOKafkaProducer, None),  # never reached by these routes
        session=session,
        clock=lambda: datetime.now(UTC),
    )
    return deps, operator_key


def test_the_document_names_every_route_the_console_serves_and_no_other(tmp_path: Path) -> None:
    app = create_app(cast(Deps, None))
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for path, ops in openapi_document()["paths"].items() for method in ops}
    assert served == documented


@pytest_asyncio.fixture
async def throttling_ingest() -> AsyncIterator[str]:
    """An ingest that answers every pause/resume 429 with Retry-After, as its rate limit does."""

    async def refuse(request: web.Request) -> web.Response:
        body = {"errors": [{"channel": None, "field": None, "rule": "rate_limited", "message": "slow"}]}
        return web.json_response(body, status=429, headers={"Retry-After": "17"})

    app = web.Application()
    app.router.add_post("/v1/{action}", refuse)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_a_forwarded_pause_keeps_ingests_retry_after(tmp_path: Path, throttling_ingest: str) -> None:
    async with aiohttp.ClientSession() as session:
        deps, key = console_with_keys(tmp_path, throttling_ingest, session)
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(deps)))
        await client.start_server()
        try:
            for action in ("pause", "resume"):
                resp = await client.post(
                    f"/v1/{action}", json={"reason": "r"}, headers={"Authorization": f"Bearer {key}"}
                )
                assert resp.status == 429
                assert resp.headers.get("Retry-After") == "17", action
                assert (await resp.json())["errors"][0]["rule"] == "rate_limited"
        finally:
            await client.close()

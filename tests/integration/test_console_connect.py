"""The console's Connect action against the sandbox's authorization servers, in-process: an
admin's key starts the platform's flow (state + PKCE kept by the console), the browser comes
back to the console's callback (through the public URL a proxy serves), the code is exchanged
and the credential lands in the encrypted vault; a forged or reused state is refused; a pasted
token is checked with the platform and never echoed; an operator's key may not connect; and the
channel's ``reconnected`` command reaches the real broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import BaseTestServer, TestClient, TestServer
from aiokafka import AIOKafkaProducer

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox
from services.console.http_api import create_app
from services.console.settings import ConsoleSettings
from shared.channels import ChannelDirectory, load_channels
from shared.credentials.keys import generate_key, keyring
from shared.credentials.vault import CredentialVault
from shared.events import ControlAction, ControlIssued
from shared.http_auth import generate_dev_keys
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry, TopicSpec
from tests.integration.console_app import console_deps
from tests.integration.ingest_app import read_events

PUBLIC = "https://warta.example.go.id/console"  # the console behind a proxy
BOT = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@dataclass
class Env:
    client: TestClient[aiohttp.web.Request, aiohttp.web.Application]
    browser: aiohttp.ClientSession
    states: dict[str, FakeState]
    vault: CredentialVault
    admin: dict[str, str]
    operator: dict[str, str]


def _channels(tmp_path: Path, sandbox: BaseTestServer) -> ChannelDirectory:
    rows: list[dict[str, Any]] = [
        {"id": "x-demo", "platform": "x", "secret": "x-demo"},
        {
            "id": "facebook-demo",
            "platform": "facebook",
            "secret": "facebook-demo",
            "options": {"page_id": "100000000000001"},
        },
        {
            "id": "telegram-demo",
            "platform": "telegram",
            "secret": "telegram-demo",
            "options": {"chat_id": "@warta_demo"},
        },
        {"id": "webhook-demo", "platform": "webhook", "secret": "webhook-demo"},
    ]
    for row in rows:
        row["base_url"] = str(sandbox.make_url(f"/{row['platform']}"))
    path = tmp_path / "channels.json"
    path.write_bytes(orjson.dumps({"channels": rows}))
    return load_channels(path)


def connect_topics(topics: TopicRegistry) -> list[TopicSpec]:
    """What connecting writes: the credential, the pending connect, the ``reconnected`` command."""
    wanted = {topics.credentials, topics.console_connects, topics.content_control}
    return [s for s in topics.specs() if s.name in wanted]


async def _env(
    tmp_path: Path, producer: AIOKafkaProducer, topics: TopicRegistry, kafka: str
) -> AsyncIterator[Env]:
    app = build_sandbox({"x-demo": "static-x", "facebook-demo": "static-fb", "telegram-demo": BOT})
    key = generate_key()
    apps = tmp_path / "oauth-apps.json"
    apps.write_bytes(
        orjson.dumps(
            {"x": {"client_id": "warta-x"}, "facebook": {"client_id": "fb-app", "client_secret": "fb-secret"}}
        )
    )
    store = generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json")
    plain = json.loads((tmp_path / "dev-keys.json").read_text())
    settings = ConsoleSettings(
        kafka_bootstrap=kafka,
        keys_file=tmp_path / "keys.json",
        credentials_file=tmp_path / "credentials.vault",
        credentials_key=key,
        secrets_file=tmp_path / "secrets.json",
        oauth_apps_file=apps,
        console_public_url=PUBLIC,
    )
    async with TestServer(app) as sandbox, aiohttp.ClientSession() as browser:
        deps = console_deps(
            settings=settings,
            topics=topics,
            channels=_channels(tmp_path, sandbox),
            keys=store,
            producer=producer,
            session=browser,
            clock=lambda: datetime.now(UTC),
        )
        async with TestClient(TestServer(create_app(deps))) as client:
            yield Env(
                client,
                browser,
                app[STATES],
                CredentialVault(tmp_path / "credentials.vault", keyring([key])),
                {"Authorization": f"Bearer {plain['admin']['key']}"},
                {"Authorization": f"Bearer {plain['operator']['key']}"},
            )


@pytest.fixture
async def env(kafka_bootstrap: str, tmp_path: Path, topics: TopicRegistry) -> AsyncIterator[Env]:
    await ensure_topics(kafka_bootstrap, connect_topics(topics))
    producer = make_producer(kafka_bootstrap, "test-console-connect")
    await producer.start()
    try:
        async for made in _env(tmp_path, producer, topics, kafka_bootstrap):
            yield made
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def _start(env: Env, channel: str) -> str:
    resp = await env.client.post(f"/v1/channels/{channel}/connect", headers=env.admin)
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["authorize_url"])


async def _consent(env: Env, url: str) -> str:
    """The platform's consent page consents (the sandbox): the console's callback, path and query."""
    async with env.browser.get(url, allow_redirects=False) as resp:
        location = resp.headers["Location"]
    assert location.startswith(PUBLIC + "/v1/connect/callback?")  # the proxy's address, as configured
    parts = urlsplit(location)
    return "/v1/connect/callback?" + parts.query


@pytest.mark.parametrize("channel", ["x-demo", "facebook-demo"])
async def test_an_admin_connects_a_channel_through_its_login(env: Env, channel: str) -> None:
    url = await _start(env, channel)
    assert "state=" in url
    assert "code_challenge=" in url
    assert "code_challenge_method=S256" in url
    callback = await _consent(env, url)
    resp = await env.client.get(callback)
    assert resp.status == 200, await resp.text()
    assert f"Connected {channel}" in await resp.text()
    record = env.vault.fresh(channel)
    assert record is not None
    assert record.status == "connected"
    platform = channel.split("-")[0]
    assert env.states[platform].account_for(record.access_token) == channel
    again = await env.client.get(callback)  # the same state (and code) a second time
    assert again.status == 400
    assert "state does not match" in await again.text()


async def test_a_forged_state_is_refused_and_nothing_is_exchanged(env: Env) -> None:
    callback = await _consent(env, await _start(env, "x-demo"))
    forged = callback.split("state=")[0] + "state=forged"
    resp = await env.client.get(forged)
    assert resp.status == 400
    assert env.vault.fresh("x-demo") is None
    assert (await env.client.get(callback)).status == 200  # the real one still completes


async def test_only_an_admin_may_connect(env: Env) -> None:
    resp = await env.client.post("/v1/channels/x-demo/connect", headers=env.operator)
    assert resp.status == 403
    assert "only an admin may connect" in await resp.text()
    resp = await env.client.post(
        "/v1/channels/telegram-demo/credential", headers=env.operator, json={"secret": BOT}
    )
    assert resp.status == 403
    assert (await env.client.post("/v1/channels/x-demo/connect")).status == 401


async def test_a_pasted_token_is_checked_stored_and_never_echoed(env: Env) -> None:
    resp = await env.client.post(
        "/v1/channels/telegram-demo/credential", headers=env.admin, json={"secret": BOT}
    )
    text = await resp.text()
    assert resp.status == 200, text
    assert BOT not in text
    assert (await resp.json())["reached"] == "@telegram_demo_bot"
    record = env.vault.fresh("telegram-demo")
    assert record is not None
    assert record.access_token == BOT
    wrong = "123456789:not-the-bot"
    resp = await env.client.post(
        "/v1/channels/telegram-demo/credential", headers=env.admin, json={"secret": wrong}
    )
    assert resp.status == 400
    assert wrong not in await resp.text()
    resp = await env.client.post("/v1/channels/x-demo/credential", headers=env.admin, json={"secret": "x"})
    assert resp.status == 400  # X connects through its login


async def test_the_webhook_secret_is_generated_and_shown_once(env: Env) -> None:
    resp = await env.client.post("/v1/channels/webhook-demo/connect", headers=env.admin)
    assert resp.status == 201
    secret = (await resp.json())["signing_secret"]
    record = env.vault.fresh("webhook-demo")
    assert record is not None
    assert record.access_token == secret


async def test_a_connect_announces_reconnected_on_the_broker(kafka_bootstrap: str, tmp_path: Path) -> None:
    topics = TopicRegistry(prefix=f"t{tmp_path.name[-12:]}.", partitions=1)
    await ensure_topics(kafka_bootstrap, connect_topics(topics))
    producer = make_producer(kafka_bootstrap, "test-console-connect")
    await producer.start()
    try:
        async for env in _env(tmp_path, producer, topics, kafka_bootstrap):
            callback = await _consent(env, await _start(env, "x-demo"))
            assert (await env.client.get(callback)).status == 200
        events = await read_events(kafka_bootstrap, topics.content_control)
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)
    (event,) = events
    assert isinstance(event, ControlIssued)
    assert (event.action, event.channels) == (ControlAction.RECONNECTED, ("x-demo",))

"""Two console instances behind one public address, on two hosts (each its own vault), sharing
the real broker: a connect started on A comes back to B and succeeds, the credential reaches A's
vault through the credentials topic, a reuse of the callback is refused on either instance, and
neither topic holds the state, the PKCE verifier or the token in clear."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import TopicPartition

from sandbox.sandbox import build_sandbox
from services.console.connect_pending import digest
from services.console.http_api import create_app
from services.console.settings import ConsoleSettings
from shared.credentials.credential_topic import CredentialFollower
from shared.credentials.keys import generate_key, keyring
from shared.credentials.vault import CredentialVault
from shared.http_auth import generate_dev_keys
from shared.kafka import delete_topics, ensure_topics, make_producer, replay
from shared.topics import TopicRegistry
from tests.integration.console_app import console_deps
from tests.integration.test_console_connect import PUBLIC, _channels, connect_topics

pytestmark = pytest.mark.integration


@dataclass
class Console:
    client: TestClient[web.Request, web.Application]
    vault: CredentialVault


@dataclass
class Pair:
    a: Console
    b: Console
    admin: dict[str, str]
    browser: aiohttp.ClientSession
    kafka: str
    topics: TopicRegistry
    shift: list[timedelta]  # added to both consoles' clocks


@pytest.fixture
async def pair(kafka_bootstrap: str, tmp_path: Path, topics: TopicRegistry) -> AsyncIterator[Pair]:
    await ensure_topics(kafka_bootstrap, connect_topics(topics))
    sandbox_app = build_sandbox({"x-demo": "static-x"})
    key = generate_key()
    apps = tmp_path / "oauth-apps.json"
    apps.write_text(json.dumps({"x": {"client_id": "warta-x"}}))
    store = generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json")
    admin = json.loads((tmp_path / "dev-keys.json").read_text())["admin"]["key"]
    shift = [timedelta(0)]
    producers = [make_producer(kafka_bootstrap, f"test-console-{n}") for n in "ab"]
    for producer in producers:
        await producer.start()
    try:
        async with TestServer(sandbox_app) as sandbox, aiohttp.ClientSession() as browser:
            channels = _channels(tmp_path, sandbox)
            consoles = []
            for host, producer in zip(("host-a", "host-b"), producers, strict=True):
                (tmp_path / host).mkdir()
                settings = ConsoleSettings(
                    kafka_bootstrap=kafka_bootstrap,
                    keys_file=tmp_path / "keys.json",
                    credentials_file=tmp_path / host / "credentials.vault",
                    credentials_key=key,
                    secrets_file=tmp_path / host / "secrets.json",
                    oauth_apps_file=apps,
                    console_public_url=PUBLIC,
                )
                deps = console_deps(
                    settings=settings,
                    topics=topics,
                    channels=channels,
                    keys=store,
                    producer=producer,
                    session=browser,
                    clock=lambda: datetime.now(UTC) + shift[0],
                )
                client = TestClient(TestServer(create_app(deps)))
                await client.start_server()
                vault = CredentialVault(settings.credentials_file, keyring([key]))
                consoles.append(Console(client, vault))
            try:
                yield Pair(
                    consoles[0],
                    consoles[1],
                    {"Authorization": f"Bearer {admin}"},
                    browser,
                    kafka_bootstrap,
                    topics,
                    shift,
                )
            finally:
                for console in consoles:
                    await console.client.close()
    finally:
        for producer in producers:
            await producer.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def _raw(kafka: str, topic: str) -> bytes:
    tps = [TopicPartition(topic, p) for p in range(3)]
    return b"".join([(m.key or b"") + (m.value or b"") async for m in replay(kafka, tps)])


async def test_a_connect_started_on_one_console_completes_on_the_other_once(pair: Pair) -> None:
    resp = await pair.a.client.post("/v1/channels/x-demo/connect", headers=pair.admin)
    assert resp.status == 200, await resp.text()
    url = str((await resp.json())["authorize_url"])
    async with pair.browser.get(url, allow_redirects=False) as consent:
        location = consent.headers["Location"]
    callback = "/v1/connect/callback?" + urlsplit(location).query
    state = parse_qs(urlsplit(location).query)["state"][0]
    challenge = parse_qs(urlsplit(url).query)["code_challenge"][0]

    done = await pair.b.client.get(callback)  # the proxy sent the browser to the other instance
    assert done.status == 200, await done.text()
    record = pair.b.vault.fresh("x-demo")
    assert record is not None
    assert record.status == "connected"

    for console in (pair.a, pair.b):  # used once: refused everywhere after
        again = await console.client.get(callback)
        assert again.status == 400
        assert "state does not match" in await again.text()

    # Host A never ran the callback: its publisher-side view follows the credentials topic.
    follower = CredentialFollower(pair.kafka, pair.topics.credentials, pair.a.vault)
    await follower.start()
    await follower.stop()
    seen = pair.a.vault.fresh("x-demo")
    assert seen is not None
    assert seen.access_token == record.access_token

    connects = await _raw(pair.kafka, pair.topics.console_connects)
    credentials = await _raw(pair.kafka, pair.topics.credentials)
    assert connects
    assert credentials
    for clear in (state, challenge, record.access_token, record.refresh_token or "-"):
        assert clear.encode() not in connects + credentials


async def test_one_callback_reaching_both_consoles_at_once_completes_once(pair: Pair) -> None:
    resp = await pair.a.client.post("/v1/channels/x-demo/connect", headers=pair.admin)
    url = str((await resp.json())["authorize_url"])
    async with pair.browser.get(url, allow_redirects=False) as consent:
        callback = "/v1/connect/callback?" + urlsplit(consent.headers["Location"]).query
    answers = await asyncio.gather(pair.a.client.get(callback), pair.b.client.get(callback))
    assert sorted(r.status for r in answers) == [200, 400]


async def test_a_connect_older_than_ten_minutes_is_refused_on_the_other_console(pair: Pair) -> None:
    resp = await pair.a.client.post("/v1/channels/x-demo/connect", headers=pair.admin)
    url = str((await resp.json())["authorize_url"])
    async with pair.browser.get(url, allow_redirects=False) as consent:
        callback = "/v1/connect/callback?" + urlsplit(consent.headers["Location"]).query
    pair.shift[0] = timedelta(minutes=10, seconds=1)
    late = await pair.b.client.get(callback)
    assert late.status == 400
    assert pair.b.vault.fresh("x-demo") is None


async def test_a_state_no_console_issued_is_refused(pair: Pair) -> None:
    resp = await pair.b.client.get("/v1/connect/callback?state=forged&code=whatever")
    assert resp.status == 400
    assert pair.b.vault.fresh("x-demo") is None
    # In the caller's language, with the same rule code.
    resp = await pair.b.client.get(
        "/v1/connect/callback?state=forged&code=whatever", headers={"Accept-Language": "id"}
    )
    problem = await resp.json()
    assert (resp.status, problem["errors"][0]["rule"], resp.headers["Content-Language"]) == (
        400,
        "state",
        "id",
    )
    # The callback is public: a state the consoles' keys do not open costs no write and no
    # replay of the connects' partition.
    assert digest("forged").encode() not in await _raw(pair.kafka, pair.topics.console_connects)

"""Connecting X, YouTube and TikTok accounts through their own flows, against the sandbox's
authorization servers: authorization code + PKCE, ``state`` checked, loopback callback; then
``channels check`` reaches each account, and ``sandbox token`` mints a working credential."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox
from services.publisher.credentials.commands import ConnectRequest, _channel, check, connect
from services.publisher.credentials.sandbox_token import sandbox_token
from services.publisher.settings import PublisherSettings
from shared.credentials.keys import generate_key
from shared.events import ControlAction, ControlIssued
from shared.kafka import delete_topics, ensure_topics
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ("x", "youtube", "tiktok")
CLEAR_TOKENS = {f"{p}-demo": f"static-{p}-token-0123456789" for p in PLATFORMS}


@dataclass
class Env:
    settings: PublisherSettings
    states: dict[str, FakeState]
    session: aiohttp.ClientSession
    tmp: Path


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    app = build_sandbox(CLEAR_TOKENS)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        channels = [
            {
                "id": f"{p}-demo",
                "platform": p,
                "base_url": str(server.make_url(f"/{p}")),
                "secret": f"{p}-demo",
            }
            for p in PLATFORMS
        ]
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}))
        settings = PublisherSettings(
            channels_file=tmp_path / "channels.yaml",
            credentials_file=tmp_path / "var" / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "var" / "secrets.json",
        )
        yield Env(settings, app[STATES], session, tmp_path)


def _browser(session: aiohttp.ClientSession) -> object:
    async def show(url: str) -> None:
        async with session.get(url) as resp:  # follows the sandbox's redirect to our callback
            assert resp.status == 200, await resp.text()

    return show


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_connect_runs_the_code_flow_with_pkce_and_stores_the_grant_encrypted(
    env: Env, platform: str
) -> None:
    channel = _channel(env.settings, f"{platform}-demo")
    request = ConnectRequest(
        channel=channel, client_id="warta-sandbox", client_secret=None, redirect_uri=None
    )
    record = await connect(env.settings, request, _browser(env.session))  # type: ignore[arg-type]
    assert record.refresh_token is not None
    assert record.expires_at is not None
    vault_bytes = env.settings.credentials_file.read_bytes()
    assert record.access_token.encode() not in vault_bytes
    assert record.refresh_token.encode() not in vault_bytes
    authority = env.states[platform].authority
    assert authority is not None
    assert authority.account_for(record.access_token) == f"{platform}-demo"


async def test_a_callback_with_another_state_is_refused_and_the_flow_waits_for_its_own(env: Env) -> None:
    channel = _channel(env.settings, "tiktok-demo")
    refused: list[int] = []

    async def show(url: str) -> None:
        async with env.session.get(url, allow_redirects=False) as consent:
            location = consent.headers["Location"]
        forged = location.split("state=")[0] + "state=forged"
        async with env.session.get(forged) as resp:
            refused.append(resp.status)
        async with env.session.get(location) as resp:
            assert resp.status == 200

    request = ConnectRequest(
        channel=channel, client_id="warta-sandbox", client_secret=None, redirect_uri=None
    )
    record = await connect(env.settings, request, show)
    assert refused == [400]
    assert record.status == "connected"


async def test_check_reaches_every_connected_account_and_names_a_parked_one(env: Env) -> None:
    for platform in PLATFORMS:
        channel = _channel(env.settings, f"{platform}-demo")
        request = ConnectRequest(
            channel=channel, client_id="warta-sandbox", client_secret=None, redirect_uri=None
        )
        await connect(env.settings, request, _browser(env.session))  # type: ignore[arg-type]
    rows = {row["channel"]: row for row in await check(env.settings)}
    assert all(row["usable"] for row in rows.values()), rows
    assert rows["x-demo"]["reached"] == "x-demo"
    assert rows["tiktok-demo"]["reached"] == "tiktok-demo"
    assert rows["youtube-demo"]["reached"].startswith("UC")
    assert 7000 < rows["x-demo"]["expires_in_s"] <= 7200  # X's documented two hours
    assert 3500 < rows["youtube-demo"]["expires_in_s"] <= 3600
    # The user disconnects the app on TikTok: the token is refused, and check says so.
    authority = env.states["tiktok"].authority
    assert authority is not None
    authority.revoke_account("tiktok-demo")
    rows = {row["channel"]: row for row in await check(env.settings)}
    assert not rows["tiktok-demo"]["usable"]
    assert rows["tiktok-demo"]["status"] == "refused"


async def test_the_old_clear_secrets_file_is_imported_then_gone(env: Env) -> None:
    clear = env.settings.secrets_file
    clear.parent.mkdir(parents=True, exist_ok=True)
    clear.write_text('{"x-demo": {"token": "static-x-token-0123456789"}}')
    rows = {row["channel"]: row for row in await check(env.settings)}
    assert rows["x-demo"]["reached"] == "x-demo"  # the sandbox still knows the static token
    assert not clear.exists()
    assert b"static-x-token" not in env.settings.credentials_file.read_bytes()


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_the_sandbox_mints_a_working_token_for_a_demo_account(env: Env, platform: str) -> None:
    grant = await sandbox_token(_channel(env.settings, f"{platform}-demo"))
    authority = env.states[platform].authority
    assert authority is not None
    assert authority.account_for(grant["access_token"]) == f"{platform}-demo"
    assert grant["expires_in"] == {"x": 7200, "youtube": 3600, "tiktok": 7200}[platform]
    assert "refresh_token" in grant


async def _cli(env: Env, *args: str, **more_env: str) -> tuple[int, str, str]:
    settings = env.settings
    assert settings.credentials_key is not None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "warta.cli",
        *args,
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "WARTA_CHANNELS_FILE": str(settings.channels_file),
            "WARTA_CREDENTIALS_FILE": str(settings.credentials_file),
            "WARTA_CREDENTIALS_KEY": settings.credentials_key.get_secret_value(),
            "WARTA_SECRETS_FILE": str(settings.secrets_file),
            **more_env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_cli_connects_checks_and_mints_as_an_operator_would(
    env: Env, kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    control = [s for s in topics.specs() if s.name == topics.content_control]
    await ensure_topics(kafka_bootstrap, control)
    broker = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "WARTA_TOPIC_PREFIX": topics.prefix}
    try:
        code, out, err = await _cli(
            env, "channels", "connect", "tiktok-demo", "--client-id", "warta-sandbox", "--open", **broker
        )
        announced = await read_events(kafka_bootstrap, topics.content_control)
    finally:
        await delete_topics(kafka_bootstrap, topics.prefix)
    assert code == 0, err
    assert "code_challenge_method=S256" in out
    # The scheduler hears that the account works again (its parked jobs, if any, go out).
    assert [(e.action, e.channels) for e in announced if isinstance(e, ControlIssued)] == [
        (ControlAction.RECONNECTED, ("tiktok-demo",))
    ]
    code, out, err = await _cli(env, "channels", "check", "--json")
    rows = {row["channel"]: row for row in json.loads(out)}
    assert code == 1  # x and youtube are not connected yet: check says so and fails
    assert rows["tiktok-demo"]["status"] == "ok"
    assert rows["x-demo"]["status"] == "missing"
    code, out, err = await _cli(env, "sandbox", "token", "x-demo", "--json")
    assert code == 0, err
    authority = env.states["x"].authority
    assert authority is not None
    assert authority.account_for(json.loads(out)["access_token"]) == "x-demo"


async def test_check_names_the_publishing_scope_a_user_withheld(env: Env) -> None:
    channel = _channel(env.settings, "x-demo")

    async def consent_without_writing(url: str) -> None:
        narrowed = url.replace("tweet.write+", "")  # the user unticks "post for you"
        assert narrowed != url
        async with env.session.get(narrowed) as resp:
            assert resp.status == 200

    request = ConnectRequest(
        channel=channel, client_id="warta-sandbox", client_secret=None, redirect_uri=None
    )
    await connect(env.settings, request, consent_without_writing)
    rows = {row["channel"]: row for row in await check(env.settings)}
    assert rows["x-demo"]["status"] == "insufficient_scope"
    assert rows["x-demo"]["missing_scopes"] == ["tweet.write"]

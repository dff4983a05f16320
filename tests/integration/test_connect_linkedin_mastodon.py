"""Connecting LinkedIn (3-legged OAuth, programmatic refresh tokens) and Mastodon (the app
registers on the instance, then authorization code + PKCE) against the sandbox, with the same
``warta channels connect``; then the credentials work and LinkedIn's refreshes by itself."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox
from services.publisher.credentials.commands import ConnectRequest, _channel, check, connect
from services.publisher.credentials.local_setup import open_vault_of
from services.publisher.credentials.refresher import http_refresh
from services.publisher.credentials.wiring import build_refresher
from services.publisher.settings import PublisherSettings
from shared.credentials.keys import generate_key

ROOT = Path(__file__).resolve().parents[2]
TTL_S = 2.0


@dataclass
class Env:
    settings: PublisherSettings
    states: dict[str, FakeState]
    browser: aiohttp.ClientSession


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    accounts = {f"{p}-demo": f"static-{p}-0123456789" for p in ("linkedin", "mastodon")}
    app = build_sandbox(accounts, token_ttl_s=TTL_S)
    async with TestServer(app) as server, aiohttp.ClientSession() as browser:
        channels = [
            {
                "id": f"{p}-demo",
                "platform": p,
                "base_url": str(server.make_url(f"/{p}")),
                "secret": f"{p}-demo",
            }
            for p in ("linkedin", "mastodon")
        ]
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}))
        settings = PublisherSettings(
            channels_file=tmp_path / "channels.yaml",
            credentials_file=tmp_path / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "secrets.json",
        )
        yield Env(settings, app[STATES], browser)


async def _consent(env: Env, seen: list[str]) -> object:
    async def show(url: str) -> None:
        seen.append(url)
        async with env.browser.get(url) as resp:
            assert resp.status == 200, await resp.text()

    return show


async def test_linkedin_connects_without_pkce_and_refreshes_keeping_its_refresh_token(env: Env) -> None:
    seen: list[str] = []
    request = ConnectRequest(
        channel=_channel(env.settings, "linkedin-demo"),
        client_id="li-app",
        client_secret="li-secret",
        redirect_uri=None,
    )
    record = await connect(env.settings, request, await _consent(env, seen))  # type: ignore[arg-type]
    assert "code_challenge" not in seen[0]
    assert "/oauth/v2/authorization?" in seen[0]
    assert record.refresh_token is not None
    assert record.refresh_expires_at is not None
    assert record.refresh_expires_at - datetime.now(UTC) > timedelta(days=364)
    assert record.extra["client_secret"] == "li-secret"  # kept in the vault, never given to adapters
    await asyncio.sleep(TTL_S + 0.5)  # the access token expired: the publisher's refresher renews it
    refresher = build_refresher(
        open_vault_of(env.settings), [request.channel], http_refresh(env.browser), lambda: datetime.now(UTC)
    )
    await refresher.ensure_fresh("linkedin-demo")
    rows = {row["channel"]: row for row in await check(env.settings)}
    assert rows["linkedin-demo"]["usable"], rows
    fresh = open_vault_of(env.settings).fresh("linkedin-demo")
    assert fresh is not None
    assert fresh.access_token != record.access_token
    assert fresh.refresh_token == record.refresh_token  # LinkedIn does not rotate
    authority = env.states["linkedin"].authority
    assert authority is not None
    assert authority.refreshes["linkedin-demo"] == 1
    assert authority.account_for(fresh.access_token) == "linkedin-demo"


async def test_mastodon_registers_on_the_instance_then_connects_from_the_cli(env: Env) -> None:
    settings = env.settings
    assert settings.credentials_key is not None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "warta.cli",
        "channels",
        "connect",
        "mastodon-demo",
        "--open",
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # no broker: connected, the scheduler not told
            "WARTA_CHANNELS_FILE": str(settings.channels_file),
            "WARTA_CREDENTIALS_FILE": str(settings.credentials_file),
            "WARTA_CREDENTIALS_KEY": settings.credentials_key.get_secret_value(),
            "WARTA_SECRETS_FILE": str(settings.secrets_file),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 3, err.decode()  # stored here, but not on the credentials topic
    assert "stored on this host, but not on the credentials topic" in out.decode()
    authority = env.states["mastodon"].authority
    assert authority is not None
    (app,) = authority.apps.values()
    assert app["name"] == "Warta"
    assert app["redirect_uris"][0].startswith("http://127.0.0.1:")
    record = open_vault_of(settings).fresh("mastodon-demo")
    assert record is not None
    assert record.extra["client_id"] == app["client_id"]
    assert record.expires_at is None  # lives until revoked
    assert record.refresh_token is None
    assert authority.account_for(record.access_token) == "mastodon-demo"
    rows = {row["channel"]: row for row in await check(settings)}
    assert (rows["mastodon-demo"]["status"], rows["mastodon-demo"]["reached"]) == ("ok", "mastodon-demo")
    authority.revoke_account("mastodon-demo")  # the user revokes Warta in their settings
    rows = {row["channel"]: row for row in await check(settings)}
    assert rows["mastodon-demo"]["status"] == "refused"

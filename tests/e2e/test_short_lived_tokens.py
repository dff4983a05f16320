"""`make run` with short-lived tokens: the demo system connects every demo channel through its own
flow against the sandbox, whose access tokens live 20 s (``WARTA_SANDBOX_TOKEN_TTL_S=20``).
Items keep arriving on X, YouTube, TikTok and LinkedIn for several minutes, many token lifetimes:
every one is published once, none parked, the refreshes counted per platform. Meanwhile
``warta channels check --json`` reports every demo channel usable, and no credential the vault
held at any moment of the run is readable in clear anywhere under ``var/`` (logs included)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.publisher.credentials.local_setup import open_local_vault
from shared.channels import load_channels
from tests.e2e.client import Api, Sandbox, item, unique_text
from tests.e2e.conftest import local_system
from tests.e2e.custom_system import read_outcomes
from tests.e2e.media_host import MediaHost, https_media_host
from tests.integration.test_local_credentials import _clear_under
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ("x", "youtube", "tiktok", "linkedin")
TTL_S = 20
ROUNDS = 4
EVERY_S = 60.0  # the demo channels' minimum gap: one item per channel per round, 4 minutes


def _content(platform: str, text: str, media: MediaHost) -> dict[str, Any]:
    body = item(text, [f"{platform}-demo"])
    if platform in ("youtube", "tiktok"):
        body["content"]["media"] = [
            {"url": media.video(f"klip-{platform}", 1024 * 1024), "type": "video/mp4"}
        ]
    return body


def _held_secrets(system: LocalSystem) -> set[str]:
    """Every credential the vault holds now (access and refresh tokens, pasted secrets)."""
    records = open_local_vault(system.var).load().values()
    return {r.access_token for r in records} | {r.refresh_token for r in records if r.refresh_token}


def _channels_check(system: LocalSystem) -> tuple[int, list[dict[str, Any]], str]:
    env = system.env()
    done = subprocess.run(
        [sys.executable, "-m", "warta.cli", "channels", "check", "--json"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])},
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout or b"[]"), done.stderr.decode()[-2000:]


async def _refreshes(session: aiohttp.ClientSession, system: LocalSystem) -> dict[str, int]:
    counts = {}
    for platform in PLATFORMS:
        async with session.get(f"{system.sandbox_url}/{platform}/_fake/tokens") as resp:
            counts[platform] = (await resp.json())["refreshes"].get(f"{platform}-demo", 0)
    return counts


async def test_items_keep_publishing_through_many_short_token_lifetimes(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    seen: set[str] = set()  # every credential the vault held during the run
    async with https_media_host(ROOT / "var" / "test-e2e" / "ttl-media") as media:
        env = {"WARTA_SANDBOX_TOKEN_TTL_S": str(TTL_S), "WARTA_POLICY": "naive", **media.media_env()}
        with contextmanager(local_system)(kafka_bootstrap, **env) as system:
            approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
            async with aiohttp.ClientSession() as session:
                api = Api(session, system.ingest_url, approver)
                texts: dict[str, list[str]] = {p: [] for p in PLATFORMS}
                for _ in range(ROUNDS):
                    # No "#": LinkedIn's commentary escapes it (little text format), the search would miss.
                    for platform in PLATFORMS:
                        text = unique_text(f"Kabar {platform}").replace("#", "nomor")
                        content_id = await api.submit(_content(platform, text, media))
                        texts[platform].append(text)
                        await api.wait_state(content_id, f"{platform}-demo", "published", timeout=120)
                    seen |= _held_secrets(system)
                    await asyncio.sleep(EVERY_S)
                published = {}
                for platform in PLATFORMS:
                    sandbox = Sandbox(session, system.sandbox_url, platform)
                    found = [len(await sandbox.posts_containing(t)) for t in texts[platform]]
                    assert found == [1] * ROUNDS, (platform, found)
                    published[platform] = sum(found)
                refreshes = await _refreshes(session, system)
            code, rows, stderr = _channels_check(system)
            seen |= _held_secrets(system)
            clear = _clear_under(system.var, seen)
            demo = {c.id for c in load_channels(system.channels_file).channels}
            # Before the system stops: a test system's topics go with it.
            outcomes = await read_outcomes(kafka_bootstrap, system.topic_prefix)
    minutes = (time.monotonic() - started) / 60
    statuses = Counter(o.status.value for seen_ in outcomes.values() for o in seen_)
    with capsys.disabled():
        print(
            f"\n{minutes:.1f} min with {TTL_S}-s tokens: published {published}, refreshes {refreshes},"
            f" outcomes {dict(statuses)}, {len(seen)} credentials scanned for under var/"
        )
    assert statuses["needs_reauth"] == 0
    # Each round comes after the last round's token expired: at least one refresh between rounds.
    assert all(n >= ROUNDS - 1 for n in refreshes.values()), refreshes
    assert code == 0, (stderr, [r for r in rows if not r["usable"]])
    assert {r["channel"] for r in rows if r["usable"]} == demo
    assert {r["status"] for r in rows} <= {"ok", "stored"}
    assert clear == [], clear

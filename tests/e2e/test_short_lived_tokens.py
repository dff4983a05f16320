"""`make run`'s credential path with short-lived tokens: the system connects its X and LinkedIn
accounts through their OAuth flows against the sandbox, whose access tokens live 4 s
(``WARTA_SANDBOX_TOKEN_TTL_S``); items keep arriving for several token lifetimes and every one
is published, none parked, with the refreshes counted per platform."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.e2e.client import Api, Sandbox, item, unique_text
from tests.e2e.custom_system import custom_system, read_outcomes, spread

pytestmark = pytest.mark.e2e

PLATFORMS = ("x", "linkedin")
TTL_S = 4
ITEMS = 10
EVERY_S = 2.0  # 20 s: five token lifetimes


async def test_items_keep_publishing_through_many_short_token_lifetimes(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = [c for p in PLATFORMS for c in spread(p, 1)]
    env = {"WARTA_SANDBOX_TOKEN_TTL_S": str(TTL_S), "WARTA_POLICY": "naive"}
    with custom_system(kafka_bootstrap, "ttl", channels, env) as system:
        approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
        targets = [f"{p}-1" for p in PLATFORMS]
        async with aiohttp.ClientSession() as session:
            api = Api(session, system.ingest_url, approver)
            # No "#": LinkedIn's commentary escapes it (little text format), the search would miss.
            texts = [unique_text(f"Kabar {n}").replace("#", "nomor") for n in range(ITEMS)]
            ids = []
            for text in texts:
                ids.append(await api.submit(item(text, targets)))
                await asyncio.sleep(EVERY_S)
            for content_id in ids:
                for channel in targets:
                    await api.wait_state(content_id, channel, "published", timeout=90)
            refreshes = {}
            for platform in PLATFORMS:
                sandbox = Sandbox(session, system.sandbox_url, platform)
                for text in texts:
                    assert len(await sandbox.posts_containing(text)) == 1, (platform, text)
                async with session.get(f"{system.sandbox_url}/{platform}/_fake/tokens") as resp:
                    refreshes[platform] = (await resp.json())["refreshes"].get(f"{platform}-1", 0)
        outcomes = await read_outcomes(kafka_bootstrap, system.topic_prefix)
    statuses = [o.status.value for seen in outcomes.values() for o in seen]
    with capsys.disabled():
        print(f"\n{ITEMS} items over {ITEMS * EVERY_S:.0f} s with {TTL_S}-s tokens: refreshes {refreshes}")
    assert "needs_reauth" not in statuses
    assert all(n >= 2 for n in refreshes.values()), refreshes

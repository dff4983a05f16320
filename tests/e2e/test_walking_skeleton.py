"""An approved item travels ingest → Kafka → scheduler → publisher → the Mastodon fake, and its
status shows the post's URL: the foundation issue's end-to-end promise, over the real broker."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import Keys
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e


def item(text: str, channels: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "author": "rina",
        "approval": {"approved_by": "yuyun", "approved_at": "2026-11-26T10:00:00+08:00"},
        "priority": "urgent",
        "content": {"text": text},
        "targets": [{"channel": c} for c in channels],
        **extra,
    }


async def wait_for_state(
    session: aiohttp.ClientSession, url: str, key: str, channel: str, state: str, timeout: float = 30
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    last: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        async with session.get(url, headers={"Authorization": f"Bearer {key}"}) as resp:
            if resp.status == 200:
                last = await resp.json()
                ch: dict[str, Any] = next(c for c in last["channels"] if c["channel"] == channel)
                if ch["state"] == state:
                    return ch
        await asyncio.sleep(0.2)
    raise AssertionError(f"{channel} never reached {state}: {last}")


async def test_an_approved_item_is_published_to_mastodon(system: LocalSystem, keys: Keys) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{system.ingest_url}/v1/content",
            json=item("Gubernur meresmikan jembatan Mahakam.", ["mastodon-demo"]),
            headers={"Authorization": f"Bearer {keys.approver}"},
        ) as resp:
            assert resp.status == 202, await resp.text()
            accepted = await resp.json()
        assert accepted["jobs"] == [{"channel": "mastodon-demo", "state": "accepted"}]
        status_url = f"{system.ingest_url}/v1/content/{accepted['content_id']}"

        published = await wait_for_state(session, status_url, keys.approver, "mastodon-demo", "published")
        assert published["url"].startswith(f"{system.sandbox_url}/mastodon/@")
        assert published["post_id"]

        async with session.get(f"{system.sandbox_url}/mastodon/_fake/posts") as resp:
            posts = await resp.json()
        mine = [p for p in posts if "Mahakam" in str(p)]
        assert len(mine) == 1, posts


async def test_engagement_is_measured_after_publishing(system: LocalSystem, keys: Keys) -> None:
    """The counts the platform reports for the post are the ones its status shows."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{system.ingest_url}/v1/content",
            json=item("Rapat koordinasi banjir Samarinda.", ["mastodon-demo"]),
            headers={"Authorization": f"Bearer {keys.approver}"},
        ) as resp:
            assert resp.status == 202, await resp.text()
            content_id = (await resp.json())["content_id"]
        status_url = f"{system.ingest_url}/v1/content/{content_id}"
        published = await wait_for_state(session, status_url, keys.approver, "mastodon-demo", "published")
        # The platform's counts for this post, set on the fake before the later horizons measure.
        counts = {"reactions": 7, "comments": 2, "shares": 3}
        async with session.post(
            f"{system.sandbox_url}/mastodon/_fake/engagement",
            json={"post_id": published["post_id"], **counts},
        ) as resp:
            assert resp.status == 200, await resp.text()
        deadline = asyncio.get_running_loop().time() + 30
        seen: dict[str, Any] | None = None
        while asyncio.get_running_loop().time() < deadline:
            async with session.get(status_url, headers={"Authorization": f"Bearer {keys.approver}"}) as resp:
                seen = (await resp.json())["channels"][0]["engagement"]
            if seen is not None and {k: seen[k] for k in counts} == counts:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"the status never showed the platform's counts {counts}; last: {seen}")

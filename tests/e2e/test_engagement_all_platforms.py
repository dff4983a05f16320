"""The engagement promise, per platform: after publishing, every platform whose API gives
counts produces ``engagement.observed`` at each horizon; the platforms that give none (Telegram's
Bot API, WhatsApp Cloud API messages, webhooks) are skipped cleanly: no event, no crash, one
clear line in the publisher's log and no per-measurement warnings.

The whole system runs on the demo channels (one per platform); horizons are 2, 4 and 6 seconds.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from contextlib import contextmanager
from typing import Any

import aiohttp
import pytest

from shared.events import EngagementObserved
from shared.settings import ROOT
from shared.topics import TopicRegistry
from tests.e2e.client import Api, item, unique_text
from tests.e2e.conftest import local_system
from tests.e2e.custom_system import read_events
from tests.e2e.media_host import MediaHost, https_media_host

pytestmark = pytest.mark.e2e

WITH_METRICS = (
    "mastodon",
    "facebook",
    "instagram",
    "x",
    "wordpress",
    "bluesky",
    "threads",
    "linkedin",
    "youtube",
    "tiktok",
)
WITHOUT_METRICS = ("telegram", "whatsapp", "webhook")
HORIZONS = 3  # WARTA_ENGAGEMENT_HORIZONS_S in tests/e2e/conftest.py: [2, 4, 6]
TIMEOUT_S = 90.0
SETTLED = ("published", "failed", "needs_reauth", "dead", "unconfirmed")


def content_for(platform: str, media: MediaHost) -> dict[str, Any]:
    """A post the platform can take: video where it must be a video, an image for Instagram."""
    body = item(unique_text(f"Pantauan keterlibatan {platform}"), [f"{platform}-demo"])
    if platform in ("youtube", "tiktok"):
        body["content"]["media"] = [
            {"url": media.video(f"clip-{platform}", 1024 * 1024), "type": "video/mp4"}
        ]
    elif platform == "instagram":
        body["content"]["media"] = [{"url": media.image("foto"), "type": "image/jpeg", "alt": "foto"}]
    return body


async def observed(bootstrap: str, topic_prefix: str) -> list[EngagementObserved]:
    topic = TopicRegistry(prefix=topic_prefix).engagement_observed
    return await read_events(bootstrap, topic, EngagementObserved)


async def test_engagement_is_observed_where_the_platform_gives_counts(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cert_dir = ROOT / "var" / "test-e2e" / "engagement-media"
    async with https_media_host(cert_dir) as media:
        env = {"WARTA_POLICY": "naive", **media.media_env()}
        with contextmanager(local_system)(kafka_bootstrap, **env) as system:
            approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
            async with aiohttp.ClientSession() as session:
                api = Api(session, system.ingest_url, approver)
                platforms = (*WITH_METRICS, *WITHOUT_METRICS)
                ids = {p: await api.submit(content_for(p, media)) for p in platforms}
                published = {
                    p: await api.wait_state(ids[p], f"{p}-demo", *SETTLED, timeout=TIMEOUT_S)
                    for p in platforms
                }
                loop = asyncio.get_running_loop()
                deadline = loop.time() + TIMEOUT_S
                while True:
                    events = await observed(kafka_bootstrap, system.topic_prefix)
                    counts = Counter(e.platform for e in events)
                    if all(counts[p] >= HORIZONS for p in WITH_METRICS) or loop.time() > deadline:
                        break
                    await asyncio.sleep(1)
                await asyncio.sleep(2)  # the no-metrics platforms' last horizon has passed too
                events = await observed(kafka_bootstrap, system.topic_prefix)
                alive = {p: system.procs[f"publisher-{p}"].poll() is None for p in platforms}
                logs = {
                    p: (system.logs / f"publisher-{p}.log").read_text(errors="replace") for p in platforms
                }

    counts = Counter(e.platform for e in events)
    with capsys.disabled():
        print("\nengagement.observed per platform (horizons 2, 4, 6 s):")
        for p in platforms:
            sample = next((e for e in events if e.platform == p), None)
            shown = (
                f"reactions={sample.reactions} comments={sample.comments} shares={sample.shares} reach={sample.reach}"
                if sample
                else "-"
            )
            failure = published[p].get("failure") or ""
            print(f"  {p:<10} {published[p]['state']:<9} events={counts[p]}  {shown} {failure}")
    assert {p: s["state"] for p, s in published.items()} == dict.fromkeys(platforms, "published")
    for p in WITH_METRICS:
        assert counts[p] >= HORIZONS, (p, counts)
        assert {e.content_id for e in events if e.platform == p} == {ids[p]}
    for p in WITHOUT_METRICS:
        assert counts[p] == 0, (p, counts)
        assert logs[p].count(f"engagement is not collected on {p}") == 1, p
        assert "unavailable" not in logs[p], p
    assert all(alive.values()), alive

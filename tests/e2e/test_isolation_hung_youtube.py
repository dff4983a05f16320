"""Isolation on the platforms with multi-step publishing: YouTube hanging never delays the others.

YouTube's fake is made to hang (every API request waits 10 minutes) and the publisher's call
timeout is raised to 2 minutes, so the YouTube publisher is really stuck mid-upload, not failing
fast. While it is stuck, items due on all six platforms are published on Bluesky, Threads,
LinkedIn, TikTok and WhatsApp; the YouTube jobs wait. Lags from due instant to published are
printed and bounded only loosely (a stuck platform would show as minutes, not seconds).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest

from shared.settings import ROOT
from tests.e2e.client import Api, Sandbox, in_seconds, item, unique_text
from tests.e2e.custom_system import custom_system
from tests.e2e.media_host import MediaHost, https_media_host
from tests.e2e.test_isolation import LOOSE_BOUND_S, lag_s
from tests.e2e.test_publisher_kill_multistep import channels as kill_test_channels

pytestmark = pytest.mark.e2e

HEALTHY = ("bluesky", "threads", "linkedin", "tiktok", "whatsapp")
HUNG = "youtube"
# WhatsApp takes one message per 6 s to a number (131056): items due further apart than that.
SPACING_S = 7
VIDEO = {"youtube", "tiktok"}


def body(text: str, targets: list[str], media: MediaHost, **kw: Any) -> dict[str, Any]:
    """One item for all ``targets``; YouTube and TikTok get a video in their channel variant."""
    out = item(text, targets, **kw)
    video = {"media": [{"url": media.video("klip", 1024 * 1024), "type": "video/mp4"}]}
    out["targets"] = [
        {"channel": t, "content": video} if t.split("-")[0] in VIDEO else {"channel": t} for t in targets
    ]
    return out


async def test_a_hung_youtube_does_not_delay_the_multistep_platforms(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = [c for c in kill_test_channels() if c["id"].endswith("-1") and c["platform"] in (*HEALTHY, HUNG)]
    async with https_media_host(ROOT / "var" / "test-e2e" / "iso7-media") as media:
        env = {"WARTA_CALL_TIMEOUT_S": "120", **media.media_env()}
        with custom_system(kafka_bootstrap, "iso7", chosen, env) as system:
            approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
            async with aiohttp.ClientSession() as session:
                api = Api(session, system.ingest_url, approver)
                youtube = Sandbox(session, system.sandbox_url, HUNG)
                await youtube.fault(path_contains="v3", delay_s=600, count=10_000)

                # First get the YouTube publisher stuck in a call...
                stuck_id = await api.submit(body(unique_text("YouTube hangs on this"), [f"{HUNG}-1"], media))
                await api.wait_state(stuck_id, f"{HUNG}-1", "attempted", timeout=60)

                # ...then make items due everywhere a few seconds later.
                # No '#': LinkedIn escapes it in commentary, and the texts are looked up verbatim.
                texts = [f"Due while YouTube hangs {i} {uuid.uuid4().hex[:8]}" for i in range(2)]
                targets = [f"{p}-1" for p in (*HEALTHY, HUNG)]
                ids = [
                    await api.submit(body(text, targets, media, not_before=in_seconds(4 + SPACING_S * i)))
                    for i, text in enumerate(texts)
                ]
                lags: dict[str, list[float]] = {p: [] for p in HEALTHY}
                for content_id in ids:
                    for platform in HEALTHY:
                        published = await api.wait_state(content_id, f"{platform}-1", "published", timeout=90)
                        lags[platform].append(lag_s(published))

                hung_states = [(await api.channel(cid, f"{HUNG}-1"))["state"] for cid in [stuck_id, *ids]]
                youtube_posts = [p for text in texts for p in await youtube.posts_containing(text)]
                for platform in HEALTHY:
                    sandbox = Sandbox(session, system.sandbox_url, platform)
                    for text in texts:
                        assert len(await sandbox.posts_containing(text)) == 1, (platform, text)

    with capsys.disabled():
        print(f"\nisolation: due → published lag (s) while {HUNG} hangs:")
        for platform, values in lags.items():
            print(f"  {platform:<9} " + ", ".join(f"{v:.2f}" for v in values))
        print(f"  {HUNG:<9} states {hung_states}")
    assert youtube_posts == []
    assert hung_states[0] == "attempted"
    assert "published" not in hung_states
    assert all(v < LOOSE_BOUND_S for values in lags.values() for v in values), lags

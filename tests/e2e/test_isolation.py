"""Isolation: one platform hanging never delays the others.

Telegram's fake is made to hang (every request waits 10 minutes) and the publisher's call
timeout is raised to 2 minutes, so the Telegram publisher is really stuck mid-call, not failing
fast. While it is stuck, items due on all four platforms are published on the other three; the
Telegram job is still waiting. The lags from due instant to published are printed, and bounded
only loosely (a stuck platform would show as minutes, not seconds).
"""

from __future__ import annotations

import json
from datetime import datetime

import aiohttp
import pytest

from tests.e2e.client import Api, Sandbox, in_seconds, item, unique_text
from tests.e2e.custom_system import custom_system, spread

pytestmark = pytest.mark.e2e

HEALTHY = ("mastodon", "x", "facebook")
HUNG = "telegram"
LOOSE_BOUND_S = 45.0  # an order of magnitude above what a healthy publish takes on a busy laptop


def lag_s(status: dict[str, object]) -> float:
    slot = datetime.fromisoformat(str(status["slot"]))
    done = datetime.fromisoformat(str(status["updated_at"]))
    return (done - slot).total_seconds()


async def test_a_hung_platform_does_not_delay_the_others(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = [c for p in (*HEALTHY, HUNG) for c in spread(p, 1)]
    env = {"WARTA_CALL_TIMEOUT_S": "120"}
    with custom_system(kafka_bootstrap, "iso", channels, env) as system:
        approver = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
        async with aiohttp.ClientSession() as session:
            api = Api(session, system.ingest_url, approver)
            telegram = Sandbox(session, system.sandbox_url, HUNG)
            await telegram.fault(path_contains="/bot", delay_s=600, count=10_000)

            # First get the Telegram publisher stuck in a call...
            stuck_id = await api.submit(item(unique_text("Telegram hangs on this"), [f"{HUNG}-1"]))
            await api.wait_state(stuck_id, f"{HUNG}-1", "attempted", timeout=60)

            # ...then make items due everywhere a few seconds later.
            texts = [unique_text(f"Due while Telegram hangs {i}") for i in range(3)]
            targets = [f"{p}-1" for p in (*HEALTHY, HUNG)]
            ids = [
                await api.submit(item(text, targets, not_before=in_seconds(4 + i)))
                for i, text in enumerate(texts)
            ]
            lags: dict[str, list[float]] = {p: [] for p in HEALTHY}
            for content_id in ids:
                for platform in HEALTHY:
                    published = await api.wait_state(content_id, f"{platform}-1", "published", timeout=90)
                    lags[platform].append(lag_s(published))

            hung_states = [(await api.channel(cid, f"{HUNG}-1"))["state"] for cid in [stuck_id, *ids]]
            telegram_posts = [p for text in texts for p in await telegram.posts_containing(text)]
            for platform in HEALTHY:
                sandbox = Sandbox(session, system.sandbox_url, platform)
                for text in texts:
                    assert len(await sandbox.posts_containing(text)) == 1, (platform, text)

    with capsys.disabled():
        print("\nisolation: due → published lag (s) while telegram hangs:")
        for platform, values in lags.items():
            print(f"  {platform:<9} " + ", ".join(f"{v:.2f}" for v in values))
        print(f"  {HUNG:<9} states {hung_states}")
    # Telegram never got anything through; its first job is still stuck in its call.
    assert telegram_posts == []
    assert hung_states[0] == "attempted"
    assert "published" not in hung_states
    assert all(v < LOOSE_BOUND_S for values in lags.values() for v in values), lags

"""The real analytics worker on the real broker, restarted after a channel's timezone was
corrected in its channels file: a later reading of a post published before the correction moves
the week, day and hour it was first counted in (tests/unit/test_analytics_zones.py has the other
changes: a channel removed or renamed, a new report zone)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest

from shared.topics import TopicRegistry
from tests.integration.test_analytics_worker import (  # noqa: F401 (the fixture)
    PLATFORM,
    WAIT_S,
    Worker,
    committed_within,
    produce,
    source_topics,
    worker,
)
from tests.unit.test_analytics_figures import CHANNELS
from tests.unit.test_analytics_zones import published, reading

pytestmark = pytest.mark.integration


async def all_time(analytics: Worker, reactions: int) -> None:
    """Until the channel's all-time row has the post with ``reactions``."""
    started, body = time.monotonic(), "no answer yet"
    while time.monotonic() - started < WAIT_S:
        status, answer = await asyncio.to_thread(analytics.get, "/v1/reach?by=channel&window=all")
        body = answer
        if status == 200 and [(r["key"], r["reactions"]) for r in answer["rows"]] == [("x", reactions)]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{body}\n{analytics.log.read_text(errors='replace')[-3000:]}")


def rows(analytics: Worker, query: str) -> list[tuple[str, str | None, int, int]]:
    status, body = analytics.get(f"/v1/reach?{query}")
    assert status == 200, body
    return [(r["key"], r["period"], r["posts"], r["reactions"]) for r in body["rows"]]


async def test_a_reading_after_a_zone_correction_moves_the_week_the_post_was_counted_in(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    worker: Worker,  # noqa: F811 (the fixture imported above)
    run_id: str,
) -> None:
    assert CHANNELS["x"] == "Asia/Jayapura"  # the post is Monday 00:30 there, 2026-W49
    await source_topics(kafka_bootstrap, topics)
    worker.start()
    await worker.wait_ready()
    await produce(kafka_bootstrap, topics, [published(1), reading(1, 60, 100)])
    await all_time(worker, 100)
    await committed_within(kafka_bootstrap, topics, run_id, WAIT_S)
    worker.kill(signal.SIGTERM)

    corrected = {**CHANNELS, "x": "Asia/Jakarta"}  # where the post is Sunday 22:30, 2026-W48
    channels = [{"id": c, "platform": PLATFORM[c], "timezone": z} for c, z in corrected.items()]
    path = Path(worker.env["WARTA_CHANNELS_FILE"])
    await asyncio.to_thread(path.write_text, json.dumps({"channels": channels}))
    worker.start()
    await worker.wait_ready()
    await produce(kafka_bootstrap, topics, [reading(2, 1440, 500)])
    await all_time(worker, 500)

    assert await asyncio.to_thread(rows, worker, "by=channel&window=week") == [("x", "2026-W49", 1, 500)]
    assert await asyncio.to_thread(rows, worker, "by=channel&window=day") == [("x", "2026-11-30", 1, 500)]
    assert await asyncio.to_thread(rows, worker, "by=hour&window=week") == [("x#0", "2026-W49", 1, 500)]
    status, doc = await asyncio.to_thread(worker.get, "/v1/report?week=2026-W49")
    assert status == 200, doc
    assert [(r["key"], r["posts"], r["reactions"]) for r in doc["channels"]] == [("x", 1, 500)]

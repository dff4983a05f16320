"""The slot model's expectation reaches the analytics report through the real broker.

The scheduler's publisher (``services.scheduler.expectations``) writes a learned model's snapshot
onto ``model.expectations``; a running `warta analytics` worker folds it, and its report document
and Reach page show it beside the observed heatmap. Nothing imports across the two services:
the test only connects them by the topic, as a deployment does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from services.analytics.openapi import openapi_document
from services.scheduler.expectations import ExpectationPublisher
from services.scheduler.policy_chooser import PolicyChooser
from shared.channels import Channel
from shared.events import EngagementObserved
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.test_analytics_worker import Worker, page, worker  # noqa: F401 (the fixture)

pytestmark = pytest.mark.integration

IG = Channel(id="ig", platform="instagram", timezone="Asia/Jakarta")
FB = Channel(id="fb", platform="facebook", timezone="Asia/Makassar")
NOW = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)


def learned_chooser() -> PolicyChooser:
    chooser = PolicyChooser()
    for day in range(4):
        published = NOW - timedelta(days=day + 1)
        chooser.observe(
            IG,
            EngagementObserved(
                event_id=f"e{day}",
                occurred_at=published + timedelta(hours=24),
                job_id=f"i{day}:ig",
                content_id=f"i{day}",
                channel="ig",
                platform="instagram",
                published_at=published,
                horizon_minutes=1440,
                reactions=200 + day,
                comments=10,
                shares=3,
            ),
            None,
        )
    return chooser


async def test_a_published_snapshot_reaches_the_report_and_the_reach_page(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    worker: Worker,  # noqa: F811 (the fixture imported above)
) -> None:
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.model_expectations])
    chooser = learned_chooser()
    producer = make_producer(kafka_bootstrap, "expectations-test")
    await producer.start()
    try:
        publisher = ExpectationPublisher(
            topics.model_expectations,
            topics.partitions,
            [IG, FB],
            chooser,
            owns=lambda channel: channel != "fb",  # fb's plan is another worker's: nothing from here
            producer=producer,
            every_s=900.0,
            clock=lambda: NOW,
        )
        assert await publisher.publish_once() == 1
    finally:
        await producer.stop()

    worker.start()
    await worker.wait_ready()
    started = time.monotonic()
    while True:
        status, doc = await asyncio.to_thread(worker.get, "/v1/report?week=2026-W49")
        assert status == 200, doc
        if doc.get("expectation"):
            break
        assert time.monotonic() - started < 120, doc
        await asyncio.sleep(0.5)
    print(f"\nexpectation snapshot in the report {time.monotonic() - started:.1f} s after ready")
    [snapshot] = doc["expectation"]
    assert snapshot["channel"] == "ig"
    assert snapshot["observations"] == 4
    assert snapshot["computed_at"] == NOW.isoformat()
    assert len(snapshot["hourly"]) == 168
    assert snapshot["hourly"][20] > snapshot["hourly"][3]  # evening over the small hours

    status, served = await asyncio.to_thread(worker.get, "/openapi.json")  # the API's document, served
    assert (status, served) == (200, openapi_document())

    status, _, html = await asyncio.to_thread(page, worker.port, "/reach?week=2026-W49&lang=id")
    assert status == 200
    assert "Perkiraan model" in html
    assert "dipelajari dari 4 unggahan" in html

"""Wires ingest: topics, producer, status view and its feeder, the HTTP app; runs until stopped."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiohttp import web

from services.ingest.auth import KeyStore
from services.ingest.feeder import Feeder
from services.ingest.http_api import Deps, create_app
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.ingest.status_view import StatusView
from services.ingest.throttle import KeyThrottle
from shared.kafka import ensure_topics, make_producer

log = logging.getLogger("warta.ingest")


def _now() -> datetime:
    return datetime.now(UTC)


async def run(settings: IngestSettings, stop: asyncio.Event) -> None:
    topics = settings.topics
    channels = settings.load_channels()
    await ensure_topics(settings.kafka_bootstrap, topics.specs())
    view = StatusView()
    feeder = Feeder(
        settings.kafka_bootstrap,
        [
            topics.content_approved,
            topics.content_control,
            topics.content_drafts,
            topics.schedule_jobs,
            topics.publish_outcomes,
            topics.engagement_observed,
        ],
        view,
    )
    producer = make_producer(settings.kafka_bootstrap, "warta-ingest")
    await producer.start()
    metrics = IngestMetrics()
    deps = Deps(
        settings=settings,
        topics=topics,
        channels=channels,
        keys=KeyStore.load(settings.keys_file),
        view=view,
        producer=producer,
        caught_up=feeder.caught_up,
        metrics=metrics,
        throttle=KeyThrottle(settings.rate_burst, settings.rate_per_minute),
        clock=_now,
        health=lambda: {},
    )
    feed = asyncio.create_task(feeder.run(stop))
    runner = web.AppRunner(create_app(deps), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.ingest_host, settings.ingest_port)
    await site.start()
    log.info("ingest listening on http://%s:%d", settings.ingest_host, settings.ingest_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await feed
        await producer.stop()

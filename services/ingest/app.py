"""Wires ingest: topics, producer, status view and its feeder, the HTTP app; runs until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from services.ingest.feeder import Feeder
from services.ingest.handling import Deps
from services.ingest.http_api import create_app
from services.ingest.log_ends import LogEnds
from services.ingest.metrics import IngestMetrics
from services.ingest.readiness import Readiness
from services.ingest.settings import IngestSettings
from services.ingest.status_view import StatusView
from services.ingest.throttle import KeyThrottle
from services.ingest.writer import EventWriter
from shared.access_log import app_runner
from shared.channels import ChannelDirectory
from shared.clock import Clock, utcnow
from shared.events import DraftApproved, Event, IdempotencyClaimed
from shared.http_auth import KeyStore
from shared.kafka import ensure_topics
from shared.runtime import freeze_survivors, sweep
from shared.watchdog import Watchdog

log = logging.getLogger("warta.ingest")


async def _keep_view_out_of_collections(caught_up: asyncio.Event, sweep_s: float) -> None:
    # The view only grows and lives as long as the process: once it is read back, keep it and
    # everything that joins it out of the collector's walks (shared.runtime.freeze_survivors),
    # and sweep every sweep_s for the cycles that freezing keeps back.
    await caught_up.wait()
    sweep()
    freeze_survivors()
    while True:
        await asyncio.sleep(sweep_s)
        sweep()


def _feeders(settings: IngestSettings, view: StatusView, watchdog: Watchdog) -> tuple[Feeder, Feeder]:
    """The view's feeder, and the feeder of the topics whose order decides."""
    topics = settings.topics
    feeder = Feeder(
        settings.kafka,
        [
            topics.content_approved,
            topics.content_control,
            topics.schedule_jobs,
            topics.publish_outcomes,
            topics.engagement_observed,
        ],
        view,
        dead_topic=topics.publish_dead,
        watchdog=watchdog,
        owns=topics.owned_by("ingest"),
    )
    # The topics whose order decides (services.ingest.decisions): a request waits for its own
    # claim to be read back, so this feeder answers each fetch as soon as a record is there.
    decisions = Feeder(
        settings.kafka,
        [topics.content_drafts, topics.ingest_idempotency],
        view,
        dead_topic=topics.publish_dead,
        name="decisions",
        fetch_min_bytes=1,
        fetch_max_wait_ms=500,
        watchdog=watchdog,
        owns=topics.owned_by("ingest"),
    )
    return feeder, decisions


def _deps(
    settings: IngestSettings,
    *,
    keys: KeyStore | None,
    clock: Clock,
    channels: ChannelDirectory,
    view: StatusView,
    writer: EventWriter,
    feeders: tuple[Feeder, Feeder],
) -> Deps:
    feeder, decisions = feeders
    topics = settings.topics
    return Deps(
        settings=settings,
        topics=topics,
        channels=channels,
        keys=keys if keys is not None else KeyStore.load(settings.keys_file, settings.api_key_pepper()),
        view=view,
        writer=writer,
        caught_up=asyncio.Event(),
        metrics=IngestMetrics(view, [f.dead_letters for f in feeders]),
        throttle=KeyThrottle(settings.rate_burst, settings.rate_per_minute),
        list_throttle=KeyThrottle(settings.list_rate_burst, settings.list_rate_per_minute),
        readiness=Readiness(
            settings.kafka, [s.name for s in topics.specs()], ttl_s=settings.readiness_cache_s
        ),
        clock=clock,
        health=lambda: {},
        read_past=_read_past(feeder, decisions),
        log_ends=LogEnds(settings.kafka, timeout_s=settings.ack_timeout_s),
        applied_here=feeder.applied_here,
    )


def _read_past(feeder: Feeder, decisions: Feeder) -> Callable[[str, int, int], Awaitable[None]]:
    """Waits until the record at (topic, partition, offset) is in the view: the ``read_past`` of
    the feeder that follows the topic."""

    async def read_past(topic: str, partition: int, offset: int) -> None:
        await (decisions if decisions.follows(topic) else feeder).read_past(topic, partition, offset)

    return read_past


@contextlib.asynccontextmanager
async def wired(
    settings: IngestSettings, *, keys: KeyStore | None = None, clock: Clock = utcnow
) -> AsyncIterator[Deps]:
    """Everything the HTTP app needs, started; stopped again on exit (the tests build on this too)."""
    channels = settings.load_channels()  # a bad file stops the start before anything runs
    await ensure_topics(settings.kafka, settings.topics.specs())
    view = StatusView(timedelta(seconds=settings.idempotency_ttl_s), channels)
    watchdog = Watchdog(settings.stall_limit_s)
    feeder, decisions = _feeders(settings, view, watchdog)
    writer = EventWriter(
        settings.kafka,
        "warta-ingest",
        settings.ack_timeout_s,
        on_late_ack=lambda event: _late_ack(view, event),
        batch_window_s=settings.write_batch_window_ms / 1000,
    )
    await writer.start()
    deps = _deps(
        settings,
        keys=keys,
        clock=clock,
        channels=channels,
        view=view,
        writer=writer,
        feeders=(feeder, decisions),
    )
    stop_feeding = asyncio.Event()
    tasks = [
        asyncio.create_task(feeder.run(stop_feeding)),
        asyncio.create_task(decisions.run(stop_feeding)),
        asyncio.create_task(watchdog.run(stop_feeding)),
        asyncio.create_task(_both_caught_up(feeder, decisions, deps.caught_up)),
    ]
    try:
        yield deps
    finally:
        stop_feeding.set()
        tasks[-1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await deps.readiness.close()
        await deps.log_ends.close()
        await writer.stop()


def _late_ack(view: StatusView, event: Event) -> None:
    """A write answered 503 was stored after all: the retry must find it. Not so for a claim,
    which counts where the log puts it: the feeder applies it in that order."""
    if not isinstance(event, IdempotencyClaimed | DraftApproved):
        view.apply(event)


async def _both_caught_up(feeder: Feeder, decisions: Feeder, caught_up: asyncio.Event) -> None:
    await feeder.caught_up.wait()
    await decisions.caught_up.wait()
    caught_up.set()


async def run(settings: IngestSettings, stop: asyncio.Event) -> None:
    async with wired(settings) as deps:
        # Only here, in ingest's own process: freezing in a test process would pin its objects.
        settle = asyncio.create_task(_keep_view_out_of_collections(deps.caught_up, settings.gc_sweep_s))
        runner = app_runner(create_app(deps), settings.access_log)
        await runner.setup()
        # A burst of new connections past aiohttp's default backlog (128) has its SYNs dropped,
        # and each such client waits out the 1 s SYN retransmission (seen as 1 s p99s in
        # bench/ingest.py); the kernel caps this at net.core.somaxconn.
        site = web.TCPSite(runner, settings.ingest_host, settings.ingest_port, backlog=1024)
        await site.start()
        log.info("ingest listening on http://%s:%d", settings.ingest_host, settings.ingest_port)
        try:
            await stop.wait()
        finally:
            settle.cancel()
            await runner.cleanup()

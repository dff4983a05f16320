"""Wires the console: topics, the view and its feeder, the offsets probe, the Prometheus collector,
the webhook dispatcher and the HTTP app; runs until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import aiohttp
from aiohttp import web

from services.console.claims import DecisionOrder
from services.console.feeder import Feeder
from services.console.http_api import create_app
from services.console.http_deps import CLAIM_HOLD, Deps
from services.console.metrics import TopicCollector
from services.console.offsets import History, OffsetSnapshot, OffsetsProbe
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView, Retention
from services.console.webhooks import DeliveryLog, Dispatcher, RetryRule, Subscriber, load_subscribers
from shared.access_log import app_runner
from shared.clock import utcnow
from shared.events import Event
from shared.http_auth import KeyStore
from shared.kafka import KafkaUnavailable, ensure_topics, make_producer
from shared.metrics import service_registry
from shared.watchdog import Watchdog

log = logging.getLogger("warta.console")
# Often enough that a replay of a long history is trimmed while it runs, not only after it.
EXPIRE_EVERY_S = 10.0


class Prober:
    """Reads offsets every ``interval`` seconds; keeps the latest snapshot and the history."""

    def __init__(self, probe: OffsetsProbe, history: History, interval: float) -> None:
        self._probe = probe
        self._history = history
        self._interval = interval
        self.latest: OffsetSnapshot | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.latest = await self._probe.read(utcnow())
                self._history.add(self.latest)
            except KafkaUnavailable as exc:
                log.warning("%s", exc)  # keep the last snapshot; its age shows in the metrics
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)


async def expire(view: ConsoleView, deps: Deps, stop: asyncio.Event, interval: float) -> None:
    """Lets finished jobs and lapsed action claims go, so the view stays bounded."""
    while not stop.is_set():
        dropped = view.expire(utcnow())
        deps.claims.expire(utcnow())
        deps.order.expire(utcnow())
        if dropped:
            log.info("%d finished jobs left the console's view (retention)", dropped)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def _view(settings: ConsoleSettings) -> ConsoleView:
    return ConsoleView(
        Retention(
            finished=timedelta(hours=settings.finished_retention_hours),
            attention=timedelta(hours=settings.attention_retention_hours),
        )
    )


def _feeder(settings: ConsoleSettings, view: ConsoleView, order: DecisionOrder, watchdog: Watchdog) -> Feeder:
    """The view's reader; it also keeps the log's order of decisions, for actions across consoles."""
    topics = settings.topics

    def fold(event: Event) -> None:
        order.seen(event)
        view.apply(event)

    return Feeder(
        settings.kafka,
        [topics.schedule_jobs, topics.publish_outcomes, topics.publish_dead, topics.content_control],
        fold,
        dead_topic=topics.publish_dead,
        watchdog=watchdog,
    )


def _dispatcher(
    settings: ConsoleSettings, subscribers: list[Subscriber], deliveries: DeliveryLog
) -> Dispatcher:
    """The lifecycle webhooks' sender: the topics it follows, and how it retries a delivery."""
    topics = settings.topics
    return Dispatcher(
        settings.kafka,
        [topics.schedule_jobs, topics.publish_outcomes, topics.content_control, topics.inbox_spikes],
        settings.group_prefix,
        subscribers,
        deliveries,
        utcnow,
        RetryRule(
            settings.webhook_max_attempts,
            settings.webhook_backoff_base_s,
            settings.webhook_backoff_cap_s,
            settings.webhook_timeout_s,
        ),
        settings.webhooks_offset_reset,
        dead_topic=topics.publish_dead,
    )


async def _serve(deps: Deps, subscribers: int) -> web.AppRunner:
    """The HTTP API, listening; the caller cleans the runner up."""
    settings = deps.settings
    runner = app_runner(create_app(deps), settings.access_log)
    await runner.setup()
    await web.TCPSite(runner, settings.console_host, settings.console_port).start()
    log.info(
        "console listening on http://%s:%d (%d webhook subscribers)",
        settings.console_host,
        settings.console_port,
        subscribers,
    )
    return runner


async def run(settings: ConsoleSettings, stop: asyncio.Event) -> None:
    topics = settings.topics
    channels = settings.load_channels()
    await ensure_topics(settings.kafka, topics.specs())
    view = _view(settings)
    watchdog = Watchdog(settings.stall_limit_s)
    order = DecisionOrder(CLAIM_HOLD)
    feeder = _feeder(settings, view, order, watchdog)
    history = History(settings.history_samples)
    probe = OffsetsProbe(settings.kafka, [s.name for s in topics.specs()], settings.group_prefix)
    await probe.start()
    prober = Prober(probe, history, settings.probe_interval_s)
    registry = service_registry("console")
    registry.register(
        TopicCollector(view, lambda: prober.latest, channels, utcnow, replayed=feeder.caught_up.is_set)
    )
    subscribers = load_subscribers(settings.webhooks_file) if settings.webhooks_file else []
    deliveries = DeliveryLog(settings.webhook_log_size)
    dispatcher = _dispatcher(settings, subscribers, deliveries)
    producer = make_producer(settings.kafka, "warta-console")
    await producer.start()
    session = aiohttp.ClientSession()
    deps = Deps(
        settings=settings,
        topics=topics,
        channels=channels,
        keys=KeyStore.load(settings.keys_file, settings.api_key_pepper()),
        view=view,
        history=history,
        snapshot=lambda: prober.latest,
        producer=producer,
        registry=registry,
        deliveries=deliveries,
        session=session,
        caught_up=feeder.caught_up,
        clock=utcnow,
        order=order,
        read_past=feeder.read_past,
    )
    tasks = [
        asyncio.create_task(feeder.run(stop)),
        asyncio.create_task(watchdog.run(stop)),
        asyncio.create_task(prober.run(stop)),
        asyncio.create_task(dispatcher.run(stop)),
        asyncio.create_task(expire(view, deps, stop, EXPIRE_EVERY_S)),
    ]
    runner = await _serve(deps, len(subscribers))
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        await producer.stop()
        await probe.stop()

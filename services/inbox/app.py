"""Wires the inbox service: topics, the book rebuilt, the collector's loops, the keeper, HTTP.

Start order: topics exist → the book is rebuilt from ``inbox.items`` (so repeats are known and
the API answers from a complete inbox) → the outcomes follower, the poller and the keeper start
→ HTTP serves. Any loop that fails stops the whole service (its supervisor restarts it and it
rebuilds from Kafka).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from services.inbox.book import InboxBook
from services.inbox.collector import Collector
from services.inbox.follow import follow, read_to_end
from services.inbox.http_api import Deps, create_app
from services.inbox.keeper import InboxKeeper
from services.inbox.readers import CommentReader
from services.inbox.schedule import PollSchedule
from services.inbox.settings import InboxSettings
from shared.channels import ChannelDirectory
from shared.dead_letters import DeadLetters
from shared.events import Event, InboxChanged, PublishOutcome
from shared.http_auth import KeyStore
from shared.kafka import ensure_topics, make_producer
from shared.secrets_file import read_secrets_file
from shared.topics import TopicRegistry, TopicSpec

log = logging.getLogger("warta.inbox")


def inbox_topics(topics: TopicRegistry) -> list[TopicSpec]:
    """The topics the inbox reads and writes (created here if ``warta topics`` has not yet)."""
    names = {
        topics.publish_outcomes,
        topics.publish_dead,
        topics.comments_observed,
        topics.inbox_items,
        topics.inbox_changes,
    }
    return [spec for spec in topics.specs() if spec.name in names]


def channel_tokens(channels: ChannelDirectory, secrets: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Each channel's secret name → token, for the channels whose secret exists (the others' reads
    answer 401, and their status says so)."""
    return {
        channel.secret: secrets[channel.secret]["token"]
        for channel in channels.channels
        if channel.secret is not None and channel.secret in secrets
    }


@dataclass
class Inbox:
    """One running inbox: what tests and ``run`` drive."""

    keeper: InboxKeeper
    collector: Collector
    schedule: PollSchedule
    app: web.Application
    outcomes_caught_up: asyncio.Event


@contextlib.asynccontextmanager
async def running_inbox(
    settings: InboxSettings,
    stop: asyncio.Event,
    *,
    keys: KeyStore | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[Inbox]:
    topics, kafka = settings.topics, settings.kafka
    await ensure_topics(kafka, inbox_topics(topics))
    channels = settings.load_channels()
    keys = keys or KeyStore.load(settings.keys_file, settings.api_key_pepper())
    tokens = channel_tokens(channels, read_secrets_file(settings.secrets_file))
    producer = make_producer(kafka, "warta-inbox")
    await producer.start()
    dead = DeadLetters(topics.publish_dead, "inbox", producer=producer, clock=clock)
    tasks: list[asyncio.Task[object]] = []
    try:
        book = InboxBook()

        def rebuild(event: Event) -> None:
            if isinstance(event, InboxChanged):
                book.apply(event)

        restored = await read_to_end(kafka, topics.inbox_items, rebuild, dead)
        log.info("inbox rebuilt: %d entries from %d records", len(book), restored)
        keeper = InboxKeeper(producer=producer, topics=topics, book=book, dead_letters=dead, clock=clock)
        schedule = PollSchedule(
            interval=timedelta(seconds=settings.poll_interval_s),
            watch_for=timedelta(days=settings.watch_days),
        )
        async with aiohttp.ClientSession() as session:
            collector = Collector(
                producer=producer,
                topics=topics,
                channels=channels,
                reader=CommentReader(session, tokens),
                schedule=schedule,
                known=book.__contains__,
            )

            def watch(event: Event) -> None:
                if isinstance(event, PublishOutcome):
                    collector.watch(event, clock())

            caught_up = asyncio.Event()
            tasks = [
                asyncio.create_task(
                    follow(
                        kafka,
                        topics.publish_outcomes,
                        watch,
                        dead,
                        stop=stop,
                        caught_up=caught_up,
                        from_start=settings.outcomes_offset_reset == "earliest",
                    )
                ),
                asyncio.create_task(_poll_loop(collector, settings.poll_tick_s, stop, clock)),
                asyncio.create_task(keeper.consume(kafka, settings.group("inbox-keeper"), stop)),
            ]
            for task in tasks:
                task.add_done_callback(lambda t: _stop_on_failure(t, stop))
            app = create_app(Deps(settings, keys, channels, keeper, collector, clock))
            try:
                yield Inbox(keeper, collector, schedule, app, caught_up)
            finally:
                # The loops end before the HTTP session they poll with is closed.
                stop.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
    finally:
        stop.set()
        if tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
        await dead.close()
        await producer.stop()


def _stop_on_failure(task: asyncio.Task[object], stop: asyncio.Event) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("an inbox loop failed; stopping", exc_info=task.exception())
        stop.set()


async def _poll_loop(
    collector: Collector, tick_s: float, stop: asyncio.Event, clock: Callable[[], datetime]
) -> None:
    while not stop.is_set():
        await collector.poll_due(clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick_s)


async def run(settings: InboxSettings, stop: asyncio.Event) -> None:
    async with running_inbox(settings, stop) as inbox:
        runner = web.AppRunner(inbox.app)
        await runner.setup()
        site = web.TCPSite(runner, settings.inbox_host, settings.inbox_port)
        await site.start()
        log.info("inbox serving on %s:%d", settings.inbox_host, settings.inbox_port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

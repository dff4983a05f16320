"""Wires the inbox service: topics, the book rebuilt, the collector's loops, the keeper, HTTP.

Start order: topics exist → the book is rebuilt from ``inbox.items`` (so repeats are known and
the API answers from a complete inbox) → this host's vault catches up with the credentials
topic and follows it (``credentials``) → the publisher jobs of entries still replying are sent
again → the complaint records are read back from ``complaints.items`` → the outcomes follower,
the poller and the keeper (which also follows the publisher's outcomes of replies) start → HTTP
serves. Any loop that fails stops the whole service (its supervisor restarts it and it
rebuilds from Kafka).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaProducer

from services.inbox.answering_api import add_answering_routes
from services.inbox.book import InboxBook
from services.inbox.collector import Collector
from services.inbox.complaint_api import add_complaint_routes
from services.inbox.complaint_desk import ComplaintDesk
from services.inbox.complaint_metrics import ComplaintFigures
from services.inbox.content_tags import ContentTags
from services.inbox.credentials import following_credentials
from services.inbox.follow import follow, read_to_end
from services.inbox.http_api import Deps, create_app
from services.inbox.keeper import InboxKeeper
from services.inbox.lapor_http import lapor_port
from services.inbox.lifecycle import own_names
from services.inbox.metrics import InboxMetrics
from services.inbox.readers import CommentReader
from services.inbox.responsiveness import written_in_working_hours
from services.inbox.schedule import PollSchedule
from services.inbox.settings import InboxSettings
from services.inbox.spike_events import counted
from services.inbox.spikes import SpikeRule, SpikeWatch
from services.inbox.telegram_updates import telegram_reading
from services.inbox.template_api import add_template_routes
from services.inbox.template_store import TemplateStore
from services.inbox.working_calendar import load_working_hours
from services.inbox.working_time import WorkingHours
from shared.access_log import app_runner
from shared.channels import ChannelDirectory
from shared.credentials import SecretsError
from shared.credentials.opening import open_vault, secret_store
from shared.credentials.reconnect import send_reconnected
from shared.credentials.secret_store import SecretStore
from shared.credentials.vault import CredentialVault
from shared.dead_letters import DeadLetters
from shared.events import Event, InboxChanged, PublishOutcome
from shared.http_auth import KeyStore
from shared.kafka import ensure_topics, make_producer
from shared.topics import PLATFORMS, TopicRegistry, TopicSpec

log = logging.getLogger("warta.inbox")

DEFAULT_ZONE = "Asia/Jakarta"  # a channel no longer configured still counts in WIB


def inbox_topics(topics: TopicRegistry) -> list[TopicSpec]:
    """The topics the inbox reads and writes (created here if ``warta topics`` has not yet)."""
    names = {
        topics.publish_outcomes,
        topics.publish_dead,
        topics.comments_observed,
        topics.inbox_items,
        topics.inbox_changes,
        topics.inbox_replies,
        topics.inbox_templates,
        # Replies are jobs on the publishers' topics (the publishers create them too).
        *(topics.publish(p) for p in PLATFORMS),
        topics.inbox_spikes,
        topics.content_approved,
        topics.complaints_items,
        topics.complaints_changes,
        topics.credentials,  # followed into this host's vault (``credentials``)
        topics.content_control,  # accounts moved in from a clear file are announced reconnected
    }
    return [spec for spec in topics.specs() if spec.name in names]


class LiveTokens(Mapping[str, str]):
    """Each channel's secret name → its token as the store holds it now, read at each use: the
    publishers refresh and reconnect accounts on the credentials topic, which this host's vault
    follows (``credentials``), and the polls must follow (a token read once at start is refused
    within hours on X, YouTube and TikTok)."""

    def __init__(self, channels: ChannelDirectory, secrets: SecretStore) -> None:
        self._names = sorted({c.secret for c in channels.channels if c.secret})
        self._secrets = secrets

    def __getitem__(self, name: str) -> str:
        try:
            return self._secrets.get(name).token
        except SecretsError:
            raise KeyError(name) from None  # its reads answer 401, and its status says so

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass
class Inbox:
    """One running inbox: what tests and ``run`` drive."""

    keeper: InboxKeeper
    collector: Collector
    schedule: PollSchedule
    app: web.Application
    outcomes_caught_up: asyncio.Event
    complaints: ComplaintDesk
    # The running loops: cancelling them all is what a killed process leaves (nothing committed
    # after that point); the crash tests do so.
    loops: list[asyncio.Task[object]]


@contextlib.asynccontextmanager
async def running_inbox(
    settings: InboxSettings,
    stop: asyncio.Event,
    *,
    keys: KeyStore | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[Inbox]:
    topics = settings.topics
    await ensure_topics(settings.kafka, inbox_topics(topics))
    channels = settings.load_channels()
    keys = keys or KeyStore.load(settings.keys_file, settings.api_key_pepper())
    vault, tokens, imported = _credentials(settings, channels)
    producer = make_producer(settings.kafka, "warta-inbox", request_timeout_s=settings.ack_deadline_s)
    await producer.start()
    await send_reconnected(producer, topics, imported, channels.channels, clock())
    dead = DeadLetters(
        topics.publish_dead, "inbox", producer=producer, clock=clock, owns=topics.owned_by("inbox")
    )
    try:
        book = await _rebuilt_book(settings, dead)
        templates = await _restored_templates(settings, producer, dead, clock)
        hours = load_working_hours(
            settings.calendar_path, settings.working_hours_start, settings.working_hours_end
        )
        keeper = _keeper(settings, producer, book, dead, clock, channels, hours)
        async with (
            following_credentials(settings, vault, producer, imported),
            aiohttp.ClientSession() as session,
        ):
            await keeper.request_pending()
            collector = _collector(
                settings, producer, channels, CommentReader(session, tokens, clock=clock), book
            )
            desk = await _restored_desk(settings, producer, channels, session, dead, clock, hours)
            deps = Deps(settings, keys, channels, keeper, collector, clock, ContentTags(), hours)
            _watch(keeper, collector, deps, desk, channels, clock)
            caught_up = asyncio.Event()
            tasks = _start_loops(settings, collector, keeper, dead, stop, caught_up, clock)
            tasks += _side_loops(
                settings, deps, desk, dead, stop, CommentReader(session, tokens, clock=clock)
            )
            app = inbox_app(deps, templates, desk)
            try:
                yield Inbox(keeper, collector, collector.schedule, app, caught_up, desk, tasks)
            finally:
                # The loops end before the HTTP session they poll with is closed.
                stop.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
    finally:  # the loops, if started, have ended inside the session's block
        stop.set()
        await dead.close()
        await producer.stop()


def inbox_app(deps: Deps, templates: TemplateStore, desk: ComplaintDesk) -> web.Application:
    """Every route the inbox serves (``services.inbox.openapi`` documents exactly these)."""
    app = create_app(deps, [add_template_routes(templates), add_answering_routes])
    add_complaint_routes(app, desk)
    return app


def _collector(
    settings: InboxSettings,
    producer: AIOKafkaProducer,
    channels: ChannelDirectory,
    reader: CommentReader,
    book: InboxBook,
) -> Collector:
    schedule = PollSchedule(
        interval=timedelta(seconds=settings.poll_interval_s), watch_for=timedelta(days=settings.watch_days)
    )
    return Collector(
        producer=producer,
        topics=settings.topics,
        channels=channels,
        reader=reader,
        schedule=schedule,
        known=book.__contains__,
        ack_deadline_s=settings.ack_deadline_s,
    )


def _keeper(
    settings: InboxSettings,
    producer: AIOKafkaProducer,
    book: InboxBook,
    dead: DeadLetters,
    clock: Callable[[], datetime],
    channels: ChannelDirectory,
    hours: WorkingHours,
) -> InboxKeeper:
    metrics = InboxMetrics(
        in_working_hours=lambda e: written_in_working_hours(channels.get(e.channel), hours, e),
        letters=[dead],
    )
    return InboxKeeper(
        producer=producer,
        topics=settings.topics,
        book=book,
        dead_letters=dead,
        clock=clock,
        own_names={c.id: own_names(c) for c in channels.channels},
        spikes=SpikeWatch(SpikeRule(min_count=settings.spike_min_count, alpha=settings.spike_alpha)),
        metrics=metrics,
        ack_deadline_s=settings.ack_deadline_s,
    )


def _watch(
    keeper: InboxKeeper,
    collector: Collector,
    deps: Deps,
    desk: ComplaintDesk,
    channels: ChannelDirectory,
    clock: Callable[[], datetime],
) -> None:
    """The inbox's gauges, read at each scrape from the book, the spikes and the complaints."""
    keeper.metrics.watch(keeper.book, collector, deps.answer_target, clock, deps.wait_of)
    # The counts restart from the comments the inbox holds; a spike in course is not announced again.
    keeper.spikes.warm(counted(keeper.book.select()), clock())
    keeper.metrics.watch_spikes(keeper.spikes, list(channels.ids), clock)
    keeper.metrics.registry.register(ComplaintFigures(lambda: desk.records.values(), clock))


def _side_loops(
    settings: InboxSettings,
    deps: Deps,
    desk: ComplaintDesk,
    dead: DeadLetters,
    stop: asyncio.Event,
    reader: CommentReader,
) -> list[asyncio.Task[object]]:
    """Following the items' tags, retrying the complaints LAPOR! did not take, and reading the
    Telegram channels' discussion groups (their bots' updates), if any."""
    loops = [_complaint_retry_loop(desk, settings.lapor_retry_s, stop)]
    telegram = telegram_reading(
        deps.channels,
        deps.collector,
        reader,
        settings.poll_interval_s,
        stop,
        deps.clock,
        deps.keeper.book.post_of,
    )
    if telegram is not None:
        loops.append(telegram)
    tasks: list[asyncio.Task[object]] = [asyncio.create_task(loop) for loop in loops]
    for task in tasks:
        task.add_done_callback(lambda t: _stop_on_failure(t, stop))
    return [_follow_tags(settings, deps.content_tags, dead, stop), *tasks]


def _credentials(
    settings: InboxSettings, channels: ChannelDirectory
) -> tuple[CredentialVault | None, LiveTokens, list[str]]:
    """This host's vault (None: the clear secrets file), each channel's token read from the store
    at each use, and the accounts a clear secrets file moved into the vault at this start
    (announced as reconnected)."""
    imported: list[str] = []
    vault = open_vault(settings, imported)
    return vault, LiveTokens(channels, secret_store(settings, vault)), imported


async def _restored_templates(
    settings: InboxSettings, producer: AIOKafkaProducer, dead: DeadLetters, clock: Callable[[], datetime]
) -> TemplateStore:
    templates = TemplateStore(
        producer=producer,
        topic=settings.topics.inbox_templates,
        clock=clock,
        ack_deadline_s=settings.ack_deadline_s,
    )
    await templates.rebuild(settings.kafka, dead)
    return templates


async def _restored_desk(
    settings: InboxSettings,
    producer: AIOKafkaProducer,
    channels: ChannelDirectory,
    session: aiohttp.ClientSession,
    dead: DeadLetters,
    clock: Callable[[], datetime],
    hours: WorkingHours,
) -> ComplaintDesk:
    """The complaint records as ``complaints.items`` holds them, counted in the office's hours."""

    def zone_of(channel_id: str) -> tzinfo:
        channel = channels.get(channel_id)
        return channel.zone if channel is not None else ZoneInfo(DEFAULT_ZONE)

    desk = ComplaintDesk(
        producer=producer,
        topics=settings.topics,
        port=lapor_port(session, settings.lapor_base_url, settings.lapor_token.get_secret_value()),
        hours=hours,
        zone_of=zone_of,
        clock=clock,
        ack_deadline_s=settings.ack_deadline_s,
    )
    await read_to_end(settings.kafka, settings.topics.complaints_items, desk.apply, dead)
    return desk


async def _rebuilt_book(settings: InboxSettings, dead: DeadLetters) -> InboxBook:
    """The inbox as ``inbox.items`` holds it: read to its end before anything answers."""
    book = InboxBook()

    def rebuild(event: Event) -> None:
        if isinstance(event, InboxChanged):
            book.apply(event)

    restored = await read_to_end(settings.kafka, settings.topics.inbox_items, rebuild, dead)
    log.info("inbox rebuilt: %d entries from %d records", len(book), restored)
    return book


def _start_loops(
    settings: InboxSettings,
    collector: Collector,
    keeper: InboxKeeper,
    dead: DeadLetters,
    stop: asyncio.Event,
    caught_up: asyncio.Event,
    clock: Callable[[], datetime],
) -> list[asyncio.Task[object]]:
    """The outcomes follower, the poller and the keeper; any that fails stops them all."""

    def watch(event: Event) -> None:
        if isinstance(event, PublishOutcome):
            collector.watch(event, clock())

    kafka, topics = settings.kafka, settings.topics
    tasks: list[asyncio.Task[object]] = [
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
    return tasks


def _follow_tags(
    settings: InboxSettings, tags: ContentTags, dead: DeadLetters, stop: asyncio.Event
) -> asyncio.Task[object]:
    """Each item's tags from ``content.approved``, for the volume per tag."""
    task: asyncio.Task[object] = asyncio.create_task(
        follow(settings.kafka, settings.topics.content_approved, tags.learn, dead, stop=stop)
    )
    task.add_done_callback(lambda t: _stop_on_failure(t, stop))
    return task


def _stop_on_failure(task: asyncio.Task[object], stop: asyncio.Event) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("an inbox loop failed; stopping", exc_info=task.exception())
        stop.set()


async def _complaint_retry_loop(desk: ComplaintDesk, every_s: float, stop: asyncio.Event) -> None:
    """Forwards LAPOR! failed by an outage, tried again ``every_s`` after their last attempt."""
    pause = timedelta(seconds=every_s)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(every_s, 30.0))
        if not stop.is_set():
            await desk.retry_forwards(pause)


async def _poll_loop(
    collector: Collector, tick_s: float, stop: asyncio.Event, clock: Callable[[], datetime]
) -> None:
    """Each tick starts a pass for every channel with posts due and none running; the loop never
    waits for a pass, so a slow platform holds up its own channel only."""
    try:
        while not stop.is_set():
            collector.start_due(clock)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_s)
            collector.raise_failure()
    finally:
        await collector.stop_polling()


async def run(settings: InboxSettings, stop: asyncio.Event) -> None:
    async with running_inbox(settings, stop) as inbox:
        # The structured access log, as ingest's and the console's: never the query string, where
        # Meta's verify token travels on /webhooks/meta.
        runner = app_runner(inbox.app, settings.access_log)
        await runner.setup()
        site = web.TCPSite(runner, settings.inbox_host, settings.inbox_port)
        await site.start()
        log.info("inbox serving on %s:%d", settings.inbox_host, settings.inbox_port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

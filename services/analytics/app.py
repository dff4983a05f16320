"""The analytics worker: one fold takes the three source topics into one changelog-backed faust
table, and faust's web server answers the press office's reads (``http_api``).

The fold reads ``content.approved``, ``publish.outcomes`` and ``engagement.observed`` together
(and ``model.expectations``, the scheduler's published expectation per channel), in batches
handed on by faust's consumer as fetched (``fold_consumer``, off faust's per-record path): each
source partition's part of a batch is folded in the order read
and written once per key, journal first (``batch``), into the changelog partition of that
source partition, so a crash loses the end of one batch at most and ``ledger``'s guards make a
replay count every event once. The table is faust's, in memory (``analytics_store``), rebuilt
from its changelog topic at every start; the offsets faust commits (after the changelog writes
are acknowledged) say where reading resumes. Analytics is derived data: deleting the changelog and
the group's offsets rebuilds it all from the topics.

A record that cannot be decoded or handled is dead-lettered (``shared.dead_letters``) and the
rest of its batch is folded; so is one that would make a table entry too large for a changelog
record (``batch.ENTRY_LIMIT_BYTES``; an item takes in ``ledger.MAX_JOBS_PER_ITEM`` jobs), for a
write that can never land would stop the fold at every restart. Only an unreachable broker (or a
changelog topic set to refuse records within that bound) stops the worker, for its supervisor to
restart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, MutableMapping
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import aiohttp
import faust
from aiokafka import ConsumerRecord
from prometheus_client import Counter

from services.analytics import http_api
from services.analytics.batch import Outcome, fold, redo
from services.analytics.changelog import ChangelogWrites, changelog_producer, send_all
from services.analytics.delivery import WeeklyDelivery
from services.analytics.delivery_wiring import caught_up_credentials, delivery_plan
from services.analytics.faust_monitor import NoRecordStatsMonitor
from services.analytics.fold_consumer import FoldBatch, FoldRoute, route_records
from services.analytics.ledger import Position, Zones, apply
from services.analytics.settings import AnalyticsSettings
from shared.channels import ChannelDirectory
from shared.codec import decode
from shared.dead_letters import DeadLetters
from shared.kafka import KafkaUnavailable, LazyProducer, ensure_topics, make_producer, missing_topics
from shared.metrics import LetterCounts, service_registry
from shared.topics import TopicRegistry
from shared.watchdog import exit_for_restart

log = logging.getLogger("warta.analytics")

TABLE = "figures"


class AnalyticsMisconfigured(ValueError):
    """Settings this worker cannot run with (a Kafka security protocol it does not wire yet,
    faust's wait for the records taken in before a commit turned off)."""


class AnalyticsMetrics:
    def __init__(self) -> None:
        # Its own registry, with the process, Python and build series every Warta process exports.
        self.registry = service_registry("analytics")
        self.events = Counter(
            "warta_analytics_events_total",
            "Source records read by the analytics worker, by topic role and result",
            ["source", "result"],
            registry=self.registry,
        )
        self.letters: list[DeadLetters] = []  # the fold's and the delivery's
        self.registry.register(LetterCounts(lambda: self.letters))


def zones_for(channels: ChannelDirectory, report_timezone: str) -> Zones:
    report = ZoneInfo(report_timezone)
    by_channel = {c.id: c.zone for c in channels.channels}
    # A channel no longer configured still has history: its posts already counted keep the zone
    # kept on them (``figures.pinned``); one first met after its removal counts in the report's.
    return Zones(zone_of=lambda channel: by_channel.get(channel, report), report=report)


def create_app(
    settings: AnalyticsSettings,
    channels: ChannelDirectory,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> faust.App:
    app = _faust_app(settings)
    table, metrics = _add_fold(app, settings, channels, clock)
    http_api.register(app, table, metrics.registry, ZoneInfo(settings.report_timezone), clock)
    _add_delivery(app, settings, table, clock, metrics.letters)
    return app


def _add_delivery(
    app: faust.App,
    settings: AnalyticsSettings,
    table: Any,
    clock: Callable[[], datetime],
    letters: list[DeadLetters],
) -> None:
    """The Monday delivery of last week's report, when a method is configured (``delivery``); its
    dead letters join ``letters`` (the metrics')."""
    plan = delivery_plan(settings)
    if plan.webhook is None and plan.mail is None:
        return
    held: dict[str, Any] = {}

    @app.service
    class DeliveryClients(faust.Service):
        async def on_start(self) -> None:
            held["producer"] = producer = make_producer(settings.kafka, "warta-analytics-delivery")
            await producer.start()
            held["session"] = session = aiohttp.ClientSession()
            topic = settings.topics.analytics_deliveries
            # Its own consumer name: a letter says which reader refused the record.
            dead = DeadLetters(
                settings.topics.publish_dead,
                "analytics-delivery",
                producer=producer,
                clock=clock,
                owns=settings.topics.owned_by("analytics"),
            )
            letters.append(dead)
            held["delivery"] = WeeklyDelivery(
                plan, settings.kafka, topic, producer, session, table.items, dead_letters=dead
            )

        async def on_stop(self) -> None:
            if "session" in held:
                await held["session"].close()
            if "producer" in held:
                await held["producer"].stop()

    # faust's timer decorator is not annotated; the function it wraps is.
    @app.timer(settings.report_delivery_check_s)  # type: ignore[untyped-decorator]
    async def deliver_weekly() -> None:
        # Only from a whole table: a report of a half-restored one would be sent as final.
        restored = cast(Any, app.tables).recovery.completed.is_set() and not app.rebalancing
        if "delivery" not in held or not restored:
            return
        try:
            await held["delivery"].run_once(clock())
        except KafkaUnavailable as exc:
            log.warning("weekly delivery not recorded, tried again at the next check: %s", exc)


def _faust_app(settings: AnalyticsSettings) -> faust.App:
    """The faust app: its broker, its table store and state directory, its web server."""
    if settings.kafka_security_protocol != "PLAINTEXT":
        raise AnalyticsMisconfigured(
            "the analytics worker reaches Kafka over PLAINTEXT only so far;"
            f" WARTA_KAFKA_SECURITY_PROTOCOL is {settings.kafka_security_protocol}"
        )
    datadir = settings.state_dir / "analytics"
    datadir.mkdir(parents=True, exist_ok=True)  # faust opens it at start and does not create its parents
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{host.strip()}" for host in settings.kafka_bootstrap.split(",")],
        store=settings.analytics_store,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.kafka_replication_factor,
        producer_acks=-1,
        producer_linger=settings.analytics_producer_linger_s,
        broker_session_timeout=settings.analytics_session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.analytics_session_timeout_s / 3),
        table_standby_replicas=settings.analytics_standby_replicas,
        consumer_auto_offset_reset="earliest",  # a new group rebuilds the figures from the start
        web_enabled=True,
        web_host=settings.analytics_host,
        web_bind=settings.analytics_host,
        web_port=settings.analytics_port,
        web_in_thread=False,
        # faust's own pages would dump the whole table (/table/) and the partition map (/router/)
        # beside the API: only the routes http_api documents are served.
        web_tables_enabled=False,
        web_router_enabled=False,
        # faust's per-record statistics feed only its own pages, which the worker does not serve.
        Monitor=NoRecordStatsMonitor,
        autodiscover=False,
        datadir=str(datadir),
        key_serializer="json",  # the table's keys and values; the source topics read raw bytes
        value_serializer="json",
        # faust waits for the records taken in before it commits on a revocation or a stop:
        # where the fold's consumer waits for its batch in flight to land (``fold_consumer``).
        stream_wait_empty=True,
    )
    if not app.conf.stream_wait_empty:  # faust's STREAM_WAIT_EMPTY wins over the argument
        raise AnalyticsMisconfigured("the analytics worker needs STREAM_WAIT_EMPTY left on")
    return app


def _add_fold(
    app: faust.App,
    settings: AnalyticsSettings,
    channels: ChannelDirectory,
    clock: Callable[[], datetime],
) -> tuple[Any, AnalyticsMetrics]:
    """The fold of the source topics into the table; the table and its metrics."""
    topics = settings.topics
    sources = _sources(topics)
    # Never decoded by faust: the consumer hands its records to ``fold`` as read (bytes).
    source_topic = app.topic(*sources)
    table = app.Table(TABLE, default=None, partitions=settings.partitions)
    zones = zones_for(channels, settings.report_timezone)
    metrics = AnalyticsMetrics()
    dead_letters = DeadLetters(topics.publish_dead, "analytics", bootstrap=settings.kafka, clock=clock)
    metrics.letters.append(dead_letters)

    changelog = changelog_producer(settings.kafka)
    caught_up = CaughtUpCommit(app, quiet_s=settings.analytics_caught_up_quiet_s)

    async def fold_whole(batch: FoldBatch) -> None:
        await _whole(fold_batch(batch))
        caught_up.batch_folded(full=sum(map(len, batch.values())) >= settings.analytics_batch_max)

    async def fold_batch(batch: FoldBatch) -> None:
        sends = []
        results: dict[tuple[str, str], int] = {}
        for partition, records in _by_partition(batch).items():
            writes = ChangelogWrites(table, partition)
            # Read from the table's store: faust's Table would call its sensors on every read.
            redo(table.data, partition, writes.write)
            outcomes = fold(table.data, records, take_in, partition, uuid.uuid4().hex, writes.write)
            for record, outcome in zip(records, outcomes, strict=True):
                source = sources[record.topic]
                if isinstance(outcome, Exception):
                    await dead_letters.absorb(record, outcome)
                result = _result(outcome)
                results[source, result] = results.get((source, result), 0) + 1
            sends.append(writes)
        # Before the consumer acks (and faust may commit) these records: see ``changelog``.
        await send_all(changelog, table.changelog_topic.get_topic_name(), sends)
        # Counted once taken in for good (the bench waits for this count).
        for (source, result), count in results.items():
            metrics.events.labels(source, result).inc(count)

    def take_in(record: ConsumerRecord[bytes, bytes], store: MutableMapping[str, Any]) -> bool:
        """The record decoded and applied to ``store``; raises what makes it a dead letter."""
        at = Position(sources[record.topic], record.partition, record.offset)
        return apply(store, decode(record.value), at, zones)

    app.topics.add(source_topic)  # subscribed, assigned and acked by faust; read by ``fold_whole``
    route_records(app, FoldRoute(frozenset(sources), fold_whole, settings.analytics_batch_max))
    _close_on_stop(app, dead_letters, changelog)
    return table, metrics


class CaughtUpCommit:
    """Commit once the fold has gone quiet, not at faust's next interval.

    faust commits acked offsets every ``broker_commit_interval`` (2.8 s): after a burst the
    fold is done seconds before its group shows it (the lag operators watch, and what a restart
    reads again). A batch shorter than the maximum ends a fetch; when no batch at all has come
    for ``quiet_s`` after it, the fold has caught up and one commit takes the whole tail (a
    burst's next fetch comes within milliseconds). Batches closer
    together than that (a burst, a steady flow) keep postponing it and are left to faust's
    interval; a sparse trickle commits once after each of its batches, one small request. Only
    acked offsets are committed, and the consumer acks a batch as soon as its fold returns,
    before it fetches again, long before ``quiet_s``; a commit that still came before those acks
    commits less, never more.
    """

    def __init__(self, app: faust.App, quiet_s: float) -> None:
        self._app = app
        self._quiet_s = quiet_s
        self._timer: asyncio.TimerHandle | None = None
        self._commit: asyncio.Task[None] | None = None  # held: the loop keeps only weak references

    def batch_folded(self, *, full: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not full:
            self._timer = asyncio.get_running_loop().call_later(self._quiet_s, self._start_commit)

    def _start_commit(self) -> None:
        self._timer = None
        self._commit = asyncio.ensure_future(self._committed())

    async def _committed(self) -> None:
        try:
            await self._app.consumer.commit()
        except Exception as exc:  # the interval's commit comes anyway; this one only came early
            log.warning("an early commit after the fold went quiet failed: %r", exc)


def _sources(topics: TopicRegistry) -> dict[str, str]:
    """The topics the fold reads, each by the name its records are counted under."""
    return {
        topics.content_approved: "approved",
        topics.publish_outcomes: "outcomes",
        topics.engagement_observed: "engagement",
        topics.model_expectations: "expectation",
    }


def _result(outcome: Outcome) -> str:
    """What taking a record in did, as ``warta_analytics_events_total`` counts it."""
    if isinstance(outcome, Exception):
        return "dead_lettered"
    return "changed" if outcome else "unchanged"


def _by_partition(batch: FoldBatch) -> dict[int, list[ConsumerRecord[bytes, bytes]]]:
    """A batch's records by source partition number, whichever source topic they came from,
    each topic's in the order read: one changelog partition per number, written once per key
    and batch (an outcome and its engagement readings touch the same post's entries)."""
    groups: dict[int, list[ConsumerRecord[bytes, bytes]]] = {}
    for tp, records in batch.items():
        groups.setdefault(tp.partition, []).extend(records)
    return groups


def _close_on_stop(app: faust.App, dead_letters: DeadLetters, changelog: LazyProducer) -> None:
    @app.service
    class CloseClients(faust.Service):
        async def on_stop(self) -> None:
            await dead_letters.close()
            await changelog.stop()


async def _whole(batch: Coroutine[Any, Any, None]) -> None:
    """Fold a batch to its end, its changelog writes landed. A batch that cannot land (the
    changelog or the dead letters refuse a write, a stored entry the fold cannot read) ends the process at once, as kill -9 would: the consumer acks nothing of a batch whose fold raised,
    but a worker going on would fold the next batches over a table whose changelog lacks this
    one's writes, and commit past it. The restart reads the batch again (``batch``, ``ledger``).
    No record of the batch can cause this: what a record makes ``ledger.apply`` raise is
    dead-lettered, and no write is larger than ``batch.ENTRY_LIMIT_BYTES`` (``changelog.ChangelogTooSmall`` if the topic
    refuses one anyway). The consumer shields the batch from a stop (``fold_consumer``)."""
    try:
        await batch
    except Exception as exc:
        exit_for_restart(
            log,
            "a fold batch did not land (%r): exiting before faust commits past it, for the supervisor"
            " to restart",
            exc,
            exc=exc,
        )


async def prepare_topics(settings: AnalyticsSettings, patience: float = 120.0) -> None:
    """Create the topics the worker reads and writes, and wait until the broker lists them.

    faust subscribes once, and drops a source topic missing from the metadata it reads then
    ("Ignoring missing topic"): a worker started beside a fresh broker would never read it.
    """
    topics = settings.topics
    names = {
        topics.content_approved,
        topics.publish_outcomes,
        topics.engagement_observed,
        topics.model_expectations,
        topics.analytics_deliveries,
        topics.publish_dead,
    }
    await ensure_topics(settings.kafka, [s for s in topics.specs() if s.name in names])
    deadline = asyncio.get_running_loop().time() + patience
    while missing := await missing_topics(settings.kafka, names):
        if asyncio.get_running_loop().time() > deadline:
            raise KafkaUnavailable(f"the broker does not list {', '.join(sorted(missing))}")
        await asyncio.sleep(0.5)


def run(settings: AnalyticsSettings) -> None:
    """Run the worker until SIGINT/SIGTERM (faust's worker owns the loop and the signals)."""
    asyncio.run(prepare_topics(settings))
    asyncio.run(caught_up_credentials(settings))
    app = create_app(settings, settings.load_channels())
    # Logging stays as ``warta.cli`` set it up (JSON, redacted): faust's own set-up would replace
    # it, and with its console spinner it sets the root logger to DEBUG, so that every debug
    # call in faust and aiokafka (one per changelog write) built a record.
    worker = faust.Worker(
        app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False, override_logging=False
    )
    worker.execute_from_commandline()

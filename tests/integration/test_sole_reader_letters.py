"""Undecodable records on a topic whose only reader is the service that writes it, on the real
broker: that reader dead-letters each (no one else ever would), counts it, applies the records
after it, and does not letter it again when it replays the topic at its next start. On a topic a
consumer group reads, the record is left to that group's letter: skipped and counted.

The inbox's books (``services.inbox.follow``), ingest's feeders (``services.ingest.feeder``),
the publisher's attempt ledger and analytics' record of delivered reports.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.analytics.app import AnalyticsMetrics
from services.analytics.delivery import DeliveryPlan, Webhook, WeeklyDelivery
from services.inbox.follow import read_to_end
from services.inbox.metrics import InboxMetrics
from services.ingest.feeder import Feeder
from services.ingest.metrics import IngestMetrics
from services.ingest.status_view import StatusView
from services.publisher.attempt_ledger import AttemptLedger
from shared.dead_letters import DeadLetters
from shared.events import DeadLettered, Event
from shared.kafka import partitions_of, send_event
from shared.metrics import PublisherMetrics
from shared.report_events import ReportDelivered
from shared.topics import TopicRegistry
from tests.integration.inbox_poll_kit import outcome
from tests.integration.poison_kit import approved, letters, on_broker

pytestmark = pytest.mark.integration

CH = "mastodon-demo"
BAD = b"\xff not json"


async def _bad_then_good(producer: AIOKafkaProducer, topic: str, content_id: str) -> None:
    """An unreadable record, then a good one after it, on one partition."""
    await producer.send_and_wait(topic, BAD, key=b"k", partition=0)
    await send_event(producer, topic, content_id, approved(content_id, CH), partition=0)


async def _records_on(bootstrap: str, topic: str) -> int:
    """How many records ``topic`` holds (its partitions' end offsets: letters are never deleted)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(await partitions_of(consumer, [topic]))
        return sum(ends.values())
    finally:
        await consumer.stop()


def _counts(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    """``warta_poison_*`` samples by (name, topic)."""
    text = generate_latest(registry).decode()
    return {
        (s.name, s.labels["topic"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in {"warta_poison_messages_total", "warta_poison_skipped_total"}
    }


def _by_source(found: list[DeadLettered]) -> dict[str, DeadLettered]:
    return {letter.source_topic: letter for letter in found}


async def test_the_inbox_letters_what_it_cannot_read_on_its_own_topics_once(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    owned = [topics.inbox_items, topics.complaints_items, topics.inbox_templates]
    assert set(owned) == topics.owned_by("inbox")
    shared = topics.content_approved  # the scheduler's group letters its bad records
    async with on_broker(kafka_bootstrap, topics, [*owned, shared, topics.publish_dead]) as producer:
        for n, topic in enumerate([*owned, shared]):
            await _bad_then_good(producer, topic, f"c{n}")

        async def start(dead: DeadLetters) -> list[list[Event]]:
            """The inbox's reads at its start: each topic whole."""
            seen: list[list[Event]] = []
            for topic in [*owned, shared]:
                applied: list[Event] = []
                assert await read_to_end(kafka_bootstrap, topic, applied.append, dead) == 1
                seen.append(applied)
            return seen

        dead = DeadLetters(topics.publish_dead, "inbox", producer=producer, owns=topics.owned_by("inbox"))
        seen = await start(dead)
        assert [[getattr(e, "content_id", None) for e in applied] for applied in seen] == [
            ["c0"],
            ["c1"],
            ["c2"],
            ["c3"],
        ]
        found = _by_source(await letters(kafka_bootstrap, topics, count=3))
        assert set(found) == set(owned)
        for topic in owned:
            letter = found[topic]
            assert (letter.consumer, letter.source_partition, letter.source_offset) == ("inbox", 0, 0)
            assert letter.error_type == "MalformedMessage"
        counts = _counts(InboxMetrics(CollectorRegistry(), letters=[dead]).registry)
        assert counts == {
            **{("warta_poison_messages_total", t): 1.0 for t in owned},
            ("warta_poison_skipped_total", shared): 1.0,
        }

        # The next start replays the same records: applied again, lettered no more.
        again = DeadLetters(topics.publish_dead, "inbox", producer=producer, owns=topics.owned_by("inbox"))
        assert await start(again) == seen
        assert again.sent == 0
        assert await _records_on(kafka_bootstrap, topics.publish_dead) == 3
        assert _counts(InboxMetrics(CollectorRegistry(), letters=[again]).registry) == {
            ("warta_poison_skipped_total", t): 1.0 for t in [*owned, shared]
        }


async def _run_feeder(bootstrap: str, topics: TopicRegistry, view: StatusView, read: list[str]) -> Feeder:
    """Ingest's feeder over ``read`` from the start, stopped once it caught up."""
    feeder = Feeder(
        bootstrap,
        read,
        view,
        dead_topic=topics.publish_dead,
        name="decisions",
        owns=topics.owned_by("ingest"),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(feeder.run(stop))
    try:
        await asyncio.wait_for(feeder.caught_up.wait(), 60)
    finally:
        stop.set()
        await task
    return feeder


async def test_ingest_letters_what_it_cannot_read_on_its_own_topics_once(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    owned = [topics.content_drafts, topics.ingest_idempotency]
    assert set(owned) == topics.owned_by("ingest")
    shared = topics.content_approved
    read = [*owned, shared]
    async with on_broker(kafka_bootstrap, topics, [*read, topics.publish_dead]) as producer:
        for n, topic in enumerate(read):
            await _bad_then_good(producer, topic, f"c{n}")

        view = StatusView()
        feeder = await _run_feeder(kafka_bootstrap, topics, view, read)
        assert feeder.applied == 3
        assert all(view.find(f"c{n}") is not None for n in range(3))
        found = _by_source(await letters(kafka_bootstrap, topics, count=2))
        assert set(found) == set(owned)
        for topic in owned:
            letter = found[topic]
            assert (letter.consumer, letter.source_partition, letter.source_offset) == ("ingest-feeder", 0, 0)
        assert _counts(IngestMetrics(view, [feeder.dead_letters]).registry) == {
            **{("warta_poison_messages_total", t): 1.0 for t in owned},
            ("warta_poison_skipped_total", shared): 1.0,
        }

        # A restart replays them: the view is whole again, and no letter is written twice.
        view = StatusView()
        again = await _run_feeder(kafka_bootstrap, topics, view, read)
        assert again.applied == 3
        assert again.dead_letters.sent == 0
        assert await _records_on(kafka_bootstrap, topics.publish_dead) == 2
        assert _counts(IngestMetrics(view, [again.dead_letters]).registry) == {
            ("warta_poison_skipped_total", t): 1.0 for t in read
        }


async def test_the_publisher_letters_an_unreadable_ledger_record_once(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    ledger_topic = topics.publish_attempts("mastodon")
    assert ledger_topic in topics.owned_by("publisher")
    now = datetime.now(UTC)
    entry = outcome(CH, "2")  # a ledger's final entry: the job's outcome
    async with on_broker(kafka_bootstrap, topics, [ledger_topic, topics.publish_dead]) as producer:
        await producer.send_and_wait(ledger_topic, BAD, key=b"j1", partition=0)
        await send_event(producer, ledger_topic, entry.job_id, entry, partition=0)

        async def restore() -> tuple[AttemptLedger, DeadLetters]:
            """A worker's restore of partition 0, as after its assignment."""
            owns = topics.owned_by("publisher")
            dead = DeadLetters(topics.publish_dead, "publisher-mastodon", producer=producer, owns=owns)
            ledger = AttemptLedger(
                bootstrap=kafka_bootstrap,
                topics=topics,
                platform="mastodon",
                producer=producer,
                transactions=producer,  # restore writes nothing
                group="g",
                writer_id="w",
                stable_writer=False,
                settled=dict,
                lease=timedelta(minutes=5),
                clock=lambda: now,
                dead_letters=dead,
            )
            await ledger.restore({0})
            return ledger, dead

        ledger, dead = await restore()
        assert ledger.get(entry.job_id) == entry
        (letter,) = await letters(kafka_bootstrap, topics)
        assert (letter.consumer, letter.source_topic, letter.source_offset) == (
            "publisher-mastodon",
            ledger_topic,
            0,
        )
        metrics = PublisherMetrics("mastodon", CollectorRegistry())
        metrics.letters.append(dead)
        assert _counts(metrics.registry) == {("warta_poison_messages_total", ledger_topic): 1.0}

        ledger, again = await restore()  # the partition comes back after a rebalance
        assert ledger.get(entry.job_id) == entry
        assert again.sent == 0
        assert await _records_on(kafka_bootstrap, topics.publish_dead) == 1
        assert again.skipped == {ledger_topic: 1}


async def test_analytics_letters_an_unreadable_delivery_record_once(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    topic = topics.analytics_deliveries
    assert topics.owned_by("analytics") == {topic}
    now = datetime(2026, 12, 8, 1, tzinfo=UTC)  # week 2026-W49 is over
    delivered = ReportDelivered(event_id="r-49", occurred_at=now, method="webhook", week="2026-W49")
    plan = DeliveryPlan(ZoneInfo("Asia/Jakarta"), 7, "id", Webhook("http://127.0.0.1:9/", "s"), None)
    async with (
        on_broker(kafka_bootstrap, topics, [topic, topics.publish_dead]) as producer,
        aiohttp.ClientSession() as session,
    ):
        await producer.send_and_wait(topic, BAD, key=b"webhook", partition=0)
        await send_event(producer, topic, "webhook", delivered, partition=0)

        async def load() -> tuple[dict[str, str], DeadLetters]:
            owns = topics.owned_by("analytics")
            dead = DeadLetters(topics.publish_dead, "analytics", producer=producer, owns=owns)
            delivery = WeeklyDelivery(
                plan, kafka_bootstrap, topic, producer, session, list, dead_letters=dead
            )
            return await delivery.load(now), dead

        weeks, dead = await load()
        assert weeks == {"webhook": "2026-W49"}
        (letter,) = await letters(kafka_bootstrap, topics)
        assert (letter.consumer, letter.source_topic, letter.source_offset) == ("analytics", topic, 0)
        metrics = AnalyticsMetrics()
        metrics.letters.append(dead)
        assert _counts(metrics.registry) == {("warta_poison_messages_total", topic): 1.0}

        weeks, again = await load()  # the worker's next start
        assert weeks == {"webhook": "2026-W49"}
        assert again.sent == 0
        assert await _records_on(kafka_bootstrap, topics.publish_dead) == 1

"""Final attempt-ledger entries are tombstoned after their retention, on the real broker; a
restored ledger goes without them and keeps every entry that may still be acted on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from services.publisher.decide import Decision, RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.worker import PublisherWorker
from shared.channels import load_channels
from shared.credentials.secret_store import SecretStore
from shared.events import OutcomeStatus
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.ingest_app import CHANNELS_FILE
from tests.integration.test_plan_retention import _tombstones
from tests.integration.test_publisher_operator_retry import CHANNEL, NOW, Platform, due

pytestmark = pytest.mark.integration
KEEP = timedelta(days=15)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _worker(
    bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, clock: Clock
) -> PublisherWorker:
    return PublisherWorker(
        bootstrap=bootstrap,
        topics=topics,
        group=f"{topics.prefix}publisher",
        platform="mastodon",
        channels=load_channels(CHANNELS_FILE),
        adapter=Platform(),
        secrets=SecretStore({}),
        producer=producer,
        limits=RateLimits({}),
        retry=RetryPolicy(),
        clock=clock,
        ledger_retention=KEEP,
    )


@pytest.fixture
async def producer(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[AIOKafkaProducer]:
    names = {topics.publish_outcomes, topics.publish_attempts("mastodon"), topics.publish_dead}
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name in names])
    made = make_producer(kafka_bootstrap, "test-ledger-retention")
    await made.start()
    yield made
    await made.stop()


async def test_final_entries_are_tombstoned_after_the_retention_and_a_restore_forgets_them(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer
) -> None:
    clock = Clock()
    worker = _worker(kafka_bootstrap, topics, producer, clock)
    statuses = {
        "published": OutcomeStatus.PUBLISHED,
        "failed": OutcomeStatus.FAILED,
        "unconfirmed": OutcomeStatus.UNCONFIRMED,
        "retry": OutcomeStatus.RETRY,
    }
    await worker.ledger.start()
    try:
        for name, status in statuses.items():
            job = due(1).model_copy(update={"job_id": f"{name}:{CHANNEL}", "content_id": name})
            await worker._record(
                job, 0, Decision(status, retry_at=NOW if status is OutcomeStatus.RETRY else None)
            )
        clock.now = NOW + KEEP - timedelta(seconds=1)
        assert await worker.ledger.forget_final() == 0  # not yet
        clock.now = NOW + KEEP
        assert await worker.ledger.forget_final() == 2
        assert await worker.ledger.forget_final() == 0  # once
    finally:
        await worker.ledger.stop()
        await worker._consumer.stop()  # made in the constructor; this test drives the ledger alone

    assert await _tombstones(kafka_bootstrap, topics.publish_attempts("mastodon")) == [
        f"failed:{CHANNEL}",
        f"published:{CHANNEL}",
    ]
    restarted = _worker(kafka_bootstrap, topics, producer, clock)
    try:
        await restarted.restore({0})
    finally:
        await restarted.ledger.stop()  # its transactional producer, made in the constructor
        await restarted._consumer.stop()
    kept = {name for name in statuses if restarted.ledger.get(f"{name}:{CHANNEL}") is not None}
    assert kept == {"unconfirmed", "retry"}

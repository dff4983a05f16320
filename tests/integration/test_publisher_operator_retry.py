"""An operator's retry of an unconfirmed job is reconciled before anything is sent.

The publisher's attempt ledger holds the attempt as unconfirmed; the retry arrives as the next
attempt of the job (the scheduler re-emits it). Over the real broker, with a platform fake that
keeps state: found → published with the platform's id and no new post; surely absent → sent
once; still unknown → unconfirmed again, nothing sent. A platform whose lookups fail for now (down,
slow) has not said it cannot tell: the job is retried, and its next attempt looks again first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from services.publisher.adapters.port import (
    Absent,
    Adapter,
    Credentials,
    Engagement,
    Lookup,
    NotSupported,
    Published,
    PublishRequest,
    RateLimitInfo,
    Target,
    Temporary,
)
from services.publisher.decide import Decision, RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.reconciler import MAX_LOOKUPS
from services.publisher.worker import PublisherWorker, marker_for
from shared.channels import load_channels
from shared.codec import encode
from shared.credentials.secret_store import SecretStore
from shared.events import Content, JobDue, OutcomeStatus, PublishOutcome
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.ingest_app import CHANNELS_FILE, read_events

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
CHANNEL = "mastodon-demo"


@dataclass
class Platform(Adapter):
    """A platform that knows what it holds: ``posts`` by marker, or cannot be asked at all, or
    fails its next ``lookups_down`` lookups for now."""

    platform: str = "mastodon"
    posts: dict[str, Published] = field(default_factory=dict)
    can_look_up: bool = True
    lookups_down: int = 0
    sent: list[PublishRequest] = field(default_factory=list)

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        self.sent.append(request)
        post = Published(post_id=f"p{len(self.sent)}", url=None)
        self.posts[request.marker] = post
        return post

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        if not self.can_look_up:
            raise NotSupported("the platform keeps no searchable record of posts", code="no_lookup")
        if self.lookups_down > 0:
            self.lookups_down -= 1
            raise Temporary("503 Service Unavailable", code="http_503", http_status=503, retry_after=0.01)
        return self.posts.get(request.marker) or Absent("no post carries the marker", safe_while_live=True)

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        raise NotSupported("no counts")

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return None


def due(attempt: int) -> JobDue:
    return JobDue(
        event_id=f"due{attempt}",
        occurred_at=NOW,
        job_id=f"c1:{CHANNEL}",
        content_id="c1",
        channel=CHANNEL,
        platform="mastodon",
        attempt=attempt,
        slot=NOW,
        content=Content(text="Gubernur meresmikan jembatan baru."),
    )


def record(event: JobDue, topic: str) -> ConsumerRecord[bytes, bytes]:
    value = encode(event)
    return ConsumerRecord(
        topic, 0, event.attempt, 0, 0, event.job_id.encode(), value, None, 0, len(value), ()
    )


async def unconfirmed_then_retried(
    bootstrap: str,
    topics: TopicRegistry,
    producer: AIOKafkaProducer,
    platform: Platform,
    *,
    attempts: int = 2,
) -> list[PublishOutcome]:
    """Attempt 1 recorded unconfirmed, then attempts 2.. handled: their outcomes."""
    worker = PublisherWorker(
        bootstrap=bootstrap,
        topics=topics,
        group=f"{topics.prefix}publisher",
        platform="mastodon",
        channels=load_channels(CHANNELS_FILE),
        adapter=platform,
        secrets=SecretStore({CHANNEL: Credentials(token="t")}),
        producer=producer,
        limits=RateLimits({}),
        retry=RetryPolicy(),
        clock=lambda: NOW,
    )
    await worker.ledger.start()  # run() starts it; this test drives handle() alone
    try:
        # Attempt 1 ended unconfirmed (the ledger says so), then an operator retried: attempt 2.
        await worker._record(due(1), 0, Decision(OutcomeStatus.UNCONFIRMED))
        for attempt in range(2, attempts + 1):
            await worker.handle(record(due(attempt), topics.publish("mastodon")))
    finally:
        await worker.ledger.stop()
        await worker._consumer.stop()  # made in the constructor; this test drives handle() alone
    events = await read_events(bootstrap, topics.publish_outcomes)
    return [e for e in events if isinstance(e, PublishOutcome) and e.attempt >= 2]


@pytest.fixture
async def producer(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[AIOKafkaProducer]:
    names = {topics.publish_outcomes, topics.publish_attempts("mastodon"), topics.publish_dead}
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name in names])
    made = make_producer(kafka_bootstrap, "test-operator-retry")
    await made.start()
    yield made
    await made.stop()


async def test_found_on_the_platform_becomes_published_without_a_second_post(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer
) -> None:
    platform = Platform()
    platform.posts[marker_for(f"c1:{CHANNEL}")] = Published(
        post_id="109", url="https://mastodon.example/@warta/109"
    )
    outcomes = await unconfirmed_then_retried(kafka_bootstrap, topics, producer, platform)
    assert platform.sent == []
    assert [(o.status, o.post_id) for o in outcomes] == [(OutcomeStatus.PUBLISHED, "109")]


async def test_surely_absent_is_sent_once(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer
) -> None:
    platform = Platform()
    outcomes = await unconfirmed_then_retried(kafka_bootstrap, topics, producer, platform)
    assert len(platform.sent) == 1
    assert [o.status for o in outcomes] == [OutcomeStatus.ATTEMPTED, OutcomeStatus.PUBLISHED]


async def test_still_unknown_stays_unconfirmed_and_says_why(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer
) -> None:
    platform = Platform(can_look_up=False)
    outcomes = await unconfirmed_then_retried(kafka_bootstrap, topics, producer, platform)
    assert platform.sent == []
    assert [o.status for o in outcomes] == [OutcomeStatus.UNCONFIRMED]
    assert outcomes[0].error is not None
    assert "cannot tell" in outcomes[0].error.message


async def test_lookups_that_fail_for_now_retry_the_job_and_the_retry_looks_again_first(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer
) -> None:
    platform = Platform(lookups_down=MAX_LOOKUPS)
    platform.posts[marker_for(f"c1:{CHANNEL}")] = Published(
        post_id="109", url="https://mastodon.example/@warta/109"
    )
    outcomes = await unconfirmed_then_retried(kafka_bootstrap, topics, producer, platform, attempts=3)
    assert platform.sent == []
    assert [(o.attempt, o.status, o.reconcile_first) for o in outcomes] == [
        (2, OutcomeStatus.RETRY, True),
        (3, OutcomeStatus.PUBLISHED, False),
    ]
    assert outcomes[0].error is not None
    assert outcomes[0].error.code == "lookup_unanswered"
    assert outcomes[1].post_id == "109"

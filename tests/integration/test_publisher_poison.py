"""The publisher on the real broker: a due job whose handling raises is dead-lettered, never fatal.

The platform adapter has a bug for one job (it raises a plain ``RuntimeError``, not one of the
port's errors) after the attempt was recorded. The job goes to ``publish.dead`` with its error;
the next job is published; the worker still runs and its group's offset is past both. Replayed
after the fix, the letter's job is reconciled first (its attempt may have reached the platform)
and published once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from services.console.replay import Reappend, reappend
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
)
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.worker import PublisherWorker
from shared.channels import Channel, ChannelDirectory
from shared.credentials.secret_store import SecretStore
from shared.events import Content, JobDue
from shared.kafka import send_event
from shared.topics import TopicRegistry
from tests.integration.poison_kit import committed, eventually, letters, on_broker

pytestmark = pytest.mark.integration

CH = "mastodon-demo"


class BuggyPlatform(Adapter):
    """A platform fake that keeps its posts, and whose adapter has a bug for the poisoned jobs."""

    platform = "mastodon"

    def __init__(self) -> None:
        self.posts: dict[str, str] = {}  # marker -> job id
        self.poisoned: set[str] = set()
        self.lookups = 0

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        if request.job_id in self.poisoned:
            raise RuntimeError(f"adapter bug on {request.job_id}")
        self.posts[request.marker] = request.job_id
        return Published(post_id=request.marker, url=None)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        self.lookups += 1
        if request.marker in self.posts:
            return Published(post_id=request.marker, url=None)
        # As Mastodon's Idempotency-Key does: a second send would be folded into the first.
        return Absent("no post carries the marker", safe_while_live=True)

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        raise NotSupported("no counts")

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return None


def due(content_id: str) -> JobDue:
    now = datetime.now(UTC)
    return JobDue(
        event_id=f"d-{content_id}",
        occurred_at=now,
        job_id=f"{content_id}:{CH}",
        content_id=content_id,
        channel=CH,
        platform="mastodon",
        attempt=1,
        slot=now,
        content=Content(text=f"text {content_id}"),
    )


async def test_the_publisher_dead_letters_a_job_that_raises_and_goes_on(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    names = [
        topics.publish("mastodon"),
        topics.publish_attempts("mastodon"),
        topics.publish_outcomes,
        topics.publish_dead,
    ]
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        platform = BuggyPlatform()
        platform.poisoned.add(f"bad:{CH}")
        group = f"publisher-{run_id}"
        worker = PublisherWorker(
            bootstrap=kafka_bootstrap,
            topics=topics,
            group=group,
            platform="mastodon",
            channels=ChannelDirectory(
                channels=(Channel(id=CH, platform="mastodon", timezone="Asia/Jakarta"),)
            ),
            adapter=platform,
            secrets=SecretStore({CH: Credentials("token")}),
            producer=producer,
            limits=RateLimits({}),
            retry=RetryPolicy(),
        )
        topic = topics.publish("mastodon")
        for content_id in ("bad", "good"):
            await send_event(producer, topic, f"{content_id}:{CH}", due(content_id), partition=0)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await eventually(lambda: f"good:{CH}" in platform.posts.values(), "the good job's post")
            (letter,) = await letters(kafka_bootstrap, topics)
            offset = await committed(kafka_bootstrap, group, TopicPartition(topic, 0), 2)
            assert not task.done()

            # After the fix the operator replays it: reconciled (not found), then posted once.
            platform.poisoned.clear()
            write = reappend(letter, topics)
            assert isinstance(write, Reappend)
            await producer.send_and_wait(write.topic, write.value, key=write.key, partition=write.partition)
            await eventually(lambda: f"bad:{CH}" in platform.posts.values(), "the replayed job's post")
            assert not task.done()
        finally:
            stop.set()
            await task

    assert (letter.consumer, letter.error_type) == ("publisher-mastodon", "RuntimeError")
    assert "adapter bug on bad:mastodon-demo" in letter.reason
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (topic, 0, 0)
    assert (letter.job_id, letter.content_id, letter.channel) == (f"bad:{CH}", "bad", CH)
    assert offset == 2
    assert platform.lookups == 1  # the replay reconciled the attempt that had been recorded
    assert sorted(platform.posts.values()) == [f"bad:{CH}", f"good:{CH}"]

"""The publisher answers every due job it is given, even one it will not send.

A scheduler that re-fires an attempt the ledger already settled (its plan lost the record that
the job was due) gets the settled outcome again; a due job for a channel this publisher does not
know ends dead. Before, both were only skipped or dead-lettered, and the job stayed due for good.
An attempt the account's own rate limit put off was never made: fired again, it is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from services.publisher.adapters.port import Credentials
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.worker import PublisherWorker
from shared.codec import encode
from shared.credentials.secret_store import SecretStore
from shared.events import Content, JobDue, OutcomeStatus, PublishOutcome, job_id_for
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.test_crash_points import (
    CH,
    DIRECTORY,
    NEEDED,
    PLATFORM,
    FlakyPlatform,
    committed,
    decoded,
)

pytestmark = pytest.mark.integration


def due(content_id: str, channel: str = CH, attempt: int = 1) -> JobDue:
    now = datetime.now(UTC)
    return JobDue(
        event_id=uuid.uuid4().hex,
        occurred_at=now,
        job_id=job_id_for(content_id, channel),
        content_id=content_id,
        channel=channel,
        platform=PLATFORM,
        attempt=attempt,
        slot=now,
        content=Content(text=f"answers {content_id}"),
    )


@contextlib.asynccontextmanager
async def running_publisher(
    kafka_bootstrap: str, platform: FlakyPlatform, limits: RateLimits, **options: object
) -> AsyncIterator[tuple[TopicRegistry, AIOKafkaProducer]]:
    """A publisher of ``platform`` on fresh topics, with a producer to hand it due jobs."""
    topics = TopicRegistry(prefix=f"answers{uuid.uuid4().hex[:8]}.", partitions=1)
    await ensure_topics(
        kafka_bootstrap, [s for s in topics.specs() if s.name[len(topics.prefix) :] in NEEDED]
    )
    plain = make_producer(kafka_bootstrap, "answers-test")
    await plain.start()
    worker = PublisherWorker(
        bootstrap=kafka_bootstrap,
        topics=topics,
        group=f"answers-{uuid.uuid4().hex[:8]}",
        platform=PLATFORM,
        channels=DIRECTORY,
        adapter=platform,
        secrets=SecretStore({CH: Credentials(token="t")}),
        producer=plain,
        limits=limits,
        retry=RetryPolicy(),
        **options,  # type: ignore[arg-type]
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield topics, plain
    finally:
        stop.set()
        await task
        await plain.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def hand_over(plain: AIOKafkaProducer, topics: TopicRegistry, *jobs: JobDue) -> None:
    for job in jobs:
        await plain.send_and_wait(topics.publish(PLATFORM), encode(job), key=job.job_id.encode())


async def outcomes(kafka_bootstrap: str, topics: TopicRegistry, count: int) -> list[PublishOutcome]:
    """The committed outcomes, once there are ``count`` of them (or after 30 s)."""
    found: list[PublishOutcome] = []
    for _ in range(300):
        found = decoded(await committed(kafka_bootstrap, topics.publish_outcomes), PublishOutcome)
        if len(found) >= count:
            break
        await asyncio.sleep(0.1)
    return found


async def test_a_settled_attempt_fired_again_is_answered_not_sent(kafka_bootstrap: str) -> None:
    platform = FlakyPlatform()
    platform.calls["c1:" + CH] = 1  # no 5xx first: the first call posts
    async with running_publisher(kafka_bootstrap, platform, RateLimits({})) as (topics, plain):
        first = due("c1")
        await hand_over(
            plain, topics, first, first.model_copy(update={"event_id": "again"}), due("c2", "gone")
        )
        found = await outcomes(kafka_bootstrap, topics, 4)
        # per job, in order (the two channels' lanes run concurrently)
        seen = sorted((o.job_id, o.attempt, o.status) for o in found)
        assert seen == sorted(
            [
                (first.job_id, 1, OutcomeStatus.ATTEMPTED),
                (first.job_id, 1, OutcomeStatus.PUBLISHED),
                (first.job_id, 1, OutcomeStatus.PUBLISHED),  # the re-fire, answered from the ledger
                ("c2:gone", 1, OutcomeStatus.DEAD),
            ]
        )
        mine = [o.status for o in found if o.job_id == first.job_id]
        assert mine == [OutcomeStatus.ATTEMPTED, OutcomeStatus.PUBLISHED, OutcomeStatus.PUBLISHED]
        assert platform.posts[first.job_id] == 1


async def test_an_attempt_the_accounts_limit_put_off_is_sent_when_fired_again(kafka_bootstrap: str) -> None:
    """The account's own limit put c2's call off: a retry at the same attempt, which the scheduler
    fires again and the ledger then sends (it is no settled attempt to answer again)."""
    platform = FlakyPlatform()
    platform.calls.update({"c1:" + CH: 1, "c2:" + CH: 1})  # no 5xx first: each first call posts
    limits = RateLimits({CH: (Limit(1, timedelta(seconds=2)),)})
    async with running_publisher(kafka_bootstrap, platform, limits, max_local_wait_s=0.2) as (topics, plain):
        first, second = due("c1"), due("c2")
        await hand_over(plain, topics, first, second)
        [put_off] = [o for o in await outcomes(kafka_bootstrap, topics, 3) if o.job_id == second.job_id]
        assert (put_off.attempt, put_off.status, put_off.deferred) == (1, OutcomeStatus.RETRY, True)
        assert put_off.retry_at is not None
        await asyncio.sleep(max(0.0, (put_off.retry_at - datetime.now(UTC)).total_seconds()))
        await hand_over(plain, topics, second.model_copy(update={"event_id": "again"}))
        found = await outcomes(kafka_bootstrap, topics, 5)
        mine = [(o.attempt, o.status) for o in found if o.job_id == second.job_id]
        assert mine == [(1, OutcomeStatus.RETRY), (1, OutcomeStatus.ATTEMPTED), (1, OutcomeStatus.PUBLISHED)]
        assert platform.posts[second.job_id] == 1

"""The publisher answers every due job it is given, even one it will not send.

A scheduler that re-fires an attempt the ledger already settled (its plan lost the record that
the job was due) gets the settled outcome again; a due job for a channel this publisher does not
know ends dead. Before, both were only skipped or dead-lettered, and the job stayed due for good.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.publisher.adapters.port import Credentials
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import RateLimits
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


async def test_a_settled_attempt_fired_again_is_answered_not_sent(kafka_bootstrap: str) -> None:
    topics = TopicRegistry(prefix=f"answers{uuid.uuid4().hex[:8]}.", partitions=1)
    await ensure_topics(
        kafka_bootstrap, [s for s in topics.specs() if s.name[len(topics.prefix) :] in NEEDED]
    )
    plain = make_producer(kafka_bootstrap, "answers-test")
    await plain.start()
    platform = FlakyPlatform()
    platform.calls["c1:" + CH] = 1  # no 5xx first: the first call posts
    worker = PublisherWorker(
        bootstrap=kafka_bootstrap,
        topics=topics,
        group=f"answers-{uuid.uuid4().hex[:8]}",
        platform=PLATFORM,
        channels=DIRECTORY,
        adapter=platform,
        secrets=SecretStore({CH: Credentials(token="t")}),
        producer=plain,
        limits=RateLimits({}),
        retry=RetryPolicy(),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        first = due("c1")
        for record in (first, first.model_copy(update={"event_id": "again"}), due("c2", channel="gone")):
            await plain.send_and_wait(topics.publish(PLATFORM), encode(record), key=record.job_id.encode())
        outcomes: list[PublishOutcome] = []
        for _ in range(300):
            outcomes = decoded(await committed(kafka_bootstrap, topics.publish_outcomes), PublishOutcome)
            if len(outcomes) >= 4:
                break
            await asyncio.sleep(0.1)
        # per job, in order (the two channels' lanes run concurrently)
        seen = sorted((o.job_id, o.attempt, o.status) for o in outcomes)
        assert seen == sorted(
            [
                (first.job_id, 1, OutcomeStatus.ATTEMPTED),
                (first.job_id, 1, OutcomeStatus.PUBLISHED),
                (first.job_id, 1, OutcomeStatus.PUBLISHED),  # the re-fire, answered from the ledger
                ("c2:gone", 1, OutcomeStatus.DEAD),
            ]
        )
        mine = [o.status for o in outcomes if o.job_id == first.job_id]
        assert mine == [OutcomeStatus.ATTEMPTED, OutcomeStatus.PUBLISHED, OutcomeStatus.PUBLISHED]
        assert platform.posts[first.job_id] == 1
    finally:
        stop.set()
        await task
        await plain.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)

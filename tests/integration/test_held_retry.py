"""A retry that comes back while its channel is paused is placed by the channel's rules on resume.

Over the real broker, the scheduler (router and planner, the learned policy) and Mastodon's
publisher run as they do in production (their ``run``), against the sandbox's Mastodon. An urgent
item with a short deadline goes out at once; the platform holds the call, then answers 429 with
its reset past the deadline (nothing was made). The operator pauses the channel while the call is
in flight and resumes it before the reset. The resume places the retry from the reset: past the
deadline, so the job is unschedulable with the deadline named, reported at the resume, and never
handed to the publisher again (it used to fire at the reset, unchecked, and only the publisher's
own deadline check kept it off the platform).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sandbox.base import Fault
from sandbox.sandbox import STATES, build_sandbox
from services.publisher import app as publisher_app
from services.publisher.credentials.commands import connect
from services.scheduler import app as scheduler_app
from shared import events
from shared.codec import encode
from shared.events import ControlAction, JobState, OutcomeStatus
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events
from tests.integration.test_reconnect_resumes import approved, connect_request, services_of
from tests.unit.test_plan import control

pytestmark = pytest.mark.integration
CH = "mastodon-demo"


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[TopicRegistry]:
    registry = TopicRegistry(prefix=f"heldretry{uuid.uuid4().hex[:8]}.", partitions=3)
    await ensure_topics(kafka_bootstrap, registry.specs())
    yield registry
    await delete_topics(kafka_bootstrap, registry.prefix)


def command(action: ControlAction) -> events.ControlIssued:
    return control(action, channels=(CH,)).model_copy(update={"occurred_at": datetime.now(UTC)})


async def test_a_retry_that_came_back_during_a_pause_is_placed_on_resume_not_fired_past_its_deadline(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    app = build_sandbox({CH: "static-token-not-used-0123"})
    producer = make_producer(kafka_bootstrap, "test-held-retry")
    await producer.start()
    try:
        async with TestServer(app) as server, aiohttp.ClientSession() as browser:
            state = app[STATES]["mastodon"]
            publisher, scheduler = services_of(kafka_bootstrap, topics, tmp_path, server, "mastodon")
            scheduler = scheduler.model_copy(update={"policy": "learned"})  # production's placement

            async def consent(url: str) -> None:
                async with browser.get(url) as resp:
                    assert resp.status == 200, await resp.text()

            await connect(publisher, connect_request(publisher, "mastodon"), consent)
            now = datetime.now(UTC)
            deadline = now + timedelta(seconds=20)
            reset = now + timedelta(seconds=40)  # the platform takes posts again only after the deadline
            # The platform holds the post 5 s (time for the pause to land), then says 429: nothing made.
            state.faults.append(
                Fault(
                    path_contains="/api/v1/statuses",
                    method="POST",
                    status=429,
                    body={"error": "Too many requests"},
                    headers={"X-RateLimit-Reset": reset.isoformat()},
                    delay_s=5.0,
                )
            )
            item = approved(1, CH).model_copy(update={"deadline": deadline})
            stop = asyncio.Event()
            services = [
                asyncio.create_task(scheduler_app.run(scheduler, stop)),
                asyncio.create_task(publisher_app.run(publisher, stop)),
            ]
            try:
                await producer.send_and_wait(
                    topics.content_approved, encode(item), key=item.content_id.encode()
                )
                started = time.monotonic()
                while state.faults:  # taken: the post is in flight
                    assert time.monotonic() - started < 60, "the post was never sent"
                    await asyncio.sleep(0.05)
                pause = command(ControlAction.PAUSE)
                await producer.send_and_wait(topics.content_control, encode(pause), key=b"*")

                async def plan() -> list[events.JobPlanned]:
                    records = await read_events(kafka_bootstrap, topics.schedule_jobs)
                    return [e for e in records if isinstance(e, events.JobPlanned)]

                # the 429 comes back while the channel is paused: the retry is held
                while not any(j.state is JobState.RETRYING for j in await plan()):
                    assert time.monotonic() - started < 60, "no retry came back"
                    await asyncio.sleep(0.2)
                resume = command(ControlAction.RESUME)
                await producer.send_and_wait(topics.content_control, encode(resume), key=b"*")
                while not any(j.state is JobState.UNSCHEDULABLE for j in await plan()):
                    assert time.monotonic() - started < 90, "the job never ended"
                    await asyncio.sleep(0.2)
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*services, return_exceptions=True), 60)
    finally:
        await producer.stop()

    dues = [
        e
        for e in await read_events(kafka_bootstrap, topics.publish("mastodon"))
        if isinstance(e, events.JobDue)
    ]
    assert [d.attempt for d in dues] == [1], "the retry was handed to the publisher again"
    outcomes = [
        e
        for e in await read_events(kafka_bootstrap, topics.publish_outcomes)
        if isinstance(e, events.PublishOutcome)
    ]
    said = [(o.attempt, o.status, o.error.code if o.error else None) for o in outcomes]
    assert said == [
        (1, OutcomeStatus.ATTEMPTED, None),
        (1, OutcomeStatus.RETRY, "rate_limited"),
        (2, OutcomeStatus.UNSCHEDULABLE, "deadline"),  # the scheduler's, at the resume
    ]
    assert state.posts == []
    records = await plan()
    final = records[-1]
    assert final.state is JobState.UNSCHEDULABLE
    assert final.explanation is not None
    assert final.explanation.binding_constraint == "deadline"
    retrying = [j for j in records if j.state is JobState.RETRYING]
    assert retrying
    assert all(j.note == "paused: because" for j in retrying), retrying  # held by the pause

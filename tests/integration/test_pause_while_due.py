"""A pause stops the posts already handed to the publisher but not yet sent; resume sends them.

Over the real broker, the scheduler (router and planner) and Mastodon's publisher run as in
production (their ``run``) against the sandbox's Mastodon. Two urgent items are fired at once;
the platform is slow to answer the first (10 s), so the second waits, ``due``, behind it (one
call at a time per account). "Pause all channels" is written while it waits. The first post was
already on its way and goes; the second is not sent and spends no attempt: the publisher hands
it back (a deferred retry, ``paused``) and the scheduler holds it paused. After resume it is
posted, once, as its first attempt.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaProducer

from sandbox.base import Fault
from sandbox.sandbox import STATES, build_sandbox
from services.publisher import app as publisher_app
from services.publisher.credentials.commands import connect
from services.scheduler import app as scheduler_app
from shared.codec import encode
from shared.events import (
    ControlAction,
    ControlIssued,
    JobPlanned,
    JobState,
    OutcomeStatus,
    PublishOutcome,
)
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events
from tests.integration.service_rig import service_settings
from tests.integration.test_reconnect_resumes import (  # noqa: F401 (the fixture)
    approved,
    connect_request,
    producer,
    wait_for,
)

pytestmark = pytest.mark.integration
CH = "mastodon-demo"
TEXTS = {f"c{n}": str(approved(n, CH).variants[0].content.text) for n in (1, 2)}


def control(action: ControlAction, n: int) -> ControlIssued:
    return ControlIssued(
        event_id=f"ctl{n}",
        occurred_at=datetime.now(UTC),
        action=action,
        by="opa",
        reason="bencana: hari berkabung",
    )


async def latest_states(bootstrap: str, topics: TopicRegistry) -> dict[str, JobState]:
    jobs = [e for e in await read_events(bootstrap, topics.schedule_jobs) if isinstance(e, JobPlanned)]
    return {j.content_id: j.state for j in jobs}


async def outcomes_of(bootstrap: str, topics: TopicRegistry, content_id: str) -> list[PublishOutcome]:
    events = await read_events(bootstrap, topics.publish_outcomes)
    return [e for e in events if isinstance(e, PublishOutcome) and e.content_id == content_id]


async def test_a_pause_stops_a_due_post_waiting_behind_a_slow_call_and_resume_sends_it(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    producer: AIOKafkaProducer,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    app = build_sandbox({CH: "static-token-not-used-0123"})
    async with TestServer(app) as server, aiohttp.ClientSession() as browser:
        state = app[STATES]["mastodon"]
        channel = {
            "id": CH,
            "platform": "mastodon",
            "base_url": str(server.make_url("/mastodon")),
            "secret": CH,
        }
        publisher, scheduler = service_settings(
            kafka_bootstrap, topics, tmp_path, channel | {"min_gap_minutes": 0}
        )

        async def consent(url: str) -> None:
            async with browser.get(url) as resp:
                assert resp.status == 200, await resp.text()

        await connect(publisher, connect_request(publisher, "mastodon"), consent)
        # The platform is slow to answer the next post (it makes it, after 10 s).
        state.faults.append(Fault(path_contains="/api/v1/statuses", method="POST", delay_s=10.0))
        stop = asyncio.Event()
        services = [
            asyncio.create_task(scheduler_app.run(scheduler, stop)),
            asyncio.create_task(publisher_app.run(publisher, stop)),
        ]
        try:
            for content_id in TEXTS:
                item = approved(int(content_id[1:]), CH)  # approved now
                await producer.send_and_wait(topics.content_approved, encode(item), key=content_id.encode())

            async def first_call_in_flight() -> bool:
                return not state.faults

            await wait_for(first_call_in_flight, "the first post's slow call")
            await asyncio.sleep(1.0)
            before = await latest_states(kafka_bootstrap, topics)
            # Either item may be the one fired first: the other is handed over, its call not started.
            [(first, _), (second, _)] = sorted(before.items(), key=lambda kv: kv[1] is JobState.DUE)
            assert (before[first], before[second]) == (JobState.ATTEMPTED, JobState.DUE), before

            await producer.send_and_wait(
                topics.content_control, encode(control(ControlAction.PAUSE, 1)), key=b"*"
            )
            paused_at = datetime.now(UTC)

            async def second_settled() -> bool:
                states = await latest_states(kafka_bootstrap, topics)
                return states[second] in (JobState.PAUSED, JobState.PUBLISHED, JobState.ATTEMPTED)

            await wait_for(second_settled, "the second post to be held or sent")
            assert (await latest_states(kafka_bootstrap, topics))[second] is JobState.PAUSED
            assert [p.text for p in state.posts] == [TEXTS[first]]  # already on its way: it went
            handed_back = [
                (o.attempt, o.status, o.deferred, o.error.code if o.error else None)
                for o in await outcomes_of(kafka_bootstrap, topics, second)
            ]
            assert handed_back == [(1, OutcomeStatus.RETRY, True, "paused")]  # nothing attempted

            await producer.send_and_wait(
                topics.content_control, encode(control(ControlAction.RESUME, 2)), key=b"*"
            )
            resumed_at = datetime.now(UTC)

            async def second_published() -> bool:
                return (await latest_states(kafka_bootstrap, topics))[second] is JobState.PUBLISHED

            await wait_for(second_published, "the second post after resume")
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*services, return_exceptions=True), 60)
    assert [p.text for p in state.posts] == [TEXTS[first], TEXTS[second]]  # each once
    posted = {p.text: p.created_at for p in state.posts}
    assert posted[TEXTS[second]] >= resumed_at > paused_at
    said = [(o.attempt, o.status) for o in await outcomes_of(kafka_bootstrap, topics, second)]
    assert said[-2:] == [(1, OutcomeStatus.ATTEMPTED), (1, OutcomeStatus.PUBLISHED)]

"""A withdrawal is never lost to the order things happen in, over the real broker.

The scheduler (router and planner) and the Mastodon publisher run as in production (their
``run``) against the sandbox's Mastodon, connected through its flow:

- the withdrawal arrives while the post's call is in flight; the platform answers 429 (nothing
  made). The job comes back as a retry and must end withdrawn, never posted by the retry;
- the withdrawal is routed before its item's approval (the router reads ``content.control`` and
  ``content.approved`` at their own pace: a bulk import puts thousands of approvals ahead). The
  job must be stored withdrawn, never planned nor posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaProducer

from sandbox.base import FakeState, Fault
from sandbox.sandbox import STATES, build_sandbox
from services.publisher import app as publisher_app
from services.publisher.credentials.commands import connect
from services.scheduler import app as scheduler_app
from shared.codec import encode
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    JobPlanned,
    JobState,
    Priority,
)
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events
from tests.integration.service_rig import service_settings
from tests.integration.test_reconnect_resumes import connect_request

pytestmark = pytest.mark.integration
CH = "mastodon-demo"


@dataclass
class Rig:
    topics: TopicRegistry
    producer: AIOKafkaProducer
    mastodon: FakeState
    bootstrap: str

    async def approve(self, content_id: str) -> None:
        now = datetime.now(UTC)
        event = ContentApproved(
            event_id=f"a-{content_id}",
            occurred_at=now,
            content_id=content_id,
            priority=Priority.URGENT,  # posted at once unless withdrawn
            author="rina",
            approval=Approval(approved_by="yuyun", approved_at=now),
            submitted_by="yuyun",
            variants=(ChannelVariant(channel=CH, content=Content(text=f"Angka yang salah ({content_id})")),),
        )
        await self.producer.send_and_wait(
            self.topics.content_approved, encode(event), key=content_id.encode()
        )

    async def withdraw(self, content_id: str) -> None:
        event = ControlIssued(
            event_id=f"w-{content_id}",
            occurred_at=datetime.now(UTC),
            action=ControlAction.WITHDRAW,
            content_id=content_id,
            channels=(CH,),
            by="opa",
            reason="wrong figures",
        )
        await self.producer.send_and_wait(self.topics.content_control, encode(event), key=content_id.encode())

    async def plan_of(self, content_id: str) -> list[JobPlanned]:
        events = await read_events(self.bootstrap, self.topics.schedule_jobs)
        return [e for e in events if isinstance(e, JobPlanned) and e.content_id == content_id]

    async def routed(self, content_id: str) -> bool:
        commands = await read_events(self.bootstrap, self.topics.schedule_commands)
        return any(isinstance(e, ControlIssued) and e.content_id == content_id for e in commands)


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.3)


@contextlib.asynccontextmanager
async def running(bootstrap: str, topics: TopicRegistry, tmp_path: Path) -> AsyncIterator[Rig]:
    """The sandbox's Mastodon, connected, with the scheduler and its publisher running."""
    await ensure_topics(bootstrap, topics.specs())
    producer = make_producer(bootstrap, "test-withdraw")
    await producer.start()
    app = build_sandbox({CH: "static-token-not-used-0123"})
    stop = asyncio.Event()
    services: list[asyncio.Task[None]] = []
    try:
        async with TestServer(app) as server, aiohttp.ClientSession() as browser:
            channel = {
                "id": CH,
                "platform": "mastodon",
                "base_url": str(server.make_url("/mastodon")),
                "secret": CH,
                "min_gap_minutes": 0,
                "options": {},
            }
            publisher, scheduler = service_settings(bootstrap, topics, tmp_path, channel)

            async def consent(url: str) -> None:
                async with browser.get(url) as resp:
                    assert resp.status == 200, await resp.text()

            await connect(publisher, connect_request(publisher, "mastodon"), consent)
            services = [
                asyncio.create_task(scheduler_app.run(scheduler, stop)),
                asyncio.create_task(publisher_app.run(publisher, stop)),
            ]
            yield Rig(topics, producer, app[STATES]["mastodon"], bootstrap)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*services), 60)
    finally:
        stop.set()
        for task in services:
            task.cancel()
        await producer.stop()
        await delete_topics(bootstrap, topics.prefix)


async def test_a_withdrawal_while_the_post_is_in_flight_stops_the_retry(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running(kafka_bootstrap, topics, tmp_path) as rig:
        # The platform holds the post 3 s, then says 429: nothing made, try again in 4 s.
        reset = (datetime.now(UTC) + timedelta(seconds=7)).isoformat()
        rig.mastodon.faults.append(
            Fault(
                path_contains="/api/v1/statuses",
                method="POST",
                status=429,
                body={"error": "Too many requests"},
                headers={"X-RateLimit-Reset": reset},
                delay_s=3.0,
            )
        )
        await rig.approve("c1")

        async def in_flight() -> bool:
            return not rig.mastodon.faults  # the fault was taken: the call is under way

        await wait_for(in_flight, "the post's call")
        await rig.withdraw("c1")

        async def settled() -> bool:
            plan = await rig.plan_of("c1")
            return bool(rig.mastodon.posts) or (bool(plan) and plan[-1].state is JobState.WITHDRAWN)

        # Without the withdrawal kept on the job, its retry posts it some 7 s after the 429.
        await wait_for(settled, "the job to end withdrawn (or be posted)")
        assert [p.text for p in rig.mastodon.posts] == [], "the withdrawn item was posted"
        plan = await rig.plan_of("c1")
        assert plan[-1].state is JobState.WITHDRAWN
        assert "wrong figures" in (plan[-1].note or "")
        await asyncio.sleep(8)  # past the platform's reset: a retry would have posted by now
        assert rig.mastodon.posts == []


async def test_a_withdrawal_routed_before_its_approval_keeps_the_item_from_being_posted(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running(kafka_bootstrap, topics, tmp_path) as rig:
        # Ingest accepted the item and the operator withdrew it at once; the router meets the
        # withdrawal first (here for certain: the approval is written once it is routed).
        await rig.withdraw("c1")

        async def routed() -> bool:
            return await rig.routed("c1")

        await wait_for(routed, "the withdrawal to be routed")
        await rig.approve("c1")

        async def planned() -> bool:
            return bool(await rig.plan_of("c1")) or bool(rig.mastodon.posts)

        await wait_for(planned, "the item's job")
        await asyncio.sleep(3)  # an urgent job fires at once: time for a post to be made
        assert [p.text for p in rig.mastodon.posts] == [], "the withdrawn item was posted"
        states = [j.state for j in await rig.plan_of("c1")]
        assert states == [JobState.WITHDRAWN], states

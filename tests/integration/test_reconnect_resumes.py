"""A revoked account parks its channel; connecting it again sends every parked job out once.

Over the real broker, the scheduler and an X publisher run as they do in production (their
``run``), against the sandbox's X and its authorization server: the account is connected
through the flow, the user revokes the app, items arrive and are parked as ``needs_reauth``,
then ``warta channels connect``'s two steps (store the new grant, announce the reconnect) run
and each parked job is published exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaProducer

from sandbox.sandbox import STATES, build_sandbox
from services.publisher import app as publisher_app
from services.publisher.credentials.commands import ConnectRequest, _channel, connect
from services.publisher.settings import PublisherSettings
from services.scheduler import app as scheduler_app
from services.scheduler.settings import SchedulerSettings
from shared.codec import encode
from shared.credentials.keys import generate_key
from shared.credentials.reconnect import announce_reconnected
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    OutcomeStatus,
    Priority,
    PublishOutcome,
)
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events

pytestmark = pytest.mark.integration
CHANNEL = "x-demo"
ITEMS = 4


def approved(n: int) -> ContentApproved:
    now = datetime.now(UTC)
    return ContentApproved(
        event_id=f"a{n}",
        occurred_at=now,
        content_id=f"c{n}",
        priority=Priority.URGENT,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=now),
        submitted_by="yuyun",
        variants=(ChannelVariant(channel=CHANNEL, content=Content(text=f"Kabar ke-{n} dari gubernur.")),),
    )


async def outcomes(bootstrap: str, topics: TopicRegistry) -> list[PublishOutcome]:
    events = await read_events(bootstrap, topics.publish_outcomes)
    return [e for e in events if isinstance(e, PublishOutcome) and e.status is not OutcomeStatus.ATTEMPTED]


async def wait_for(check: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


@pytest.fixture
async def producer(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_bootstrap, topics.specs())
    made = make_producer(kafka_bootstrap, "test-reconnect")
    await made.start()
    yield made
    await made.stop()
    await delete_topics(kafka_bootstrap, topics.prefix)


async def test_a_reconnect_publishes_each_parked_job_exactly_once(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    app = build_sandbox({CHANNEL: "static-token-not-used-0123"})
    async with TestServer(app) as server, aiohttp.ClientSession() as browser:
        x = app[STATES]["x"]
        assert x.authority is not None
        channel = {
            "id": CHANNEL,
            "platform": "x",
            "base_url": str(server.make_url("/x")),
            "secret": CHANNEL,
            "min_gap_minutes": 0,
            "options": {"username": "warta_demo"},
        }
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": [channel]}))
        common: dict[str, Any] = {
            "kafka_bootstrap": kafka_bootstrap,
            "topic_prefix": topics.prefix,
            "partitions": topics.partitions,
            "group_prefix": topics.prefix.rstrip("."),
            "channels_file": tmp_path / "channels.yaml",
            "state_dir": tmp_path / "state",
        }
        publisher = PublisherSettings(
            **common,
            platform="x",
            credentials_file=tmp_path / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "secrets.json",
            retry_base_s=0.3,
            retry_cap_s=2.0,
        )
        scheduler = SchedulerSettings(**common, policy="naive", keep_store=False)

        async def consent(url: str) -> None:
            async with browser.get(url) as resp:
                assert resp.status == 200, await resp.text()

        request = ConnectRequest(
            channel=_channel(publisher, CHANNEL), client_id="warta-app", client_secret=None, redirect_uri=None
        )
        await connect(publisher, request, consent)
        x.authority.revoke_account(CHANNEL)  # the user disconnects Warta on X

        stop = asyncio.Event()
        services = [
            asyncio.create_task(scheduler_app.run(scheduler, stop)),
            asyncio.create_task(publisher_app.run(publisher, stop)),
        ]
        try:
            for n in range(ITEMS):
                event = approved(n)
                await producer.send_and_wait(
                    topics.content_approved, encode(event), key=event.content_id.encode()
                )

            async def all_parked() -> bool:
                parked = {o.job_id for o in await outcomes(kafka_bootstrap, topics)}
                return len(parked) == ITEMS

            await wait_for(all_parked, "every job to be parked")
            parked = await outcomes(kafka_bootstrap, topics)
            assert {o.status for o in parked} == {OutcomeStatus.NEEDS_REAUTH}, parked
            assert x.posts == []

            # `warta channels connect x-demo`: a new grant through the flow, then the announcement
            # (twice, as two operators reconnecting at once would: still one post per job).
            record = await connect(publisher, request, consent)
            announced_at = time.monotonic()
            sent = await announce_reconnected(publisher, [record.account])
            await announce_reconnected(publisher, [record.account])
            assert [(e.action, e.channels) for e in sent] == [(ControlAction.RECONNECTED, (CHANNEL,))]

            async def all_published() -> bool:
                done = [
                    o for o in await outcomes(kafka_bootstrap, topics) if o.status is OutcomeStatus.PUBLISHED
                ]
                return len({o.job_id for o in done}) == ITEMS

            await wait_for(all_published, "every parked job to be published")
            resumed_s = time.monotonic() - announced_at
            await asyncio.sleep(3.0)  # time for a duplicate to show, were there one
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*services, return_exceptions=True), 60)
    final = await outcomes(kafka_bootstrap, topics)
    published = Counter(o.job_id for o in final if o.status is OutcomeStatus.PUBLISHED)
    assert published == {f"c{n}:{CHANNEL}": 1 for n in range(ITEMS)}
    texts = Counter(p.text for p in x.posts)
    assert texts == {f"Kabar ke-{n} dari gubernur.": 1 for n in range(ITEMS)}
    controls = [
        e for e in await read_events(kafka_bootstrap, topics.content_control) if isinstance(e, ControlIssued)
    ]
    assert [c.action for c in controls] == [ControlAction.RECONNECTED] * 2
    print(f"\n{ITEMS} jobs parked by a revocation, each published once {resumed_s:.1f} s after the reconnect")

"""A revoked account parks its channel mid-run; connecting it again sends every parked job out once.

Over the real broker, the scheduler and the platform's publisher run as they do in production
(their ``run``), against the sandbox's platform and its authorization server: the account is
connected through its flow, a first item is published, the user revokes Warta, the next items
are parked as ``needs_reauth`` with the platform's reason (the outcome the console's banner and
the lifecycle webhook report), then ``warta channels connect``'s two steps (store the new grant,
announce the reconnect) run and each parked job is published exactly once.

One platform per way a grant ends: X (a rotating refresh token refused), LinkedIn (a refresh
token that does not rotate), Mastodon (a token that never expires, refused at the post),
Threads (its 60-day token invalidated), Facebook and Instagram (the Page token invalidated),
and YouTube and TikTok, whose video posts take several steps."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import BaseTestServer, TestServer
from aiokafka import AIOKafkaProducer

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox
from services.publisher import app as publisher_app
from services.publisher.credentials.commands import ConnectRequest, _channel, connect
from services.publisher.settings import PublisherSettings
from services.scheduler import app as scheduler_app
from services.scheduler.settings import SchedulerSettings
from shared.codec import encode
from shared.credentials.reconnect import announce_reconnected
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    Media,
    OutcomeStatus,
    Priority,
    PublishOutcome,
)
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events
from tests.integration.service_rig import service_settings

pytestmark = pytest.mark.integration
ITEMS = 4
OPTIONS = {
    "x": {"username": "warta_demo"},
    "linkedin": {"author": "urn:li:organization:10000001"},
    "mastodon": {},
    "threads": {"threads_user_id": "27000000000000001"},
    "facebook": {"page_id": "100000000000001"},
    "youtube": {"privacy": "unlisted"},
    "tiktok": {"privacy_level": "SELF_ONLY", "username": "warta_demo"},
    "instagram": {"ig_user_id": "17841400000000001"},
}
META = ("threads", "facebook", "instagram")
# What a post on the platform must carry beside its text: the sandbox's sample media.
MEDIA = {
    "youtube": ("clip.mp4", "video/mp4"),
    "tiktok": ("clip.mp4", "video/mp4"),
    "instagram": ("photo.jpg", "image/jpeg"),
}


def approved(n: int, channel: str, media: tuple[Media, ...] = ()) -> ContentApproved:
    now = datetime.now(UTC)
    return ContentApproved(
        event_id=f"a{n}",
        occurred_at=now,
        content_id=f"c{n}",
        priority=Priority.URGENT,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=now),
        submitted_by="yuyun",
        variants=(
            ChannelVariant(
                channel=channel, content=Content(text=f"Kabar ke-{n} dari gubernur.", media=media)
            ),
        ),
    )


def revoke(state: FakeState, account: str) -> None:
    """The user disconnects Warta: every grant of the account ends (an authorization server's
    revocation; for Meta's tokens, the invalidation a password change or a removed app makes)."""
    if state.authority is not None:
        state.authority.revoke_account(account)
        return
    login = state.login
    assert login is not None
    for token in [*login.expires, *login.page_tokens]:  # what Meta's login issued to Warta
        if state.tokens.get(token) == account:
            del state.tokens[token]


def services_of(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path, server: BaseTestServer, platform: str
) -> tuple[PublisherSettings, SchedulerSettings]:
    """The settings of ``platform``'s publisher and of the naive scheduler for one channel,
    ``<platform>-demo``, on the sandbox ``server`` (its credential connected through the flow)."""
    channel = {
        "id": f"{platform}-demo",
        "platform": platform,
        "base_url": str(server.make_url(f"/{platform}")),
        "secret": f"{platform}-demo",
        "min_gap_minutes": 0,
        "options": OPTIONS[platform],
    }
    return service_settings(
        kafka_bootstrap, topics, tmp_path, channel, media_allow_hosts=(f"{server.host}:{server.port}",)
    )


def connect_request(publisher: PublisherSettings, platform: str) -> ConnectRequest:
    return ConnectRequest(
        channel=_channel(publisher, f"{platform}-demo"),
        # Mastodon's app registers on the instance during the flow; Meta's needs its secret.
        client_id="" if platform == "mastodon" else "warta-app",
        client_secret="warta-app-secret" if platform in META else None,
        redirect_uri=None,
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


@pytest.mark.parametrize("platform", list(OPTIONS))
async def test_a_reconnect_publishes_each_parked_job_exactly_once(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, tmp_path: Path, platform: str
) -> None:
    channel_id = f"{platform}-demo"
    app = build_sandbox({channel_id: "static-token-not-used-0123"})
    async with TestServer(app) as server, aiohttp.ClientSession() as browser:
        state = app[STATES][platform]
        publisher, scheduler = services_of(kafka_bootstrap, topics, tmp_path, server, platform)

        async def consent(url: str) -> None:
            async with browser.get(url) as resp:
                assert resp.status == 200, await resp.text()

        request = connect_request(publisher, platform)
        await connect(publisher, request, consent)

        def published(count: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                done = [
                    o for o in await outcomes(kafka_bootstrap, topics) if o.status is OutcomeStatus.PUBLISHED
                ]
                return len({o.job_id for o in done}) == count

            return check

        name, mime = MEDIA.get(platform, ("", ""))
        media = (Media(url=str(server.make_url(f"/media/{name}")), type=mime),) if name else ()

        async def send(n: int) -> None:
            event = approved(n, channel_id, media)
            await producer.send_and_wait(
                topics.content_approved, encode(event), key=event.content_id.encode()
            )

        stop = asyncio.Event()
        services = [
            asyncio.create_task(scheduler_app.run(scheduler, stop)),
            asyncio.create_task(publisher_app.run(publisher, stop)),
        ]
        try:
            await send(0)
            await wait_for(published(1), "the first item to be published")
            revoke(state, channel_id)  # mid-run: the user disconnects Warta

            for n in range(1, ITEMS):
                await send(n)

            async def all_parked() -> bool:
                final = await outcomes(kafka_bootstrap, topics)
                return len({o.job_id for o in final if o.status is OutcomeStatus.NEEDS_REAUTH}) == ITEMS - 1

            await wait_for(all_parked, "every later job to be parked")
            parked = [o for o in await outcomes(kafka_bootstrap, topics) if o.job_id != f"c0:{channel_id}"]
            assert {o.status for o in parked} == {OutcomeStatus.NEEDS_REAUTH}, parked
            assert all(o.error for o in parked), parked  # the platform's reason, for the banner
            assert len(state.posts) == 1

            # `warta channels connect`: a new grant through the flow, then the announcement
            # (twice, as two operators reconnecting at once would: still one post per job).
            record = await connect(publisher, request, consent)
            announced_at = time.monotonic()
            sent = await announce_reconnected(publisher, [record.account])
            await announce_reconnected(publisher, [record.account])
            assert [(e.action, e.channels) for e in sent] == [(ControlAction.RECONNECTED, (channel_id,))]

            await wait_for(published(ITEMS), "every parked job to be published")
            resumed_s = time.monotonic() - announced_at
            await asyncio.sleep(3.0)  # time for a duplicate to show, were there one
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*services, return_exceptions=True), 60)
    final = await outcomes(kafka_bootstrap, topics)
    done = Counter(o.job_id for o in final if o.status is OutcomeStatus.PUBLISHED)
    assert done == {f"c{n}:{channel_id}": 1 for n in range(ITEMS)}
    texts = Counter(p.text for p in state.posts)
    assert texts == {f"Kabar ke-{n} dari gubernur.": 1 for n in range(ITEMS)}
    controls = [
        e for e in await read_events(kafka_bootstrap, topics.content_control) if isinstance(e, ControlIssued)
    ]
    assert [c.action for c in controls] == [ControlAction.RECONNECTED] * 2
    print(
        f"\n{platform}: {ITEMS - 1} jobs parked by a revocation mid-run, each published once"
        f" {resumed_s:.1f} s after the reconnect"
    )

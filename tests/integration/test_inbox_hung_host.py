"""A Mastodon instance that stops answering holds up its own channel's comments only.

The inbox's polling loop, the real ``CommentReader`` and the real broker, against two tiny
platform hosts: one that takes every read and never answers, one healthy with two comments on
its post. The reader's timeout is far longer than the test: every assertion is made while the
hung read is still waiting, on what was read and written, never on how long it took."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.inbox.app import _poll_loop
from services.inbox.collector import Collector
from services.inbox.readers import CommentReader
from services.inbox.schedule import PollSchedule
from services.inbox.watched import comment_key
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentObserved
from shared.kafka import make_producer
from shared.topics import TopicRegistry
from tests.integration.inbox_poll_kit import outcome, poll_topics  # noqa: F401 (a fixture)
from tests.integration.poison_kit import eventually, read_all

pytestmark = pytest.mark.integration


def comment(n: int) -> dict[str, object]:
    return {
        "id": f"9{n}", "in_reply_to_id": "100", "account": {"id": f"a{n}", "acct": f"warga{n}"},
        "content": f"<p>Komentar {n}</p>", "created_at": "2026-12-04T03:00:00.000Z",
    }  # fmt: skip


class Hosts:
    """What each host was asked; the hung one holds every request until ``release``."""

    def __init__(self) -> None:
        self.hung_reads = 0
        self.healthy_reads = 0
        self.release = asyncio.Event()

    async def hang(self, _: web.Request) -> web.Response:
        self.hung_reads += 1
        await self.release.wait()
        return web.json_response({"ancestors": [], "descendants": []})

    async def healthy(self, _: web.Request) -> web.Response:
        self.healthy_reads += 1
        return web.json_response({"ancestors": [], "descendants": [comment(1), comment(2)]})


def served(handler: object) -> web.Application:
    app = web.Application()
    app.router.add_get("/api/v1/statuses/{id}/context", handler)  # type: ignore[arg-type]
    return app


async def test_comments_of_a_healthy_channel_arrive_while_another_channel_s_host_hangs(
    kafka_bootstrap: str,
    poll_topics: TopicRegistry,  # noqa: F811 (the fixture imported above)
) -> None:
    hosts = Hosts()
    producer = make_producer(kafka_bootstrap, "test-inbox-hung-host")
    await producer.start()
    try:
        async with (
            TestServer(served(hosts.hang)) as hung,
            TestServer(served(hosts.healthy)) as healthy,
            aiohttp.ClientSession() as session,
        ):
            channels = ChannelDirectory(
                channels=(
                    Channel(id="hung", platform="mastodon", base_url=str(hung.make_url("")), secret="a"),
                    Channel(
                        id="healthy", platform="mastodon", base_url=str(healthy.make_url("")), secret="b"
                    ),
                )
            )
            inbox = Collector(
                producer=producer, topics=poll_topics, channels=channels,
                reader=CommentReader(session, {"a": "t", "b": "t"}, timeout_s=600.0),
                schedule=PollSchedule(interval=timedelta(seconds=0.2)), known=lambda _: False,
            )  # fmt: skip
            for n in range(5):  # watched first, so due first
                inbox.watch(outcome("hung", str(n)), datetime.now(UTC))
            inbox.watch(outcome("healthy", "100"), datetime.now(UTC))
            stop = asyncio.Event()
            loop = asyncio.create_task(_poll_loop(inbox, 0.05, stop, lambda: datetime.now(UTC)))
            try:
                await eventually(
                    lambda: inbox.status["healthy"].collected == 2, "the healthy channel's comments"
                )
                # Polled again and again on later ticks, the first hung read still waiting.
                await eventually(lambda: hosts.healthy_reads >= 3, "later polls of the healthy channel")
                assert hosts.hung_reads == 1
                assert inbox.status["hung"].last_error is None  # its read has not given up
                assert not loop.done()
            finally:
                stop.set()
                hosts.release.set()  # whatever still waits on the hung host ends
                await loop
    finally:
        await producer.stop()
    events = await read_all(kafka_bootstrap, poll_topics.comments_observed, lambda evs: len(evs) >= 2)
    keys = sorted(e.event_id for e in events if isinstance(e, CommentObserved))
    assert keys == sorted(comment_key("healthy", f"9{n}") for n in (1, 2))

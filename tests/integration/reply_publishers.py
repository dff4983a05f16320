"""Real publisher workers for the inbox's reply jobs, on the real broker and the sandbox's fakes.

One ``PublisherWorker`` per platform, with the real adapter, the channels' rate limits and the
same topics as the inbox under test; each can be stopped (or cancelled, as a killed process
would be) and started again with ``restart``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp

from services.publisher.adapters.port import Credentials
from services.publisher.adapters.registry import build_adapter
from services.publisher.app import limits_for
from services.publisher.decide import RetryPolicy
from services.publisher.worker import PublisherWorker
from shared.channels import ChannelDirectory
from shared.credentials.secret_store import SecretStore
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import TOKEN


@dataclass
class Publishers:
    bootstrap: str
    topics: TopicRegistry
    channels: ChannelDirectory
    group: str
    session: aiohttp.ClientSession
    state_dir: Path
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    stops: dict[str, asyncio.Event] = field(default_factory=dict)

    async def start(self, platform: str) -> None:
        producer = make_producer(self.bootstrap, f"publisher-{platform}")
        await producer.start()
        worker = PublisherWorker(
            bootstrap=self.bootstrap,
            topics=self.topics,
            group=f"{self.group}-{platform}",
            platform=platform,
            channels=self.channels,
            adapter=build_adapter(platform, self.session, state_dir=self.state_dir),
            secrets=SecretStore({"demo": Credentials(TOKEN)}),
            producer=producer,
            limits=limits_for(self.channels),
            retry=RetryPolicy(base=timedelta(seconds=1)),  # retries within a test's patience
            call_timeout_s=5.0,
        )
        stop = asyncio.Event()

        async def run() -> None:
            try:
                await worker.run(stop)
            finally:
                await producer.stop()

        self.stops[platform] = stop
        self.tasks[platform] = asyncio.create_task(run())

    async def kill(self, platform: str) -> None:
        """As a killed process: the worker's task is cancelled wherever it is, nothing committed
        after that point."""
        task = self.tasks.pop(platform)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def stop_all(self) -> None:
        for stop in self.stops.values():
            stop.set()
        for platform in list(self.tasks):
            task = self.tasks.pop(platform)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 20)


@asynccontextmanager
async def reply_publishers(
    bootstrap: str,
    topics: TopicRegistry,
    channels: ChannelDirectory,
    group: str,
    platforms: list[str],
    state_dir: Path,
) -> AsyncIterator[Publishers]:
    names = {topics.publish_outcomes, topics.publish_dead, topics.inbox_replies}
    names |= {n for p in platforms for n in (topics.publish(p), topics.publish_attempts(p))}
    await ensure_topics(bootstrap, [spec for spec in topics.specs() if spec.name in names])
    async with aiohttp.ClientSession() as session:
        publishers = Publishers(bootstrap, topics, channels, group, session, state_dir)
        try:
            for platform in platforms:
                await publishers.start(platform)
            yield publishers
        finally:
            await publishers.stop_all()

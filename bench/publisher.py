"""Publisher benchmark: rate-limit use and due-to-call latency, over the real broker.

Usage::

    python -m bench.publisher [--only rate|latency]

The broker is ``KAFKA_BOOTSTRAP_SERVERS`` when set; otherwise one of its own (``bench._system``).

One JSON line per scenario. Each scenario runs a real ``PublisherWorker`` (real adapter, real
Kafka topics under a fresh prefix) against the platform's contract fake in-process; a stand-in
for the scheduler's delay service re-emits jobs the worker hands back (``retry`` outcomes) at
their ``retry_at``, as the scheduler does.

- ``rate/<platform>``: the fake enforces the platform's real limit (platforms.md: Telegram 20 a
  minute per chat, Mastodon 300 statuses per 3 h per account) and the channel is configured with
  the same cap. Real windows would make the run last hours, so every *window* is shortened by one
  factor per platform (``time_scale``) while every *count* stays real. A backlog larger than
  ``windows`` windows can carry is due at once; ``rate_fraction`` is how many posts landed in the
  first ``windows`` full windows (from the first post) out of what the limit allows there.
  ``violations`` counts the fake's 429 answers.
- ``latency/<platform>``: limits out of the way; every ``wave_s`` a wave of jobs falls due at
  once, one per account. ``due_to_call_ms`` is from the job's due instant (its ``slot``, when the
  stand-in scheduler emits it) to the platform handling the call (the fake's ``created_at``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench._system import own_broker
from sandbox.base import FakeState, SlidingWindow
from sandbox.sandbox import FAKES
from services.publisher.adapters.port import Credentials
from services.publisher.adapters.registry import build_adapter
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.worker import PublisherWorker
from shared.channels import Channel, ChannelDirectory
from shared.codec import DecodeError, decode_as, encode
from shared.credentials.secret_store import SecretStore
from shared.events import Content, JobDue, OutcomeStatus, PublishOutcome, job_id_for
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry

UNLIMITED = SlidingWindow(10**9, timedelta(seconds=1))


@dataclass
class Platform:
    """The fakes in one server, with every answer's status counted."""

    states: dict[str, FakeState]
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)


@asynccontextmanager
async def fakes(tokens: dict[str, str]) -> AsyncIterator[tuple[str, Platform]]:
    by_token = {token: name for name, token in tokens.items()}
    platform = Platform({})

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        resp: web.StreamResponse = await handler(request)
        platform.statuses[(request.path.split("/")[1], resp.status)] += 1
        return resp

    root = web.Application(middlewares=[count])
    for name, (make_state, create_app) in FAKES.items():
        state = make_state(tokens=dict(by_token), prefix=f"/{name}")
        platform.states[name] = state
        root.add_subapp(state.prefix, create_app(state))
    runner = web.AppRunner(root, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", platform
    finally:
        await runner.cleanup()


class DelayService:
    """The scheduler's part in retries: re-emit a job handed back at its ``retry_at``."""

    def __init__(self, bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._producer = producer
        self.jobs: dict[str, JobDue] = {}
        self.bounced = 0

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self._topics.publish_outcomes,
            bootstrap_servers=self._bootstrap,
            auto_offset_reset="earliest",
            group_id=f"bench-delay-{uuid.uuid4().hex[:6]}",
            isolation_level="read_committed",  # outcomes are written in transactions
        )
        await consumer.start()
        try:
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    for record in records:
                        try:
                            outcome = decode_as(record.value, PublishOutcome)
                        except DecodeError:
                            continue
                        if outcome.status is OutcomeStatus.RETRY and outcome.retry_at is not None:
                            self.bounced += 1
                            asyncio.get_running_loop().create_task(self._later(outcome))
        finally:
            await consumer.stop()

    async def _later(self, outcome: PublishOutcome) -> None:
        await asyncio.sleep(max(0.0, (outcome.retry_at - datetime.now(UTC)).total_seconds()))  # type: ignore[operator]
        due = self.jobs[outcome.job_id]
        again = due.model_copy(update={"attempt": outcome.attempt + 1, "slot": datetime.now(UTC)})
        self.jobs[outcome.job_id] = again
        await emit(self._producer, self._topics, again)

    def remember(self, due: JobDue) -> None:
        self.jobs[due.job_id] = due


async def emit(producer: AIOKafkaProducer, topics: TopicRegistry, due: JobDue) -> None:
    await producer.send_and_wait(topics.publish(due.platform), encode(due), key=due.job_id.encode())


def job(platform: str, channel: str, n: int, tag: str) -> JobDue:
    content_id = f"{tag}{n:06d}"
    return JobDue(
        event_id=uuid.uuid4().hex,
        occurred_at=datetime.now(UTC),
        job_id=job_id_for(content_id, channel),
        content_id=content_id,
        channel=channel,
        platform=platform,
        attempt=1,
        slot=datetime.now(UTC),
        content=Content(text=f"Bench {tag} post {n}"),
    )


async def warm_up(
    state: FakeState, channels: list[Channel], topics: TopicRegistry, producer: AIOKafkaProducer
) -> None:
    """One job per account, published and then forgotten: group joined, ledger restored, pools warm."""
    tag = "warmup" + uuid.uuid4().hex[:6]
    for n, channel in enumerate(channels):
        await emit(producer, topics, job(channel.platform, channel.id, n, tag))
    deadline = time.monotonic() + 60
    while sum(1 for p in state.posts if tag in p.text) < len(channels):
        if time.monotonic() > deadline:
            raise RuntimeError("the publisher did not publish the warm-up jobs within 60 s")
        await asyncio.sleep(0.2)
    state.reset()


def channels_for(platform: str, base: str, count: int) -> list[Channel]:
    return [
        Channel(
            id=f"{platform}-{i}",
            platform=platform,
            account=f"{platform}-{i}",
            base_url=f"{base}/{platform}",
            secret=f"{platform}-{i}",
            options={"chat_id": f"@bench_{i}"} if platform == "telegram" else {},
            min_gap_minutes=0,
        )
        for i in range(count)
    ]


@asynccontextmanager
async def publisher(
    bootstrap: str, platform: str, accounts: int, limits: tuple[Limit, ...]
) -> AsyncIterator[tuple[Platform, list[Channel], TopicRegistry, AIOKafkaProducer, DelayService]]:
    topics = TopicRegistry(prefix=f"bench{uuid.uuid4().hex[:8]}.")
    await ensure_topics(bootstrap, topics.specs())
    tokens = {f"{platform}-{i}": f"tok{i}-{uuid.uuid4().hex}" for i in range(accounts)}
    async with fakes(tokens) as (base, platform_fakes):
        channels = channels_for(platform, base, accounts)
        producer = make_producer(bootstrap, "bench-publisher")
        await producer.start()
        stop = asyncio.Event()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                worker = PublisherWorker(
                    bootstrap=bootstrap,
                    topics=topics,
                    group=f"bench-{uuid.uuid4().hex[:6]}",
                    platform=platform,
                    channels=ChannelDirectory(channels=tuple(channels)),
                    adapter=build_adapter(platform, session),
                    secrets=SecretStore({name: Credentials(token) for name, token in tokens.items()}),
                    producer=producer,
                    limits=RateLimits({c.id: limits for c in channels}),
                    retry=RetryPolicy(),
                )
                delay = DelayService(bootstrap, topics, producer)
                tasks = [asyncio.create_task(worker.run(stop)), asyncio.create_task(delay.run(stop))]
                try:
                    await warm_up(platform_fakes.states[platform], channels, topics, producer)
                    yield platform_fakes, channels, topics, producer, delay
                finally:
                    stop.set()
                    await asyncio.gather(*tasks)
        finally:
            await producer.stop()


async def rate(
    bootstrap: str, platform: str, limit: int, window: timedelta, scale: int, windows: int
) -> dict[str, Any]:
    scaled = window / scale
    backlog = limit * windows + limit // 2
    async with publisher(bootstrap, platform, 1, (Limit(limit, scaled),)) as (
        fk,
        channels,
        topics,
        producer,
        delay,
    ):
        state = fk.states[platform]
        if platform == "telegram":
            state.per_chat = SlidingWindow(limit, scaled)  # type: ignore[attr-defined]
        else:
            state.statuses = SlidingWindow(limit, scaled)  # type: ignore[attr-defined]
            state.requests_per_token = SlidingWindow(300, timedelta(minutes=5) / scale)  # type: ignore[attr-defined]
        tag = uuid.uuid4().hex[:6]
        jobs = [job(platform, channels[0].id, n, tag) for n in range(backlog)]
        for due in jobs:
            delay.remember(due)
        await asyncio.gather(*(emit(producer, topics, due) for due in jobs))
        deadline = time.monotonic() + scaled.total_seconds() * (windows + 2) + 30
        while time.monotonic() < deadline:
            created = sorted(p.created_at for p in state.posts)
            if created and created[-1] - created[0] >= scaled * windows:
                break
            await asyncio.sleep(0.2)
        created = sorted(p.created_at for p in state.posts)
    first = created[0]
    within = sum(1 for c in created if c - first < scaled * windows)
    allowed = limit * windows
    return {
        "scenario": f"rate/{platform}",
        "limit": limit,
        "real_window_s": window.total_seconds(),
        "time_scale": scale,
        "window_s": scaled.total_seconds(),
        "windows": windows,
        "backlog": backlog,
        "posts_in_windows": within,
        "allowed_in_windows": allowed,
        "rate_fraction": round(within / allowed, 4),
        "violations": sum(n for (p, status), n in fk.statuses.items() if p == platform and status == 429),
        "handed_back_to_scheduler": delay.bounced,
    }


async def latency(bootstrap: str, platform: str, accounts: int, waves: int, wave_s: float) -> dict[str, Any]:
    async with publisher(bootstrap, platform, accounts, ()) as (fk, channels, topics, producer, _):
        state = fk.states[platform]
        for name in ("statuses", "requests_per_token", "uploads", "per_chat"):
            if hasattr(state, name):
                setattr(state, name, UNLIMITED)
        tag = uuid.uuid4().hex[:6]
        due_at: dict[str, datetime] = {}
        started = time.monotonic()
        for w in range(waves):
            await asyncio.sleep(max(0.0, started + w * wave_s - time.monotonic()))
            wave = [job(platform, ch.id, w * accounts + i, tag) for i, ch in enumerate(channels)]
            for due in wave:
                due_at[due.content.text or ""] = due.slot
            await asyncio.gather(*(emit(producer, topics, due) for due in wave))
        deadline = time.monotonic() + 60
        while len(state.posts) < len(due_at) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the fake
            await asyncio.sleep(0.2)
        lags = sorted(
            (p.created_at - due_at[p.text]).total_seconds() * 1000 for p in state.posts if p.text in due_at
        )

    def pct(q: float) -> float:
        return round(lags[min(len(lags) - 1, math.ceil(q * len(lags)) - 1)], 1)

    return {
        "scenario": f"latency/{platform}",
        "accounts": accounts,
        "waves": waves,
        "wave_s": wave_s,
        "jobs": len(due_at),
        "published": len(lags),
        "due_to_call_ms": {
            "p50": pct(0.50),
            "p90": pct(0.90),
            "p99": pct(0.99),
            "max": round(lags[-1], 1),
            "mean": round(statistics.fmean(lags), 1),
        },
        "violations": sum(n for (p, status), n in fk.statuses.items() if p == platform and status == 429),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["rate", "latency"])
    args = parser.parse_args(argv)
    with own_broker("publisher") as bootstrap:
        return asyncio.run(run_scenarios(bootstrap, args.only))


async def run_scenarios(bootstrap: str, only: str | None) -> int:
    scenarios = []
    if only in (None, "rate"):
        # Telegram: 20 a minute per chat (§4), minutes shortened to 6 s.
        scenarios.append(rate(bootstrap, "telegram", 20, timedelta(minutes=1), scale=10, windows=5))
        # Mastodon: 300 statuses per 3 h per account (§5), 3 h shortened to 10.8 s.
        scenarios.append(rate(bootstrap, "mastodon", 300, timedelta(hours=3), scale=1000, windows=2))
    if only in (None, "latency"):
        scenarios.append(latency(bootstrap, "mastodon", accounts=10, waves=40, wave_s=0.25))
        scenarios.append(latency(bootstrap, "telegram", accounts=10, waves=40, wave_s=0.25))
    for scenario in scenarios:
        result = await scenario
        result["load_average_1m"] = round(os.getloadavg()[0], 2)  # a shared 2-core box: context
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

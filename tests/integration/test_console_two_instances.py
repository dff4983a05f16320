"""Two console instances acting on the same job at once: exactly one action takes effect.

Two console apps, each with its own feeder, claims and producer (as two processes have), follow
the real broker. A settled job is on ``schedule.jobs``; both consoles are asked at the same
moment to act on it (retry, discard or mark as published). Exactly one answers 202, the other
409 (problem+json, ``action_in_progress``); and a plan holding the job, fed every decision the
topic holds in log order, applies exactly one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer

from services.console.claims import DecisionOrder
from services.console.feeder import Feeder
from services.console.http_api import create_app
from services.console.http_deps import CLAIM_HOLD, Deps
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from shared.channels import ChannelDirectory
from shared.codec import encode
from shared.events import Content, Event, JobPlanned, JobState, OperatorDecided
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.kafka import ensure_topics, make_producer, send_event
from shared.topics import TopicRegistry
from tests.integration.console_app import console_deps
from tests.integration.ingest_app import CHANNELS_FILE, read_events
from tests.integration.poison_kit import eventually

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
CHANNEL = "x-demo"
KEYS = KeyStore(
    records=(
        KeyRecord(digest=digest_key("key-opa"), person="opa", role=Role.OPERATOR, channels=frozenset({"*"})),
        KeyRecord(digest=digest_key("key-tia"), person="tia", role=Role.OPERATOR, channels=frozenset({"*"})),
    )
)
PAIRS = [("discard", "retry"), ("retry", "mark_published"), ("mark_published", "discard"), ("retry", "retry")]


@dataclass
class Instance:
    client: TestClient[web.Request, web.Application]
    deps: Deps
    feeder: Feeder

    async def act(self, job_id: str, action: str, key: str) -> tuple[int, str, dict[str, object]]:
        body = {"action": action, "reason": "checked the channel", "url": "https://x.com/warta/status/9"}
        if action != "mark_published":
            body.pop("url")
        headers = {"Authorization": f"Bearer key-{key}", "Content-Type": "application/json"}
        async with self.client.post(
            f"/v1/jobs/{job_id}/actions", data=json.dumps(body), headers=headers
        ) as resp:
            return resp.status, resp.content_type, json.loads(await resp.text())


@contextlib.asynccontextmanager
async def instance(
    bootstrap: str, topics: TopicRegistry, settings: ConsoleSettings
) -> AsyncIterator[Instance]:
    producer = make_producer(bootstrap, "test-console-two")
    await producer.start()
    session = aiohttp.ClientSession()
    view = ConsoleView()
    order = DecisionOrder(CLAIM_HOLD)

    def fold(event: Event) -> None:
        order.seen(event)
        view.apply(event)

    feeder = Feeder(
        bootstrap, [topics.schedule_jobs, topics.publish_outcomes], fold, dead_topic=topics.publish_dead
    )
    deps = console_deps(
        settings=settings,
        topics=topics,
        channels=settings.load_channels(),
        keys=KEYS,
        producer=producer,
        session=session,
        clock=lambda: datetime.now(UTC),
        view=view,
    )
    deps.order, deps.read_past = order, feeder.read_past
    stop = asyncio.Event()
    task = asyncio.create_task(feeder.run(stop))
    client = TestClient(TestServer(create_app(deps)))
    await client.start_server()
    try:
        yield Instance(client, deps, feeder)
    finally:
        stop.set()
        await task
        await client.close()
        await session.close()
        await producer.stop()


def settled(n: int) -> JobPlanned:
    return JobPlanned(
        event_id=f"sch-{n}",
        occurred_at=NOW,
        job_id=f"two{n}:{CHANNEL}",
        content_id=f"two{n}",
        channel=CHANNEL,
        platform="x",
        state=JobState.UNCONFIRMED,
        slot=NOW,
        attempt=1,
        arrived_at=NOW,
        approved_at=NOW,
        content=Content(text="Gubernur meresmikan jembatan baru."),
    )


async def _write_jobs(producer: AIOKafkaProducer, topics: TopicRegistry, jobs: list[JobPlanned]) -> None:
    for job in jobs:
        await send_event(producer, topics.schedule_jobs, job.job_id, job)


async def test_two_consoles_acting_on_one_job_at_once_one_wins_the_other_gets_409(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    names = {topics.schedule_jobs, topics.publish_outcomes, topics.publish_dead}
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name in names])
    settings = ConsoleSettings(
        kafka_bootstrap=kafka_bootstrap, topic_prefix=topics.prefix, channels_file=CHANNELS_FILE
    )
    jobs = [settled(n) for n in range(len(PAIRS))]
    writer = make_producer(kafka_bootstrap, "test-console-two-jobs")
    await writer.start()
    try:
        await _write_jobs(writer, topics, jobs)
    finally:
        await writer.stop()
    async with (
        instance(kafka_bootstrap, topics, settings) as one,
        instance(kafka_bootstrap, topics, settings) as two,
    ):
        await eventually(
            lambda: all(j.job_id in one.deps.view.jobs and j.job_id in two.deps.view.jobs for j in jobs),
            "both consoles to see the jobs",
        )
        answers = []
        for job, (first, second) in zip(jobs, PAIRS, strict=True):
            answers.append(
                await asyncio.gather(one.act(job.job_id, first, "opa"), two.act(job.job_id, second, "tia"))
            )

    for (a, b), pair in zip(answers, PAIRS, strict=True):
        assert sorted([a[0], b[0]]) == [202, 409], (pair, a, b)
        loser = a if a[0] == 409 else b
        assert loser[1] == "application/problem+json"
        errors = loser[2]["errors"]
        assert isinstance(errors, list)
        assert errors[0]["rule"] == "action_in_progress"
        assert "came first" in errors[0]["message"] or "under way" in errors[0]["message"]

    # Both decisions of each pair are on the topic; the scheduler applies one of each.
    decisions = [
        e
        for e in await read_events(kafka_bootstrap, topics.publish_outcomes)
        if isinstance(e, OperatorDecided)
    ]
    assert len(decisions) == 2 * len(PAIRS)
    plan = Plan(
        ChannelDirectory.model_validate({"channels": [{"id": CHANNEL, "platform": "x"}]}),
        NaiveChooser(),
        PlanSettings(),
    )
    rows = [restore_row(encode(job), 0) for job in jobs]
    plan.store.put_raw([r for r in rows if r is not None])
    plan.channel_plan(CHANNEL)
    plan.index_restored([0])
    applied: dict[str, int] = {}
    for decision in decisions:
        fx = plan.handle(CHANNEL, decision, datetime.now(UTC))
        applied[decision.job_id] = applied.get(decision.job_id, 0) + len(fx.jobs)
    assert applied == {job.job_id: 1 for job in jobs}
    # And the one applied is the one its console answered 202 for.
    for job, (a, _) in zip(jobs, answers, strict=True):
        won = "opa" if a[0] == 202 else "tia"
        earliest = next(d for d in decisions if d.job_id == job.job_id)
        assert earliest.actor == won

"""A newer version of a topic supersedes the older one on every channel, over the real broker.

The router hands a version to every channel, also those it does not name; such a channel keeps
what it heard in its snapshot on ``schedule.channels``. So an older version that reaches the
scheduler after the newer one, and after a planner restart, is superseded on every channel it
names, including one the newer version left out.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from services.scheduler.router import Router
from shared.channels import Channel, ChannelDirectory
from shared.events import Approval, ChannelStateRecorded, ChannelVariant, Content, ContentApproved, JobState
from shared.kafka import send_event
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, eventually, on_broker, read_all

pytestmark = pytest.mark.integration

CH, X = "mastodon-demo", "x-demo"
DIRECTORY = ChannelDirectory(
    channels=(
        Channel(id=CH, platform="mastodon", timezone="Asia/Makassar"),
        Channel(id=X, platform="x", timezone="Asia/Jakarta"),
    )
)


def version(content_id: str, channels: tuple[str, ...], approved_at: datetime) -> ContentApproved:
    return approved(
        content_id,
        CH,
        topic_key="jembatan",
        approval=Approval(approved_by="yuyun", approved_at=approved_at),
        variants=tuple(
            ChannelVariant(channel=c, content=Content(text=f"{content_id} on {c}")) for c in channels
        ),
    )


def planner(bootstrap: str, topics: TopicRegistry, group: str, producer: AIOKafkaProducer) -> Planner:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings())
    return Planner(bootstrap, topics, group, DIRECTORY, plan, producer, tick_s=0.1)


async def test_an_older_version_after_the_newer_and_a_restart_is_superseded_on_every_channel(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    # What the router reads, and what the planner reads and writes.
    routed = (
        topics.content_approved,
        topics.content_control,
        topics.publish_outcomes,
        topics.engagement_observed,
    )
    planned = (topics.schedule_commands, topics.schedule_jobs, topics.schedule_channels, topics.publish_dead)
    names = [*routed, *planned, *(topics.publish(p) for p in DIRECTORY.platforms)]
    now = datetime.now(UTC)
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        stop = asyncio.Event()
        router = Router(kafka_bootstrap, topics, f"router-{run_id}", DIRECTORY, producer)
        first = planner(kafka_bootstrap, topics, f"planner-{run_id}", producer)
        tasks = [asyncio.create_task(router.run(stop)), asyncio.create_task(first.run(stop))]
        try:
            # The correction names Mastodon only; x-demo hears of it and keeps it.
            await send_event(producer, topics.content_approved, "v2", version("v2", (CH,), now))
            snapshots = await read_all(
                kafka_bootstrap,
                topics.schedule_channels,
                lambda evs: any(isinstance(e, ChannelStateRecorded) and e.topics for e in evs),
            )
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        assert [
            (s.channel, s.topics["jembatan"].content_id)
            for s in snapshots
            if isinstance(s, ChannelStateRecorded)
        ] == [(X, "v2")]

        stop = asyncio.Event()
        router = Router(kafka_bootstrap, topics, f"router-{run_id}", DIRECTORY, producer)
        second = planner(kafka_bootstrap, topics, f"planner-{run_id}", producer)
        tasks = [asyncio.create_task(router.run(stop)), asyncio.create_task(second.run(stop))]
        try:
            await eventually(lambda: second.restores > 0, "the restore of the plan")
            # The original, approved ten minutes before the correction, reaches the scheduler now.
            await send_event(
                producer, topics.content_approved, "v1", version("v1", (CH, X), now - timedelta(minutes=10))
            )
            await eventually(
                lambda: all(second.plan.job(f"v1:{c}") is not None for c in (CH, X)), "the original's jobs"
            )
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        for channel in (CH, X):
            job = second.plan.job(f"v1:{channel}")
            assert job is not None
            assert (job.state, job.superseded_by) == (JobState.SUPERSEDED, "v2")

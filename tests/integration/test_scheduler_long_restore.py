"""A restore longer than the group's session timeout costs one restore, not a rebalance and a
second one.

aiokafka sends no heartbeat while ``on_partitions_assigned`` runs: a planner that restored inside
that callback for longer than the session timeout was evicted from the group, and the rebalance
that followed restored every partition again (a million jobs took a minute: twice, with the
firing held back meanwhile). On the real broker, a planner whose restore takes well over its
session timeout keeps its membership and restores once.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from shared.channels import Channel, ChannelDirectory
from shared.kafka import send_event
from shared.partitioning import partition_for
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, eventually, on_broker

pytestmark = pytest.mark.integration

CHANNELS = tuple(Channel(id=f"slow-{i}", platform="mastodon", timezone="Asia/Makassar") for i in range(3))
DIRECTORY = ChannelDirectory(channels=CHANNELS)
SESSION_MS = 6_000  # the broker's smallest (group.min.session.timeout.ms)
RESTORE_S = 10.0  # well past the session timeout


class SlowRestorePlanner(Planner):
    """A planner whose restores take ``RESTORE_S`` longer, as a million jobs do; counts them."""

    started: int = 0

    async def restore(self, partitions: set[int]) -> None:
        self.started += 1
        await asyncio.sleep(RESTORE_S)
        await super().restore(partitions)


def _topics(topics: TopicRegistry) -> list[str]:
    return [
        topics.schedule_commands,
        topics.schedule_jobs,
        topics.schedule_channels,
        topics.publish("mastodon"),
        topics.publish_outcomes,
        topics.publish_dead,
    ]


def _planner(
    bootstrap: str, topics: TopicRegistry, group: str, producer: AIOKafkaProducer
) -> SlowRestorePlanner:
    plan = Plan(
        DIRECTORY, NaiveChooser(), PlanSettings(), partition_of=lambda c: partition_for(c, topics.partitions)
    )
    return SlowRestorePlanner(
        bootstrap, topics, group, DIRECTORY, plan, producer, tick_s=0.1, session_timeout_ms=SESSION_MS
    )


async def test_a_restore_longer_than_the_session_timeout_happens_once(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    async with on_broker(kafka_bootstrap, topics, _topics(topics)) as producer:
        for i, channel in enumerate(CHANNELS):
            event = approved(f"s{i}", channel.id)
            p = partition_for(channel.id, topics.partitions)
            await send_event(producer, topics.schedule_commands, channel.id, event, partition=p)
        planner = _planner(kafka_bootstrap, topics, f"slow-{run_id}", producer)
        stop = asyncio.Event()
        task = asyncio.create_task(planner.run(stop))
        try:
            await eventually(lambda: task.done() or planner.plan.store.count() == 3, "the jobs planned")
            # Long enough for an evicted member's next heartbeat to fail and rejoin.
            await asyncio.sleep(4 * SESSION_MS / 15_000 + 3)
        finally:
            stop.set()
            await task

    assert planner.started == 1
    assert planner.restores == 1

"""The scheduler's consumers on the real broker: a record that raises is dead-lettered, never fatal.

For the router and the planner: a record whose handling raises (not a decode error), then a good
one. The bad one is on ``publish.dead`` with its error and origin, the good one is handled, the
consumer still runs and its group's offset is committed past both. A year-2199 embargo, written
straight onto the topic as ingest would never let it through, is planned as unschedulable. A
planner restarted on the same group does not meet the poison record again, and the letter,
replayed after the fix, is planned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from services.console.replay import Reappend, reappend
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from services.scheduler.router import Router
from shared.channels import Channel, ChannelDirectory
from shared.events import JobPlanned, JobState, OutcomeStatus, PublishOutcome
from shared.kafka import send_event
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, committed, eventually, letters, on_broker, read_all
from tests.unit.test_plan_poison import PoisonedChooser

pytestmark = pytest.mark.integration

CH = "mastodon-demo"
BROKEN = "broken-demo"
CHANNELS = (Channel(id=CH, platform="mastodon", timezone="Asia/Makassar"),)


class BrokenDirectory(ChannelDirectory):
    """A directory whose entry for one channel is corrupt: looking it up raises."""

    def get(self, channel_id: str) -> Channel | None:
        if channel_id == BROKEN:
            raise LookupError(f"the configuration entry of {channel_id} is corrupt")
        return super().get(channel_id)


async def test_the_router_dead_letters_a_record_it_cannot_route_and_goes_on(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    names = [
        topics.content_approved,
        topics.content_control,
        topics.publish_outcomes,
        topics.engagement_observed,
        topics.schedule_commands,
        topics.publish_dead,
    ]
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        group = f"router-{run_id}"
        router = Router(kafka_bootstrap, topics, group, BrokenDirectory(channels=CHANNELS), producer)
        await send_event(producer, topics.content_approved, "bad", approved("bad", BROKEN), partition=0)
        await send_event(producer, topics.content_approved, "good", approved("good", CH), partition=0)
        stop = asyncio.Event()
        task = asyncio.create_task(router.run(stop))
        try:
            commands = await read_all(kafka_bootstrap, topics.schedule_commands, lambda evs: len(evs) >= 1)
            (letter,) = await letters(kafka_bootstrap, topics)
            offset = await committed(kafka_bootstrap, group, TopicPartition(topics.content_approved, 0), 2)
            assert not task.done()
        finally:
            stop.set()
            await task

    assert [getattr(c, "content_id", None) for c in commands] == ["good"]
    assert (letter.consumer, letter.error_type) == ("scheduler-router", "LookupError")
    assert "configuration entry of broken-demo is corrupt" in letter.reason
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        topics.content_approved,
        0,
        0,
    )
    assert letter.content_id == "bad"
    assert letter.raw_complete
    assert offset == 2


def _planner(
    bootstrap: str, topics: TopicRegistry, group: str, chooser: PoisonedChooser, producer: AIOKafkaProducer
) -> Planner:
    directory = ChannelDirectory(channels=CHANNELS)
    plan = Plan(directory, chooser, PlanSettings())
    return Planner(bootstrap, topics, group, directory, plan, producer, tick_s=0.1)


def _planned(events: Sequence[object]) -> dict[str, JobPlanned]:
    return {e.content_id: e for e in events if isinstance(e, JobPlanned)}


async def test_the_planner_dead_letters_a_command_that_raises_and_survives_a_year_2199_embargo(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    names = [
        topics.schedule_commands,
        topics.schedule_jobs,
        topics.schedule_channels,
        topics.publish_outcomes,
        topics.publish_dead,
        topics.publish("mastodon"),
    ]
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        group = f"planner-{run_id}"
        chooser = PoisonedChooser()
        chooser.poisoned.add(f"bad:{CH}")
        far = approved("far", CH, not_before=datetime(2199, 12, 31, 23, 0, tzinfo=UTC))
        for event in (far, approved("bad", CH), approved("good", CH)):
            await send_event(producer, topics.schedule_commands, CH, event, partition=0)

        stop = asyncio.Event()
        first = _planner(kafka_bootstrap, topics, group, chooser, producer)
        task = asyncio.create_task(first.run(stop))
        try:
            jobs = _planned(await read_all(kafka_bootstrap, topics.schedule_jobs, lambda e: len(e) >= 2))
            (letter,) = await letters(kafka_bootstrap, topics)
            offset = await committed(kafka_bootstrap, group, TopicPartition(topics.schedule_commands, 0), 3)
            assert not task.done()
        finally:
            stop.set()
            await task

        assert jobs["good"].state is JobState.SCHEDULED
        assert jobs["far"].state is JobState.UNSCHEDULABLE
        assert jobs["far"].explanation is not None
        assert jobs["far"].explanation.binding_constraint == "not_before"
        assert "bad" not in jobs
        assert (letter.consumer, letter.error_type) == ("scheduler-planner", "ArithmeticError")
        assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
            topics.schedule_commands,
            0,
            1,
        )
        assert letter.source_key == CH
        assert offset == 3
        outcomes = await read_all(kafka_bootstrap, topics.publish_outcomes, lambda e: len(e) >= 1)
        assert [(o.job_id, o.status) for o in outcomes if isinstance(o, PublishOutcome)] == [
            (f"far:{CH}", OutcomeStatus.UNSCHEDULABLE)
        ]

        # Restarted on the same group, with the bug still there: the poison is behind it.
        await send_event(producer, topics.schedule_commands, CH, approved("after", CH), partition=0)
        stop = asyncio.Event()
        second = _planner(kafka_bootstrap, topics, group, chooser, producer)
        task = asyncio.create_task(second.run(stop))
        try:
            await eventually(lambda: second.plan.job(f"after:{CH}") is not None, "the command after restart")
            # (the planner may handle commands while its restore still runs: wait for the restore)
            await eventually(lambda: second.restore_seconds > 0, "the restore of the plan")
            assert second.plan.job(f"good:{CH}") is not None  # restored from the changelog
            # After the fix, the operator replays the letter: the record goes back onto its partition.
            chooser.poisoned.clear()
            write = reappend(letter, topics)
            assert isinstance(write, Reappend)
            await producer.send_and_wait(write.topic, write.value, key=write.key, partition=write.partition)
            await eventually(lambda: second.plan.job(f"bad:{CH}") is not None, "the replayed command")
            assert not task.done()
        finally:
            stop.set()
            await task
        again = await letters(kafka_bootstrap, topics)
        assert [x.source_offset for x in again] == [1]  # never dead-lettered a second time

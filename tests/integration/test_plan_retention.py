"""Finished jobs leave the compacted plan: tombstones on the real broker, and restores without them.

A planner plans six jobs and three are withdrawn (finished); one with a kept store writes its
checkpoint. Another worker of the group, whose clock is eight days later, forgets the three with
tombstones on ``schedule.jobs``. The first one, restarted warm on its file, reads the tombstones
in the changelog's tail and drops the three; a cold restore never sees them either. A redelivered
approval of a forgotten job is dead-lettered, not planned again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from services.scheduler.restore import KeptStore
from shared.channels import Channel, ChannelDirectory
from shared.events import ContentApproved, ControlAction, ControlIssued, DeadLettered, Event, job_id_for
from shared.kafka import send_event
from shared.partitioning import partition_for
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, eventually, on_broker, read_all

pytestmark = pytest.mark.integration

CHANNELS = tuple(Channel(id=f"ret-{i}", platform="mastodon", timezone="Asia/Makassar") for i in range(6))
DIRECTORY = ChannelDirectory(channels=CHANNELS)
WEEK = timedelta(days=7)
LATER = timedelta(days=8)


def _planner(
    bootstrap: str,
    topics: TopicRegistry,
    group: str,
    producer: AIOKafkaProducer,
    kept: KeptStore | None,
    clock: Callable[[], datetime],
) -> Planner:
    plan = Plan(
        DIRECTORY,
        NaiveChooser(),
        PlanSettings(retention=WEEK),
        store=kept.store if kept is not None else None,
        partition_of=lambda c: partition_for(c, topics.partitions),
    )
    return Planner(
        bootstrap,
        topics,
        group,
        DIRECTORY,
        plan,
        producer,
        tick_s=0.1,
        retention_sweep_s=0.2,
        clock=clock,
        kept=kept,
    )


async def _command(producer: AIOKafkaProducer, topics: TopicRegistry, channel: str, event: Event) -> None:
    await send_event(
        producer,
        topics.schedule_commands,
        channel,
        event,
        partition=partition_for(channel, topics.partitions),
    )


async def _run_until(planner: Planner, done: Callable[[Planner], bool]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(planner.run(stop))
    try:
        await eventually(lambda: task.done() or done(planner), "the planner to get there")
    finally:
        stop.set()
        await task


async def _tombstones(bootstrap: str, topic: str) -> list[str]:
    """Keys of the null-value records on ``topic``, read committed from the beginning."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    keys: list[str] = []
    try:
        batch = await consumer.getmany(timeout_ms=3000)
        while batch:
            keys += [r.key.decode() for rs in batch.values() for r in rs if r.value is None and r.key]
            batch = await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()
    return sorted(keys)


def _ids(planner: Planner) -> set[str]:
    store = planner.plan.store
    out = set()
    for ref, *_ in store.firing({0, 1, 2}):
        job = store.by_ref(ref)
        assert job is not None
        out.add(job.job_id)
    return out


async def test_finished_jobs_get_tombstones_and_restores_go_without_them(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str, tmp_path: Path
) -> None:
    names = [
        topics.schedule_commands,
        topics.schedule_jobs,
        topics.schedule_channels,
        topics.publish_outcomes,
        topics.publish_dead,
        topics.publish("mastodon"),
    ]
    path = tmp_path / "plan.sqlite3"
    now = datetime.now(UTC)
    approvals: dict[str, ContentApproved] = {}
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        group = f"planner-{run_id}"
        for i, channel in enumerate(CHANNELS):
            # A month ahead: nothing fires, even on the clock a week later.
            approvals[channel.id] = approved(f"r{i}", channel.id, not_before=now + timedelta(days=30))
            await _command(producer, topics, channel.id, approvals[channel.id])
        for i, channel in enumerate(CHANNELS[:3]):
            withdraw = ControlIssued(
                event_id=f"w{i}",
                occurred_at=now,
                action=ControlAction.WITHDRAW,
                content_id=f"r{i}",
                by="opa",
                reason="t",
            )
            await _command(producer, topics, channel.id, withdraw)
        finished = {job_id_for(f"r{i}", c.id) for i, c in enumerate(CHANNELS[:3])}

        kept = KeptStore.open(path)
        first = _planner(kafka_bootstrap, topics, group, producer, kept, lambda: datetime.now(UTC))
        await _run_until(
            first,
            lambda p: (
                p.plan.store.count() == 6
                and all(
                    (j := p.plan.job(job_id)) is not None and j.state.value == "withdrawn"
                    for job_id in finished
                )
            ),
        )
        assert first.forgotten == 0  # finished only just now
        await first.checkpoint()
        kept.close()

        later = _planner(kafka_bootstrap, topics, group, producer, None, lambda: datetime.now(UTC) + LATER)
        await _run_until(later, lambda p: p.forgotten == 3)
        assert _ids(later).isdisjoint(finished)
        assert await _tombstones(kafka_bootstrap, topics.schedule_jobs) == sorted(finished)

        kept = KeptStore.open(path)
        warm = _planner(kafka_bootstrap, topics, group, producer, kept, lambda: datetime.now(UTC))
        await _run_until(warm, lambda p: p.restore_seconds > 0)
        warm_ids, warm_partitions = _ids(warm), warm.warm_partitions
        await warm.checkpoint()
        kept.close()

        # A cold restore, a week later, meets a redelivered approval of a forgotten job.
        await _command(producer, topics, CHANNELS[0].id, approvals[CHANNELS[0].id])
        cold = _planner(kafka_bootstrap, topics, group, producer, None, lambda: datetime.now(UTC) + LATER)
        letters: list[Event] = []

        async def dead_lettered() -> None:
            letters.extend(await read_all(kafka_bootstrap, topics.publish_dead, lambda e: len(e) >= 1))

        reader = asyncio.create_task(dead_lettered())
        await _run_until(cold, lambda p: reader.done())
        cold_ids = _ids(cold)

    assert warm_partitions == {0, 1, 2}
    assert warm_ids == cold_ids == {job_id_for(f"r{i}", c.id) for i, c in enumerate(CHANNELS)} - finished
    assert len(letters) == 1
    letter = letters[0]
    assert isinstance(letter, DeadLettered)
    assert "retention" in letter.reason

"""A planner that kept its store replays only the changelogs' tail, and ends with the plan a full
restore builds; so does one that stopped without its clean-stop checkpoint (a crash: each step
committed its claims with its rows), and one handed back its partitions by a rebalance.

On the real broker: a planner with a kept store plans approvals and a pause, stops cleanly and
writes its checkpoint. While it is down another worker of the group (no kept store) takes the
partitions, plans more and resumes the paused channel. The first one, restarted on the same file,
replays exactly the records written after its checkpoint; its jobs and channel flags equal those
of a planner restored from the beginning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from services.scheduler.restore import KeptStore
from services.scheduler.store import JobStore
from shared.channels import Channel, ChannelDirectory
from shared.events import ControlAction, ControlIssued, Event
from shared.kafka import log_bounds, send_event
from shared.partitioning import partition_for
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, eventually, on_broker

pytestmark = pytest.mark.integration

CHANNELS = tuple(Channel(id=f"warm-{i}", platform="mastodon", timezone="Asia/Makassar") for i in range(6))
DIRECTORY = ChannelDirectory(channels=CHANNELS)
ALL = {0, 1, 2}


def _planner(
    bootstrap: str, topics: TopicRegistry, group: str, producer: AIOKafkaProducer, kept: KeptStore | None
) -> Planner:
    plan = Plan(
        DIRECTORY,
        NaiveChooser(),
        PlanSettings(),
        store=kept.store if kept is not None else None,
        partition_of=lambda c: partition_for(c, topics.partitions),
    )
    return Planner(bootstrap, topics, group, DIRECTORY, plan, producer, tick_s=0.1, kept=kept)


async def _command(producer: AIOKafkaProducer, topics: TopicRegistry, channel: str, event: Event) -> None:
    p = partition_for(channel, topics.partitions)
    await send_event(producer, topics.schedule_commands, channel, event, partition=p)


def _control(action: ControlAction, channel: str, n: int) -> ControlIssued:
    return ControlIssued(
        event_id=f"ctl-{n}",
        occurred_at=datetime.now(UTC),
        action=action,
        channels=(channel,),
        by="opa",
        reason="test",
    )


async def _run_until(planner: Planner, done: Callable[[Planner], bool]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(planner.run(stop))
    try:
        await eventually(lambda: task.done() or done(planner), "the planner to catch up")
    finally:
        stop.set()
        await task


def _jobs(store: JobStore) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for ref, *_ in store.firing(ALL):
        job = store.by_ref(ref)
        assert job is not None
        out[job.job_id] = job.model_dump(mode="json")
    return out


def _flags(plan: Plan) -> dict[str, tuple[bool, str | None]]:
    out: dict[str, tuple[bool, str | None]] = {}
    for c in CHANNELS:
        cp = plan.channel_plan(c.id)
        assert cp is not None
        out[c.id] = (cp.paused, cp.pause_reason)
    return out


def _planner_topics(topics: TopicRegistry) -> list[str]:
    """What a planner reads and writes, with the one platform's due topic the tests use."""
    return [
        topics.schedule_commands,
        topics.schedule_jobs,
        topics.schedule_channels,
        topics.publish_outcomes,
        topics.publish_dead,
        topics.publish("mastodon"),
    ]


async def _ends(bootstrap: str, topics: TopicRegistry) -> int:
    tps = [TopicPartition(topics.schedule_jobs, p) for p in ALL]
    return sum(end for _, end in (await log_bounds(bootstrap, tps)).values())


async def test_a_restarted_planner_replays_only_the_tail_and_ends_with_the_full_restores_plan(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str, tmp_path: Path
) -> None:
    names = _planner_topics(topics)
    path = tmp_path / "plan.sqlite3"
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        group = f"planner-{run_id}"
        for i in range(24):
            await _command(producer, topics, CHANNELS[i % 6].id, approved(f"a{i}", CHANNELS[i % 6].id))
        await _command(producer, topics, CHANNELS[0].id, _control(ControlAction.PAUSE, CHANNELS[0].id, 1))

        kept = KeptStore.open(path)
        first = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(first, lambda p: p.plan.store.count() == 24 and _flags(p.plan)["warm-0"][0])
        await first.checkpoint()
        assert set(kept.store.claims()) == {(t, p) for t in names[1:3] for p in ALL}
        kept.close()
        checkpointed = await _ends(kafka_bootstrap, topics)

        # While it is down, another worker of the group plans more and resumes warm-0.
        for i in range(24, 30):
            await _command(producer, topics, CHANNELS[i % 6].id, approved(f"a{i}", CHANNELS[i % 6].id))
        await _command(producer, topics, CHANNELS[0].id, _control(ControlAction.RESUME, CHANNELS[0].id, 2))
        other = _planner(kafka_bootstrap, topics, group, producer, None)
        await _run_until(other, lambda p: p.plan.store.count() == 30 and not _flags(p.plan)["warm-0"][0])
        tail = await _ends(kafka_bootstrap, topics) - checkpointed
        assert tail >= 6

        kept = KeptStore.open(path)
        assert not kept.store.fresh
        restarted = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(restarted, lambda p: p.restore_seconds > 0)
        warm_jobs, warm_flags = _jobs(restarted.plan.store), _flags(restarted.plan)
        warm_records, warm_partitions = restarted.restored_records, restarted.warm_partitions
        await restarted.checkpoint()
        kept.close()

        cold = _planner(kafka_bootstrap, topics, group, producer, None)  # nothing left to handle
        await _run_until(cold, lambda p: p.restore_seconds > 0)

    assert warm_partitions == ALL
    # Only the records written after the checkpoint: the other worker's new jobs at least, and no
    # more than the offsets since (transaction commit markers take offsets but are no records).
    assert 6 <= warm_records <= tail
    assert len(warm_jobs) == 30
    assert warm_jobs == _jobs(cold.plan.store)
    assert warm_flags == _flags(cold.plan)
    assert warm_flags["warm-0"] == (False, None)


async def test_a_planner_killed_without_its_checkpoint_restarts_warm_with_the_full_restores_plan(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str, tmp_path: Path
) -> None:
    names = _planner_topics(topics)
    path = tmp_path / "plan.sqlite3"
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        group = f"planner-{run_id}"
        for i in range(6):
            await _command(producer, topics, CHANNELS[i].id, approved(f"a{i}", CHANNELS[i].id))
        kept = KeptStore.open(path)
        first = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(first, lambda p: p.plan.store.count() == 6)
        kept.close()  # no clean-stop checkpoint: as if the process died after its last step
        # Restarted, it plans one more, pauses a channel and dies again.
        await _command(producer, topics, CHANNELS[0].id, approved("a6", CHANNELS[0].id))
        await _command(producer, topics, CHANNELS[1].id, _control(ControlAction.PAUSE, CHANNELS[1].id, 1))
        kept = KeptStore.open(path)
        second = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(second, lambda p: p.plan.store.count() == 7 and _flags(p.plan)["warm-1"][0])
        assert second.warm_partitions == ALL
        kept.close()

        kept = KeptStore.open(path)
        assert not kept.store.fresh
        third = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(third, lambda p: p.restore_seconds > 0)
        warm_jobs, warm_flags = _jobs(third.plan.store), _flags(third.plan)
        kept.close()

        cold = _planner(kafka_bootstrap, topics, group, producer, None)
        await _run_until(cold, lambda p: p.restore_seconds > 0)

    assert third.warm_partitions == ALL
    # Its steps' claims reach past its own records: only commit markers, or nothing, are left.
    assert third.restored_records == 0
    assert len(warm_jobs) == 7
    assert warm_jobs == _jobs(cold.plan.store)
    assert warm_flags == _flags(cold.plan)
    assert warm_flags["warm-1"][0]


async def test_a_rebalance_that_hands_back_the_same_partitions_keeps_the_store(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str, tmp_path: Path
) -> None:
    names = _planner_topics(topics)
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        for i in range(6):
            await _command(producer, topics, CHANNELS[i].id, approved(f"a{i}", CHANNELS[i].id))
        kept = KeptStore.open(tmp_path / "plan.sqlite3")
        planner = _planner(kafka_bootstrap, topics, f"planner-{run_id}", producer, kept)
        await _run_until(planner, lambda p: p.plan.store.count() == 6)
        before = _jobs(planner.plan.store)
        # What the group's rebalance listener does when the same partitions come back.
        await planner.revoke(set(ALL))
        await planner.restore(set(ALL))
        after, warm, replayed = _jobs(planner.plan.store), planner.warm_partitions, planner.restored_records
        # Given back only partition 0: the rows of the others are dropped, with their claims.
        await planner.revoke(set(ALL))
        await planner.restore({0})
        kept_partitions, claimed = kept.store.partitions(), {p for _, p in kept.store.claims()}
        kept.close()

    assert warm == ALL
    assert replayed == 0
    assert after == before
    assert kept_partitions <= {0}
    assert claimed == {0}


async def test_a_partition_whose_checkpoint_does_not_match_is_restored_in_full_beside_warm_ones(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str, tmp_path: Path
) -> None:
    names = _planner_topics(topics)
    path = tmp_path / "plan.sqlite3"
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        group = f"planner-{run_id}"
        for i in range(12):
            await _command(producer, topics, CHANNELS[i % 6].id, approved(f"a{i}", CHANNELS[i % 6].id))
        kept = KeptStore.open(path)
        first = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(first, lambda p: p.plan.store.count() == 12)
        await first.checkpoint()
        kept.close()
        # The checkpoint claims more of partition 1 than its log holds (a recreated topic).
        kept = KeptStore.open(path)
        claims = kept.store.claims()
        kept.store.claim({(topics.schedule_jobs, 1): claims[(topics.schedule_jobs, 1)] + 5})
        kept.close()

        kept = KeptStore.open(path)
        restarted = _planner(kafka_bootstrap, topics, group, producer, kept)
        await _run_until(restarted, lambda p: p.restore_seconds > 0)
        warm_jobs, warm_partitions = _jobs(restarted.plan.store), restarted.warm_partitions
        claimed = kept.store.claims()
        kept.close()
        tps = [TopicPartition(t, p) for t in names[1:3] for p in ALL]
        ends = {
            (tp.topic, tp.partition): end for tp, (_, end) in (await log_bounds(kafka_bootstrap, tps)).items()
        }

        cold = _planner(kafka_bootstrap, topics, group, producer, None)
        await _run_until(cold, lambda p: p.restore_seconds > 0)

    assert warm_partitions == ALL - {1}
    assert claimed == ends  # partition 1 rebuilt from the log start, and claimed anew
    assert len(warm_jobs) == 12
    assert warm_jobs == _jobs(cold.plan.store)

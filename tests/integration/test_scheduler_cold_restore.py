"""A cold restore of a changelog that is not compacted yet ends with exactly each job's last word.

On the real broker: a seeded random history of job records on ``schedule.jobs`` (a job written
again and again, tombstoned, written again after its tombstone, and hostile records under real
job keys: bytes that are no JSON, JSON of another event) is restored into an empty kept store,
with store writes a few rows each so that a job's records fall into different writes. The
oracle is the log read in order: a tombstone forgets the job, a readable record replaces it,
an unreadable one changes nothing. The rows must equal the oracle's jobs, and their indexed
columns those of the same jobs written one by one through the plan's own ``put``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition

from bench.scheduler import job as bench_job
from services.scheduler import restore as restore_module
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.restore import KeptStore, Restorer
from services.scheduler.store import SqliteJobStore
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.events import JobPlanned, JobState
from shared.kafka import replay, replay_batches
from shared.partitioning import partition_for
from shared.topics import TopicRegistry
from tests.integration.poison_kit import on_broker

pytestmark = pytest.mark.integration

CHANNELS = tuple(Channel(id=f"cold-{i}", platform="mastodon", timezone="Asia/Makassar") for i in range(5))
DIRECTORY = ChannelDirectory(channels=CHANNELS)
ALL = {0, 1, 2}
BASE = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
History = list[tuple[str, str, bytes | None]]
STATES = tuple(JobState)


def _job(rng: random.Random, n: int, channel: str) -> JobPlanned:
    state = rng.choice(STATES)
    slot = BASE + timedelta(seconds=rng.randrange(0, 7 * 86400), microseconds=rng.randrange(10**6))
    published = state is JobState.PUBLISHED
    update = {
        "event_id": f"e{rng.getrandbits(40):x}",
        "occurred_at": BASE - timedelta(hours=rng.randrange(1, 100)),
        "job_id": f"c{n}:{channel}",
        "content_id": f"c{n}",
        "channel": channel,
        "state": state,
        "topic_key": rng.choice([None, "banjir", "jembatan"]),
        "published_at": slot + timedelta(seconds=3) if published else None,
        "measure_at": (slot + timedelta(hours=1),) if published and rng.random() < 0.7 else (),
    }
    return bench_job(n, slot).model_copy(update=update)


def _history(seed: int, records: int, contents: int) -> History:
    """(channel, job id, value) in the order written; None is a tombstone."""
    rng = random.Random(seed)
    out: list[tuple[str, str, bytes | None]] = []
    for _ in range(records):
        n, channel = rng.randrange(contents), rng.choice(CHANNELS).id
        job_id = f"c{n}:{channel}"
        roll = rng.random()
        if roll < 0.12:
            out.append((channel, job_id, None))
        elif roll < 0.16:
            out.append((channel, job_id, b"\x00{not json"))
        elif roll < 0.19:
            out.append((channel, job_id, b'{"event_type":"content.approved","job_id":"x"}'))
        else:
            out.append((channel, job_id, encode(_job(rng, n, channel))))
    return out


def _oracle(history: History) -> dict[str, bytes]:
    last: dict[str, bytes] = {}
    for _, job_id, value in history:
        if value is None:
            last.pop(job_id, None)
        elif restore_row(value, 0) is not None:
            last[job_id] = value
    return last


async def _write(producer: AIOKafkaProducer, topics: TopicRegistry, history: History) -> None:
    for channel, job_id, value in history:
        p = partition_for(channel, topics.partitions)
        await producer.send(topics.schedule_jobs, value, key=job_id.encode(), partition=p)
    await producer.flush()


def _partition(channel: str) -> int:
    return partition_for(channel, 3)


def _columns(store: SqliteJobStore) -> dict[str, tuple[object, ...]]:
    """Each job's indexed columns as the timers and the placement read them, by job id."""
    out: dict[str, tuple[object, ...]] = {}
    for ref, state, slot, channel, measure, occupied in store.firing(ALL):
        job = store.by_ref(ref)
        assert job is not None
        out[job.job_id] = (state, slot, channel, measure, occupied)
    return out


# Many jobs (their records in different writes), and few (often twice in one write).
@pytest.mark.parametrize(("seed", "contents"), [(3, 120), (11, 4)])
async def test_a_cold_restore_keeps_each_jobs_last_readable_record_unless_a_tombstone_follows(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    contents: int,
) -> None:
    history = _history(seed, 1500, contents)
    expected = _oracle(history)
    monkeypatch.setattr(restore_module, "_WRITE_BATCH", 7)
    async with on_broker(
        kafka_bootstrap, topics, [topics.schedule_jobs, topics.schedule_channels]
    ) as producer:
        await _write(producer, topics, history)
        kept = KeptStore.open(tmp_path / "plan.sqlite3")
        plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=kept.store, partition_of=_partition)
        restorer = Restorer(kafka_bootstrap, topics, plan, restore_row, kept)
        jobs, skipped, warm = await restorer.restore(ALL)

    try:
        store = kept.store
        assert warm == []
        assert jobs + skipped == sum(1 for _, _, v in history if v is not None)
        assert skipped == sum(1 for _, _, v in history if v is not None and restore_row(v, 0) is None)
        assert store.count() == len(expected)
        for job_id, value in expected.items():
            assert store.get(job_id) == JobPlanned.model_validate_json(value)
        one_by_one = SqliteJobStore(":memory:")
        for value in expected.values():
            job = JobPlanned.model_validate_json(value)
            one_by_one.put(job, partition_for(job.channel, topics.partitions))
        assert _columns(store) == _columns(one_by_one)
    finally:
        kept.close()


async def test_batches_hold_one_partitions_records_in_offset_order_and_stop_at_the_given_end(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    async with on_broker(kafka_bootstrap, topics, [topics.schedule_jobs]) as producer:
        for i in range(300):
            await producer.send(topics.schedule_jobs, b"%d" % i, key=b"k%d" % i, partition=i % 3)
        await producer.flush()
        tps = [TopicPartition(topics.schedule_jobs, p) for p in ALL]
        until = {tps[0]: 40, tps[1]: 100, tps[2]: 0}
        batches = [b async for b in replay_batches(kafka_bootstrap, tps, until=until)]

    read: dict[int, list[int]] = {p: [] for p in ALL}
    for batch in batches:
        assert batch
        assert len({(r.topic, r.partition) for r in batch}) == 1
        read[batch[0].partition] += [r.offset for r in batch]
    assert read == {0: list(range(40)), 1: list(range(100)), 2: []}


async def test_replay_reads_the_batches_records_one_by_one_and_stops_at_the_given_end(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    rng = random.Random(7)
    sent: dict[int, list[bytes]] = {p: [] for p in ALL}
    async with on_broker(kafka_bootstrap, topics, [topics.schedule_jobs]) as producer:
        for i in range(200):
            p = rng.choice(sorted(ALL))
            sent[p].append(b"%d" % i)
            await producer.send(topics.schedule_jobs, sent[p][-1], key=b"k%d" % i, partition=p)
        await producer.flush()
        tps = [TopicPartition(topics.schedule_jobs, p) for p in ALL]
        until = {tp: rng.randint(0, len(sent[tp.partition])) for tp in tps}
        records = [r async for r in replay(kafka_bootstrap, tps, until=until)]
        whole = [r async for r in replay(kafka_bootstrap, tps)]
        batched = [r for b in [b async for b in replay_batches(kafka_bootstrap, tps)] for r in b]

    def values(read: list[ConsumerRecord[bytes, bytes]], p: int) -> list[bytes | None]:
        return [r.value for r in read if r.partition == p]

    assert {p: values(records, p) for p in ALL} == {
        tp.partition: sent[tp.partition][: until[tp]] for tp in tps
    }
    # Which partition's fetch lands first varies between reads; within one, the order is the log's.
    assert {p: values(whole, p) for p in ALL} == {p: values(batched, p) for p in ALL}
    assert {p: values(whole, p) for p in ALL} == sent

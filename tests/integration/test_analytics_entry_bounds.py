"""The real analytics worker on the real broker goes on past valid records that would grow one
item's table entry without bound (services/analytics/ledger.py, ``MAX_JOBS_PER_ITEM``).

Thousands of schema-valid engagement readings of one item, each naming a job of its own with an
id as long as an identifier may be, would make the item's entry larger than Kafka takes in one
changelog record (1 MB): the changelog refused the batch, the worker exited for its supervisor
to restart, and every restart met the same batch again, so no record behind them was ever
counted. Now the item takes in its bound of jobs, the readings beyond it are dead-lettered with
the reason and counted, and a record of another item read after them is folded.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import TopicPartition

from services.analytics.ledger import MAX_JOBS_PER_ITEM
from services.analytics.settings import AnalyticsSettings
from shared.codec import encode
from shared.kafka import committed_offsets, log_bounds, make_producer
from shared.topics import TopicRegistry
from tests.integration.poison_kit import letters
from tests.integration.test_analytics_worker import Worker, source_topics, worker  # noqa: F401 (the fixture)
from tests.unit.test_analytics_entry_bounds import published, reading

pytestmark = pytest.mark.integration

# Enough readings that the item's jobs, unbounded, would pass 1 MB: 5,500 ids of 200 characters.
READINGS = 5_500
WAIT_S = 240.0


async def test_readings_of_ever_new_jobs_of_one_item_never_stop_the_worker(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    run_id: str,
    worker: Worker,  # noqa: F811 (the fixture imported above)
) -> None:
    await source_topics(kafka_bootstrap, topics)
    producer = make_producer(kafka_bootstrap, "entry-bounds-test", max_batch_size=512 * 1024)
    await producer.start()
    try:
        for _ in range(60):  # a fresh topic reaches a busy broker's metadata a little later
            if await producer.partitions_for(topics.engagement_observed):
                break
            await asyncio.sleep(1)
        sent = [
            await producer.send(topics.engagement_observed, encode(reading(n)), key=b"c1", partition=0)
            for n in range(READINGS)
        ]
        # A record of another item behind them, on the same source partition.
        good = published("c2:ig", "c2")
        await producer.send_and_wait(topics.publish_outcomes, encode(good), key=b"c2", partition=0)
        await asyncio.gather(*sent)
    finally:
        await producer.stop()

    worker.start()
    await worker.wait_ready()
    await committed_to_the_end(kafka_bootstrap, topics, run_id, worker)

    refused = READINGS - MAX_JOBS_PER_ITEM
    counted = events_counted(worker.get("/metrics")[1])
    assert counted[("engagement", "dead_lettered")] == refused
    assert counted[("engagement", "changed")] == MAX_JOBS_PER_ITEM
    assert counted[("outcomes", "changed")] == 1
    posts = worker.figures()[("channel", "all")][("ig", "")][0]
    assert posts == MAX_JOBS_PER_ITEM + 1  # c1's first jobs, and c2's post read after the rest
    dead = [d for d in await letters(kafka_bootstrap, topics, refused) if d.consumer == "analytics"]
    assert len(dead) == refused
    assert {(d.error_type, d.content_id) for d in dead} == {("TooManyJobs", "c1")}
    assert f"already has {MAX_JOBS_PER_ITEM:,} jobs" in dead[0].reason


def events_counted(metrics: str) -> dict[tuple[str, str], int]:
    """``warta_analytics_events_total`` by (source, result), from the worker's /metrics."""
    counted = {}
    for line in metrics.splitlines():
        if line.startswith("warta_analytics_events_total{"):
            labels, value = line.removeprefix("warta_analytics_events_total{").split("} ")
            named = dict(pair.split("=") for pair in labels.split(","))
            counted[named["source"].strip('"'), named["result"].strip('"')] = int(float(value))
    return counted


async def committed_to_the_end(bootstrap: str, topics: TopicRegistry, run_id: str, running: Worker) -> None:
    """Wait until the worker's group has committed the end of every source partition, the
    worker running all the while (it exited at every start before the bound)."""
    read = [topics.content_approved, topics.publish_outcomes, topics.engagement_observed]
    ends = await log_bounds(bootstrap, [TopicPartition(t, p) for t in read for p in range(topics.partitions)])
    group = AnalyticsSettings(topic_prefix=topics.prefix, group_prefix=f"g{run_id}").app_id
    started = time.monotonic()
    while True:
        assert running.proc is not None
        assert running.proc.poll() is None, running.log.read_text(errors="replace")[-3000:]
        committed = await committed_offsets(bootstrap, group)
        if all(committed.get(tp, 0) >= end for tp, (_, end) in ends.items()):
            return
        assert time.monotonic() - started < WAIT_S, f"not committed to the end: {committed}"
        await asyncio.sleep(0.5)

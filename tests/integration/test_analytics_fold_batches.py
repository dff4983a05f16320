"""The fold's batches as faust's consumer hands them on (services/analytics/fold_consumer.py), on
the real broker with the real worker: hostile records inside a batch, and a rebalance while a
burst is being folded. The figures are judged against the brute-force recomputation of
tests/unit/test_analytics_figures.py, as in test_analytics_worker.py."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition

from shared.kafka import log_bounds, make_producer
from shared.kafka_txn import make_transactional_producer
from shared.topics import TopicRegistry
from tests.integration.poison_kit import letters
from tests.integration.test_analytics_worker import (
    Worker,
    committed_within,
    generate,
    produce,
    send_events,
    source_topics,
    worker,  # noqa: F401 (the fixture)
)
from tests.unit.test_analytics_figures import Event
from warta.devrun import free_listen_port

pytestmark = pytest.mark.integration

# What a hostile or broken producer may put on a source topic: none of it is an event.
HOSTILE = [
    b"{not json",
    b"\xff\xfe\x00",
    b"[]",
    b'{"event_type": "engagement.observed"}',
    b'{"event_type": "no.such.event", "schema_version": 1}',
    b'{"event_type": "engagement.observed", "schema_version": 1, "reactions": "many"}',
    b"9" * 5000,
]


async def test_hostile_records_in_a_batch_go_to_the_dead_letters_and_the_rest_folds(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    worker: Worker,  # noqa: F811 (the fixture imported above)
) -> None:
    await source_topics(kafka_bootstrap, topics)
    events = generate(random.Random(31), 0, 60)
    await produce(kafka_bootstrap, topics, events[:1])  # also waits for the topics' metadata
    # Each hostile record next to a real event of the same key, so of the same partition and,
    # all produced before the worker starts, of the same fetch and batch.
    at = sorted(random.Random(5).sample(range(1, len(events)), len(HOSTILE)))
    hostile = dict(zip(at, HOSTILE, strict=True))
    producer = make_producer(kafka_bootstrap, "analytics-hostile")
    await producer.start()
    try:
        sent = []
        for n, event in enumerate(events[1:], start=1):
            if n in hostile:  # on the event's own topic and key
                sent += await send_events(producer, topics, [event], values=[hostile[n]])
            await send_events(producer, topics, [event])
        await producer.flush()
        where = {(m.topic, m.partition, m.offset) for m in [await future for future in sent]}
    finally:
        await producer.stop()

    worker.start()
    await worker.wait_ready()
    await worker.converge(events)
    found = await letters(kafka_bootstrap, topics, count=len(HOSTILE))
    assert {(f.source_topic, f.source_partition, f.source_offset) for f in found} == where
    assert {f.consumer for f in found} == {"analytics"}
    assert {f.raw for f in found if f.raw_complete} >= {raw.decode() for raw in HOSTILE if raw.isascii()}
    assert _counted(await asyncio.to_thread(worker.get, "/metrics"), "dead_lettered") == len(HOSTILE)


async def test_records_of_an_aborted_transaction_are_not_counted(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    run_id: str,
    worker: Worker,  # noqa: F811 (the fixture imported above)
) -> None:
    # The other services write outcomes and readings in transactions; a worker fenced or killed
    # mid-transaction leaves its records in the log, aborted. Between two committed halves
    # here, whole items of their own: were they folded, the figures would count them.
    await source_topics(kafka_bootstrap, topics)
    kept = generate(random.Random(41), 0, 30)
    aborted = generate(random.Random(43), 500, 10)
    await produce(kafka_bootstrap, topics, kept[: len(kept) // 2])
    producer = make_transactional_producer(
        kafka_bootstrap, "analytics-aborted", f"analytics-aborted-{run_id}"
    )
    await producer.start()
    try:
        await producer.begin_transaction()
        sent = await send_events(producer, topics, aborted)
        written = await asyncio.gather(*sent)
        await producer.abort_transaction()
    finally:
        await producer.stop()
    # The coordinator writes the abort markers after it answered: the second half must come
    # after them, or a partition's tail is a marker, which no consumer is handed (its lag
    # reads 1 for good, docs/publisher.md) and the group could not commit it.
    await _resolved(kafka_bootstrap, written)
    await produce(kafka_bootstrap, topics, kept[len(kept) // 2 :])

    worker.start()
    await worker.wait_ready()
    await worker.converge(kept)
    # The group commits past the aborted records and the transaction's marker too.
    await committed_within(kafka_bootstrap, topics, run_id, within_s=240)


async def _resolved(bootstrap: str, written: list[Any]) -> None:
    """Until a read_committed reader's end of each partition written passes its transaction's
    marker: the last record's offset + 2 at least."""
    last: dict[TopicPartition, int] = {}
    for meta in written:
        tp = TopicPartition(meta.topic, meta.partition)
        last[tp] = max(last.get(tp, -1), meta.offset)
    started = time.monotonic()
    while True:
        ends = await log_bounds(bootstrap, last)
        if all(ends[tp][1] >= offset + 2 for tp, offset in last.items()):
            return
        assert time.monotonic() - started < 60, "the aborted transaction's markers never came"
        await asyncio.sleep(0.1)


def _counted(metrics: tuple[int, str], result: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics[1].splitlines()
        if line.startswith("warta_analytics_events_total{") and f'result="{result}"' in line
    )


async def test_a_rebalance_mid_burst_leaves_every_event_counted_once(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    run_id: str,
    worker: Worker,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    await source_topics(kafka_bootstrap, topics)
    worker.start()
    await worker.wait_ready()
    events = generate(random.Random(77), 0, 1500)
    second = Worker({**worker.env, "WARTA_ANALYTICS_PORT": str(free_listen_port())}, tmp_path / "second.log")
    try:
        # The burst keeps coming while a second worker joins: the group rebalances with the
        # first worker's batches in flight (faust revokes every partition, then assigns them
        # over the two), and again when the second leaves.
        burst = asyncio.ensure_future(_paced(kafka_bootstrap, topics, events, chunks=40, gap_s=0.4))
        await asyncio.sleep(1.0)
        second.start()
        await second.wait_ready()
        await burst
        await committed_within(kafka_bootstrap, topics, run_id, within_s=240)
        # Both folded part of the burst: the partitions moved while it was being folded.
        assert await asyncio.to_thread(worker.events_read) > 0
        assert await asyncio.to_thread(second.events_read) > 0
        # The second stops cleanly: the first takes its partitions back, restoring them from
        # the changelog the second wrote, and answers for all of them.
        assert second.proc is not None
        os.killpg(second.proc.pid, signal.SIGTERM)
        assert await asyncio.to_thread(second.proc.wait, 60) == 0, second.log.read_text()[-3000:]
        took = await worker.converge(events)
        print(
            f"\nanalytics: {len(events)} events over two rebalances, equal to the recomputation {took:.1f} s"
        )
    finally:
        if second.proc is not None:
            second.kill()


async def _paced(
    bootstrap: str, topics: TopicRegistry, events: list[Event], chunks: int, gap_s: float
) -> None:
    size = -(-len(events) // chunks)
    for start in range(0, len(events), size):
        await produce(bootstrap, topics, events[start : start + size])
        await asyncio.sleep(gap_s)

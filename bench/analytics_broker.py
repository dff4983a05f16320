"""The analytics worker end to end on a real broker: engagement events/s from the producer
through the faust worker into its table, and how long the consumer lag takes to reach 0 after a
burst (``python -m bench.analytics --broker [--burst 100000] [--workers 1]``).

Starts its own broker (``bench._system.own_broker``: KAFKA_BOOTSTRAP_SERVERS when set) and
``--workers`` `warta analytics` processes in one consumer group (faust shares the source
topics' six partitions among them), waits until every one is ready and stays so for 5 s (the
group settled), produces ``--burst`` readings of distinct posts onto ``engagement.observed`` as
fast as the producer sends them (the burst: 100,000 records written back to back, acks=all),
and prints one JSON line:

- ``produce_s``: the burst written and acknowledged;
- ``processed_s`` and ``events_per_s``: from the burst's first send until the workers'
  ``warta_analytics_events_total`` count every event (each one applied to the table);
- ``lag_zero_after_burst_s``: from the burst's last acknowledgement until the worker's group
  has committed every offset (faust commits every ``broker_commit_interval``, 2.8 s);
- ``worker_cpu_s`` and ``events_per_cpu_s``: the workers' CPU time (user + system, Linux's
  /proc, summed) from just before the burst until every event was counted, and the events folded per
  second of it: a figure the other processes on a shared machine change much less than the
  wall-clock rate;
- ``load_average``: the 1-minute load average at the start and at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench._system import own_broker
from shared.codec import encode
from shared.events import EngagementObserved
from shared.kafka import committed_offsets, ensure_topics, make_producer
from shared.settings import ROOT
from shared.topics import TopicRegistry
from warta.devrun import free_listen_port

CHANNELS = {"ig": "instagram", "fb": "facebook", "x": "x", "tg": "telegram", "yt": "youtube"}
HORIZONS = (60, 360, 1440, 10080)
START = datetime(2026, 11, 2, tzinfo=UTC)
# The source topics' partitions: the most workers that share the fold.
PARTITIONS = 6


def burst(count: int) -> list[EngagementObserved]:
    events = []
    for n in range(count):
        post, horizon = divmod(n, len(HORIZONS))
        channel = list(CHANNELS)[post % len(CHANNELS)]
        published = START + timedelta(minutes=post * 7 % (28 * 24 * 60))
        events.append(
            EngagementObserved(
                event_id=f"b{n}",
                occurred_at=published + timedelta(minutes=HORIZONS[horizon]),
                job_id=f"c{post}:{channel}",
                content_id=f"c{post}",
                channel=channel,
                platform=CHANNELS[channel],
                published_at=published,
                horizon_minutes=HORIZONS[horizon],
                reactions=n % 997,
                comments=n % 89,
                shares=n % 31,
                reach=n % 5000,
            )
        )
    return events


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except OSError:
        return 0, ""


def _events_read(port: int) -> float:
    status, text = _get(port, "/metrics")
    if status != 200:
        return -1.0
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("warta_analytics_events_total{")
    )


async def _lag(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> int:
    committed = await committed_offsets(bootstrap, group)
    return sum(end - committed.get(tp, 0) for tp, end in ends.items())


class Workers:
    """The bench's `warta analytics` processes, one consumer group (each killed by its own
    process group id only)."""

    def __init__(self, env: dict[str, str], var: Path, count: int, consumer_group: str) -> None:
        self.consumer_group = consumer_group
        self.ports = [free_listen_port() for _ in range(count)]
        self.logs = [var / f"analytics-{n}.log" for n in range(count)]
        self.procs: list[subprocess.Popen[bytes]] = []
        for n, port in enumerate(self.ports):
            own = {**env, "WARTA_ANALYTICS_PORT": str(port), "WARTA_STATE_DIR": str(var / f"state-{n}")}
            with self.logs[n].open("ab") as log:
                self.procs.append(_start_worker(own, log))

    async def settled(self, patience_s: float, steady_s: float = 5.0) -> None:
        """Every worker ready, and still ready ``steady_s`` later: a worker that joins the group
        moves partitions away from the others, which then restore their tables again."""
        started = time.monotonic()
        steady_since = None
        while steady_since is None or time.monotonic() - steady_since < steady_s:
            for proc, log in zip(self.procs, self.logs, strict=True):
                assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() - started < patience_s, "the workers did not get ready"
            ready = all(_get(port, "/readyz")[0] == 200 for port in self.ports)
            steady_since = (steady_since or time.monotonic()) if ready else None
            await asyncio.sleep(0.5)

    def events_read(self) -> float:
        return sum(_events_read(port) for port in self.ports)

    def cpu_s(self) -> float:
        return sum(_cpu_s(proc.pid) for proc in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


async def measure(bootstrap: str, count: int, patience_s: float, workers: int = 1) -> dict[str, object]:
    async with prepared(bootstrap, workers) as (topics, group):
        await group.settled(patience_s)
        result = await _burst_and_watch(
            bootstrap, topics.engagement_observed, group.consumer_group, count, group, patience_s
        )
    return {
        "bench": "broker_fold",
        "burst": count,
        "workers": workers,
        **result,
        "group": group.consumer_group,
    }


@asynccontextmanager
async def prepared(bootstrap: str, workers: int) -> AsyncIterator[tuple[TopicRegistry, Workers]]:
    """The run's topics (a prefix of its own) and ``workers`` `warta analytics` processes in one
    group, stopped after; their state and logs are removed unless the run failed."""
    run = uuid.uuid4().hex[:8]
    topics = TopicRegistry(prefix=f"bench{run}.", partitions=PARTITIONS)
    wanted = {topics.content_approved, topics.publish_outcomes, topics.engagement_observed}
    await ensure_topics(bootstrap, [s for s in topics.specs() if s.name in wanted])
    var = ROOT / "var" / f"bench-analytics-{run}"
    var.mkdir(parents=True)
    channels = var / "channels.json"
    channels.write_text(
        json.dumps(
            {"channels": [{"id": c, "platform": p, "timezone": "Asia/Jakarta"} for c, p in CHANNELS.items()]}
        )
    )
    env = {
        **os.environ,
        # The settings' other name for the bootstrap (shared.settings): own_broker alone reads the
        # usual one, and an inherited one names this same broker when set.
        "KAFKA_BOOTSTRAP": bootstrap,
        "WARTA_TOPIC_PREFIX": topics.prefix,
        "WARTA_GROUP_PREFIX": f"g{run}",
        "WARTA_PARTITIONS": str(PARTITIONS),
        "WARTA_CHANNELS_FILE": str(channels),
        "WARTA_LOG_LEVEL": "WARNING",
    }
    group = Workers(env, var, workers, consumer_group=f"{topics.prefix}g{run}-analytics")
    try:
        yield topics, group
    finally:
        group.stop()
    shutil.rmtree(var, ignore_errors=True)  # kept only when the bench failed: the workers' logs


async def _burst_and_watch(
    bootstrap: str, topic: str, consumer_group: str, count: int, group: Workers, patience_s: float
) -> dict[str, object]:
    """Produce the burst, then watch the workers' counters and the group's committed offsets."""
    events = burst(count)
    load_before = os.getloadavg()[0]
    cpu_before = group.cpu_s()
    producer = make_producer(bootstrap, "bench-analytics", linger_ms=20)
    await producer.start()
    try:
        first_send = time.monotonic()
        futures = [await producer.send(topic, encode(e), key=e.content_id.encode()) for e in events]
        await asyncio.gather(*futures)
        produced = time.monotonic()
    finally:
        await producer.stop()
    ends = await _end_offsets(bootstrap, topic, PARTITIONS)
    processed = lag_zero = None
    cpu_used = float("nan")
    while time.monotonic() - produced < patience_s:
        now = time.monotonic()
        if processed is None and group.events_read() >= count:
            processed = now
            cpu_used = group.cpu_s() - cpu_before
        if lag_zero is None and await _lag(bootstrap, consumer_group, ends) == 0:
            lag_zero = now
        if processed is not None and lag_zero is not None:
            break
        await asyncio.sleep(0.25)
    return {
        "produce_s": round(produced - first_send, 2),
        "processed_s": round(processed - first_send, 2) if processed else None,
        "events_per_s": round(count / (processed - first_send)) if processed else None,
        "lag_zero_after_burst_s": round(lag_zero - produced, 2) if lag_zero else None,
        "worker_cpu_s": round(cpu_used, 1),
        "events_per_cpu_s": round(count / cpu_used) if cpu_used > 0 else None,
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far (Linux /proc/<pid>/stat)."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_worker(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "warta.cli", "analytics"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def _end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)]))
    finally:
        await consumer.stop()


def run(count: int, workers: int = 1, patience_s: float = 1800.0) -> None:
    with own_broker("analytics") as bootstrap:
        print(json.dumps(asyncio.run(measure(bootstrap, count, patience_s, workers))), flush=True)

"""A broker dies under load on a three-node cluster (deploy/kafka/cluster.sh) with replication 3 and
min.insync.replicas 2, the settings production runs: Warta's producer (acks=all, idempotent) keeps
going after a short leader election, and every event the brokers acknowledged is read back exactly
once. Sends that time out while leaders move are not acknowledged (ingest answers 503 for them and
the client retries); they may or may not be on the topic, never twice.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.codec import decode_as
from shared.events import ControlAction, ControlIssued
from shared.ids import new_event_id
from shared.kafka import KafkaUnavailable, ensure_topics, make_producer, replay, send_event
from shared.kafka_connection import client_args, start_client
from shared.settings import ROOT
from shared.topics import TopicRegistry
from tests.loopback_ports import free_port_run

# Starting three brokers takes 20 s on an idle machine and two minutes on a busy one (2:45 in all
# measured here), so this runs in `make test-long`.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.long,
    pytest.mark.skipif(not shutil.which("java"), reason="needs java"),
]

CLUSTER = ROOT / "deploy" / "kafka" / "cluster.sh"
EVENTS = 3000
IN_FLIGHT = 64
KILL_AFTER = 1000  # acknowledged events before a broker dies


@dataclass(frozen=True)
class Cluster:
    bootstrap: str
    env: dict[str, str]

    def kill(self, node_id: int) -> None:
        subprocess.run([str(CLUSTER), "kill", str(node_id)], env=self.env, check=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder: Path = tmp_path_factory.mktemp("kafka-cluster")
    env = dict(
        os.environ,
        KAFKA_CLUSTER_PORT=str(free_port_run(6)),
        WARTA_VAR=str(folder),
        KAFKA_HEAP="512m",
    )
    env.pop("KAFKA_SSL_KEYSTORE", None)
    subprocess.run([str(CLUSTER), "start"], env=env, check=True)
    try:
        bootstrap = subprocess.run(
            [str(CLUSTER), "bootstrap"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        yield Cluster(bootstrap, env)
    finally:
        subprocess.run([str(CLUSTER), "stop"], env=env, check=False)


@dataclass
class Tally:
    acked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    acked_after_kill: int = 0
    killed_at: float | None = None
    longest_wait_s: float = 0.0


def control_event(n: int) -> ControlIssued:
    return ControlIssued(
        event_id=new_event_id(),
        occurred_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        action=ControlAction.PAUSE,
        by="operator-1",
        reason=f"event {n}",
    )


async def topic_durability(bootstrap: str, topic: str) -> tuple[set[int], str]:
    admin = AIOKafkaAdminClient(**client_args(bootstrap))
    await start_client(admin, bootstrap, 30.0)
    try:
        [described] = await admin.describe_topics([topic])
        replicas = {len(p["replicas"]) for p in described["partitions"]}
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None})]
        )
        entries = {entry[0]: entry[1] for entry in response.resources[0][4]}
        return replicas, entries["min.insync.replicas"]
    finally:
        await admin.close()


async def test_one_broker_killed_under_load_loses_and_duplicates_nothing(
    cluster: Cluster, run_id: str
) -> None:
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=3, replication_factor=3, min_insync_replicas=2)
    [spec] = [s for s in topics.specs() if s.name == topics.content_approved]
    await ensure_topics(cluster.bootstrap, [spec])
    assert await topic_durability(cluster.bootstrap, spec.name) == ({3}, "2")

    producer = make_producer(cluster.bootstrap, "test-cluster")
    await start_client(producer, cluster.bootstrap, 30.0)
    tally = Tally()
    gate = asyncio.Semaphore(IN_FLIGHT)
    started = time.monotonic()

    async def send(n: int) -> None:
        event = control_event(n)
        async with gate:
            t0 = time.monotonic()
            try:
                await send_event(producer, spec.name, event.event_id, event, timeout=30.0)
            except KafkaUnavailable:
                tally.refused.append(event.event_id)
                return
            finally:
                tally.longest_wait_s = max(tally.longest_wait_s, time.monotonic() - t0)
            tally.acked.append(event.event_id)
            if tally.killed_at is not None:
                tally.acked_after_kill += 1
            elif len(tally.acked) >= KILL_AFTER:
                # The leader of partition 0: its partitions must move to another replica.
                tally.killed_at = time.monotonic() - started
                leader = producer.client.cluster.leader_for_partition(TopicPartition(spec.name, 0))
                await asyncio.to_thread(cluster.kill, leader)

    try:
        await asyncio.gather(*(send(n) for n in range(EVENTS)))
    finally:
        await producer.stop()
    elapsed = time.monotonic() - started

    tps = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
    read = Counter([decode_as(r.value, ControlIssued).event_id async for r in replay(cluster.bootstrap, tps)])
    print(
        f"\ncluster kill: {len(tally.acked)} acknowledged, {len(tally.refused)} timed out, "
        f"{tally.acked_after_kill} acknowledged after the kill at {tally.killed_at:.1f} s, "
        f"longest wait {tally.longest_wait_s:.1f} s, {elapsed:.1f} s in all; read back {sum(read.values())}"
    )
    assert tally.killed_at is not None
    assert tally.acked_after_kill > 0, "the producer never recovered after the broker died"
    assert len(tally.acked) + len(tally.refused) == EVENTS
    assert [e for e in tally.acked if read[e] != 1] == [], "an acknowledged event was lost or doubled"
    assert [e for e, n in read.items() if n > 1] == [], "an event was written twice"
    assert set(read) <= set(tally.acked) | set(tally.refused)

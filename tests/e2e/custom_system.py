"""The whole system (as ``make run`` starts it) on a channels file written by the test.

The demo channels have one account per platform and real caps (Telegram 20 messages a minute per
chat); tests that push hundreds of items spread them over several accounts instead, so the
platforms' own limits don't turn a robustness test into a wait.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import yaml
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import BaseModel

from shared.codec import DecodeError, decode_as
from shared.events import PublishOutcome
from shared.settings import ROOT
from shared.topics import TopicRegistry
from warta.devrun import LocalSystem, free_listen_port

T = TypeVar("T", bound=BaseModel)

DEMO_SANDBOX = "http://127.0.0.1:8090"  # LocalSystem moves this to the test's sandbox port


def channel(platform: str, n: int, **options: str) -> dict[str, Any]:
    """A channel ``<platform>-<n>`` on the sandbox with its own account (secret), no gap."""
    name = f"{platform}-{n}"
    return {
        "id": name,
        "platform": platform,
        "account": name,
        "timezone": "Asia/Jakarta",
        "base_url": f"{DEMO_SANDBOX}/{platform}",
        "secret": name,
        "min_gap_minutes": 0,
        "options": options,
    }


def spread(platform: str, count: int) -> list[dict[str, Any]]:
    """``count`` channels of one platform, with the options its adapter needs."""
    out = []
    for n in range(1, count + 1):
        if platform == "telegram":
            out.append(channel(platform, n, chat_id=f"@warta_test_{n}"))
        elif platform == "facebook":
            out.append(channel(platform, n, page_id=f"10000000000{n:04d}"))
        elif platform == "x":
            out.append(channel(platform, n, username=f"warta_test_{n}"))
        else:
            out.append(channel(platform, n))
    return out


@contextmanager
def custom_system(
    kafka_bootstrap: str, name: str, channels: Sequence[dict[str, Any]], extra_env: dict[str, str]
) -> Iterator[LocalSystem]:
    run = uuid.uuid4().hex[:8]
    var = ROOT / "var" / "test-e2e" / f"{name}-{run}"
    var.mkdir(parents=True, exist_ok=True)
    source = var / "channels.source.yaml"
    source.write_text(yaml.safe_dump({"channels": list(channels)}, sort_keys=False))
    system = LocalSystem(
        bootstrap=kafka_bootstrap,
        var=var,
        ingest_port=free_listen_port(),
        sandbox_port=free_listen_port(),
        topic_prefix=f"{name}{run}.",
        group_prefix=f"{name}{run}",
        source_channels=source,
        ephemeral=True,
        extra_env={
            "WARTA_RETRY_BASE_S": "0.3",
            "WARTA_RETRY_CAP_S": "2",
            "WARTA_CALL_TIMEOUT_S": "3",
            "WARTA_PARTITIONS": "3",
            "WARTA_RATE_BURST": "2000",  # ingest's per-key limit: these tests submit in bulk
            "WARTA_RATE_PER_MINUTE": "100000",
            "WARTA_LIST_RATE_BURST": "2000",  # and its stricter one for listings: they page the calendar
            "WARTA_LIST_RATE_PER_MINUTE": "100000",
            # Resumable-upload notes of this run only, kept across publisher restarts.
            "WARTA_STATE_DIR": str(var / "state"),
            **extra_env,
        },
    )
    try:
        system.start(timeout=120)
        yield system
    finally:
        system.stop()
    # Logs stay under var/test-e2e for a failed run's post-mortem; the directory is gitignored.


async def read_events(bootstrap: str, topic: str, model: type[T]) -> list[T]:
    """Every event on ``topic`` so far, in each partition's order; undecodable records skipped.

    The partitions are the topic's own (test systems run with fewer than the default).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    # read_committed: what services write in transactions counts only once committed
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        events: list[T] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    try:
                        events.append(decode_as(record.value, model))
                    except DecodeError:
                        continue
        return events
    finally:
        await consumer.stop()


async def read_outcomes(bootstrap: str, topic_prefix: str) -> dict[str, list[PublishOutcome]]:
    """Every outcome recorded so far, by job, in the order recorded."""
    topic = TopicRegistry(prefix=topic_prefix).publish_outcomes
    by_job: dict[str, list[PublishOutcome]] = {}
    for outcome in await read_events(bootstrap, topic, PublishOutcome):
        by_job.setdefault(outcome.job_id, []).append(outcome)
    return by_job

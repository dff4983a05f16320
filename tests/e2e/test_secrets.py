"""Keys and platform secrets never appear in the run's logs or on any topic: after items flow
(and a few requests with wrong keys), grep every log file and a dump of every topic."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka import wait_for_topics
from shared.topics import TopicRegistry
from tests.e2e.client import Api, item, unique_text
from tests.e2e.conftest import Keys
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e


@pytest.fixture
async def api(system: LocalSystem, keys: Keys) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, system.ingest_url, keys.approver)


def secrets_of(system: LocalSystem) -> set[str]:
    tokens = {v["token"] for v in json.loads(system.sandbox_accounts_file.read_text()).values()}
    keys = {v["key"] for v in json.loads(system.dev_keys_file.read_text()).values()}
    return {s for s in tokens | keys if len(s) >= 12}


async def dump_topics(bootstrap: str, prefix: str) -> bytes:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await wait_for_topics(consumer, set(names))
        tps = [TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        chunks: list[bytes] = []

        async def unread() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in tps])

        while await unread():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    chunks += [r.key or b"", r.value or b""]
                    chunks += [v for _, v in r.headers]
        return b"\n".join(chunks)
    finally:
        await consumer.stop()


async def test_secrets_stay_out_of_logs_and_topics(
    system: LocalSystem, kafka_bootstrap: str, api: Api, keys: Keys
) -> None:
    for channel in ("mastodon-demo", "telegram-demo", "x-demo", "facebook-demo", "wordpress-demo"):
        content_id = await api.submit(item(unique_text("Secret-free"), [channel]))
        await api.wait_state(content_id, channel, "published", "unconfirmed", "failed", timeout=60)
    # Wrong and malformed keys must not be echoed either.
    status, _ = await api.post("/v1/content", item("x", ["mastodon-demo"]), key="wk_not-a-real-key-12345")
    assert status == 401
    status, _ = await api.post("/v1/pause", {"reason": "r"}, key=keys.editor)
    assert status == 403

    secrets = secrets_of(system)
    assert len(secrets) >= 8
    leaks = []
    for log in sorted(system.logs.glob("*.log")):
        text = log.read_text(errors="replace")
        leaks += [f"{log.name}: {s[:4]}…" for s in secrets if s in text]
    dump = await dump_topics(kafka_bootstrap, TopicRegistry(prefix=system.topic_prefix).name(""))
    assert len(dump) > 1000  # the topics really were read
    leaks += [f"topics: {s[:4]}…" for s in secrets if s.encode() in dump]
    assert "wk_not-a-real-key-12345" not in "".join(
        p.read_text(errors="replace") for p in system.logs.glob("*.log")
    )
    assert leaks == []

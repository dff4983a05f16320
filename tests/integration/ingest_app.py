"""The real ingest app, in-process, for the integration suites: real producer, real feeder and
status view over the real broker, fresh topics, keys in a temporary folder, driven through
aiohttp's test client (or an ephemeral TCP port where a tool needs a URL).

Not a conftest: each suite opens it with ``running_ingest`` so the suites stay independent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.ingest.app import wired
from services.ingest.http_api import Deps, create_app
from services.ingest.settings import IngestSettings
from shared.codec import decode
from shared.events import Event
from shared.http_auth import KeyStore, generate_dev_keys
from shared.kafka import partitions_of
from shared.settings import ROOT
from shared.topics import TopicRegistry

ROLES = ("editor", "approver", "operator", "admin")
CHANNELS_FILE = ROOT / "deploy" / "channels.local.yaml"
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass
class Ingest:
    client: TestClient[web.Request, web.Application]
    deps: Deps
    keys: dict[str, str]  # role → plaintext key
    people: dict[str, str]  # role → person

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        role: str | None = "approver",
        key: str | None = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One request as ``role`` (or with ``key``; neither means no Authorization header)."""
        sent: dict[str, str] = {}
        token = key if key is not None else (self.keys[role] if role else None)
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        async with self.client.request(method, path, data=raw, headers=sent) as resp:
            text = await resp.text()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            return Answer(resp.status, parsed, dict(resp.headers))


def settings_for(bootstrap: str, topics: TopicRegistry, tmp_path: Path, **overrides: Any) -> IngestSettings:
    return IngestSettings(
        kafka_bootstrap=bootstrap,
        topic_prefix=topics.prefix,
        partitions=topics.partitions,
        keys_file=tmp_path / "keys.json",
        channels_file=CHANNELS_FILE,
        **overrides,
    )


def dev_keys(tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The role → key and role → person of ``generate_dev_keys``, made once per test folder."""
    plain = tmp_path / "dev-keys.json"
    if not plain.exists():
        generate_dev_keys(tmp_path / "keys.json", plain)
    raw = json.loads(plain.read_text())
    return {r: raw[r]["key"] for r in ROLES}, {r: raw[r]["person"] for r in ROLES}


@asynccontextmanager
async def ingest_deps(settings: IngestSettings, keys: KeyStore | None = None) -> AsyncIterator[Deps]:
    """Ingest's wiring, started and caught up with its topics."""
    async with wired(settings, keys=keys) as deps:
        await asyncio.wait_for(deps.caught_up.wait(), READY_TIMEOUT_S)
        yield deps


@asynccontextmanager
async def running_ingest(
    bootstrap: str,
    topics: TopicRegistry,
    tmp_path: Path,
    *,
    keys: KeyStore | None = None,
    plain_keys: dict[str, str] | None = None,
    **overrides: Any,
) -> AsyncIterator[Ingest]:
    """Ingest on ``topics`` behind a test client. ``keys`` replaces the dev key store; then
    ``plain_keys`` names the keys the ``role=`` shortcut sends."""
    dev, people = dev_keys(tmp_path)
    settings = settings_for(bootstrap, topics, tmp_path, **overrides)
    async with ingest_deps(settings, keys) as deps:
        client = TestClient(TestServer(create_app(deps)))
        await client.start_server()
        try:
            yield Ingest(client, deps, plain_keys or dev, people)
        finally:
            await client.close()


def content_body(
    channels: tuple[str, ...] = ("mastodon-demo",),
    *,
    author: str = "rina",
    approved_by: str | None = "yuyun",
    text: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid ``POST /v1/content`` body (``approved_by=None`` leaves approval out: a draft)."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "external_ref": f"adpim-{uuid.uuid4().hex[:8]}",
        "author": author,
        "content": {"text": text or f"Gubernur meresmikan jembatan #{uuid.uuid4().hex[:8]}"},
        "targets": [{"channel": c} for c in channels],
        "deadline": (now + timedelta(days=2)).isoformat(),
        **extra,
    }
    if approved_by is not None:
        body["approval"] = {
            "approved_by": approved_by,
            "approved_at": (now - timedelta(minutes=1)).isoformat(),
        }
    return body


async def read_events(bootstrap: str, topic: str) -> list[Event]:
    """Every event on ``topic`` now, in partition order (a fresh consumer, no group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        tps = await partitions_of(consumer, [topic])
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        events: list[Event] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert loop.time() < deadline, f"could not read {topic} to its end"
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                events += [
                    decode(r.value) for r in records if r.offset < ends[TopicPartition(r.topic, r.partition)]
                ]
        return events
    finally:
        await consumer.stop()


async def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate()`` until true; fails after ``timeout`` seconds (generous: no timing asserts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)

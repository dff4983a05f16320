"""The publisher keeps an X account connected on its own, over the real broker: 3-second access
tokens (the sandbox's ``token_ttl_s``) with X's rotating refresh tokens, a job every ~0.7 s for
several token lifetimes → every job published, no needs_reauth. Then the user revokes the app:
the next jobs are parked as needs_reauth with the platform's reason; a reconnect resumes them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestServer
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from sandbox.oauth import TokenAuthority
from sandbox.sandbox import STATES, build_sandbox
from services.publisher.adapters.registry import build_adapter
from services.publisher.credentials.auth_retry import RefreshingAdapter
from services.publisher.credentials.refresher import http_refresh
from services.publisher.credentials.wiring import build_refresher
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.worker import PublisherWorker
from shared.channels import load_channels
from shared.codec import encode
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.secret_store import SecretStore
from shared.credentials.vault import CredentialVault
from shared.events import Content, JobDue, OutcomeStatus, PublishOutcome
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration import refresh_rig
from tests.integration.ingest_app import read_events

pytestmark = pytest.mark.integration
CHANNEL = "x-demo"
TTL_S = 3.0


def due(n: int) -> JobDue:
    now = datetime.now(UTC)
    return JobDue(
        event_id=f"due{n}",
        occurred_at=now,
        job_id=f"c{n}:{CHANNEL}",
        content_id=f"c{n}",
        channel=CHANNEL,
        platform="x",
        attempt=1,
        slot=now,
        content=Content(text=f"Kabar ke-{n} dari kantor gubernur."),
    )


def record(event: JobDue, topic: str, offset: int) -> ConsumerRecord[bytes, bytes]:
    value = encode(event)
    return ConsumerRecord(topic, 0, offset, 0, 0, event.job_id.encode(), value, None, 0, len(value), ())


@pytest.fixture
async def producer(kafka_bootstrap: str, topics: TopicRegistry) -> AsyncIterator[AIOKafkaProducer]:
    names = {topics.publish_outcomes, topics.publish_attempts("x"), topics.publish_dead}
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name in names])
    made = make_producer(kafka_bootstrap, "test-token-refresh")
    await made.start()
    yield made
    await made.stop()


def connected_record(authority: TokenAuthority, token_url: str) -> CredentialRecord:
    return refresh_rig.connected_record(authority, CHANNEL, "x", token_url, "x-app")


async def test_an_x_account_stays_connected_through_many_token_lifetimes_and_parks_when_revoked(
    kafka_bootstrap: str, topics: TopicRegistry, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    app = build_sandbox({CHANNEL: "static-unused"}, token_ttl_s=TTL_S)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        authority = app[STATES]["x"].authority
        assert authority is not None
        channel = {"id": CHANNEL, "platform": "x", "base_url": str(server.make_url("/x")), "secret": CHANNEL}
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": [channel]}))
        channels = load_channels(tmp_path / "channels.yaml")
        token_url = str(server.make_url("/x/2/oauth2/token"))
        vault = CredentialVault(tmp_path / "credentials.vault", keyring([generate_key()]))
        vault.put(connected_record(authority, token_url))
        refresher = build_refresher(
            vault, list(channels.channels), http_refresh(session), lambda: datetime.now(UTC)
        )
        adapter = RefreshingAdapter(build_adapter("x", session), refresher, {CHANNEL: CHANNEL})
        worker = PublisherWorker(
            bootstrap=kafka_bootstrap,
            topics=topics,
            group=f"{topics.prefix}publisher",
            platform="x",
            channels=channels,
            adapter=adapter,
            secrets=SecretStore.from_vault(vault),
            producer=producer,
            limits=RateLimits({}),
            retry=RetryPolicy(),
        )
        stop = asyncio.Event()
        keeper = asyncio.create_task(refresher.run([CHANNEL], stop, interval_s=0.2))
        topic = topics.publish("x")
        await worker.ledger.start()  # run() starts it; this test drives handle() alone
        try:
            for n in range(14):  # ~10 s: three or more access-token lifetimes
                await worker.handle(record(due(n), topic, n))
                await asyncio.sleep(0.7)
            refreshed = authority.refreshes[CHANNEL]
            authority.revoke_account(CHANNEL)  # the user disconnects Warta on X
            for n in range(14, 17):
                await worker.handle(record(due(n), topic, n))
                await asyncio.sleep(0.2)
            parked = vault.fresh(CHANNEL)
            assert parked is not None
            # Reconnecting (a new grant through the flow) resumes publishing.
            vault.put(replace(connected_record(authority, token_url), version=parked.version + 1))
            await worker.handle(record(due(17), topic, 17))
        finally:
            stop.set()
            await keeper
            await worker.ledger.stop()
            await worker._consumer.stop()  # made in the constructor; this test drives handle() alone
    events = await read_events(kafka_bootstrap, topics.publish_outcomes)
    final = {
        e.job_id: e for e in events if isinstance(e, PublishOutcome) and e.status != OutcomeStatus.ATTEMPTED
    }
    statuses = [final[f"c{n}:{CHANNEL}"].status for n in range(18)]
    print(
        f"\nx over {14 * 0.7:.0f} s with {TTL_S:.0f}-s tokens: {refreshed} refreshes; statuses {[s.value for s in statuses]}"
    )
    assert statuses[:14] == [OutcomeStatus.PUBLISHED] * 14
    assert refreshed >= 3
    assert statuses[14:17] == [OutcomeStatus.NEEDS_REAUTH] * 3
    reasons = [final[f"c{n}:{CHANNEL}"].error for n in range(15, 17)]
    assert all(r is not None and "needs re-connecting" in r.message for r in reasons), reasons
    assert parked.status == "needs_reauth"
    assert statuses[17] == OutcomeStatus.PUBLISHED
    for event in events:  # no credential on the topic, in clear or otherwise
        assert "static-unused" not in encode(event).decode()

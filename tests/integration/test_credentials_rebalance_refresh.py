"""A refresh slower than the group's session timeout, still in flight when a second worker joins
the refresher group: the owner keeps its partition until the refresh is on the topic, so the next
owner refreshes with the rotated token and the account stays connected.

Two "hosts" (a vault each) run the real ``shared_credentials`` and ``Refresher`` in this process
against the real broker and the sandbox's TikTok (rotating refresh tokens, 2-second access
tokens), whose token endpoint answers the first refresh only after ``SLOW_S``. The group's
session timeout is the broker's least (6 s), below ``SLOW_S``: a rebalance timeout left at the
session timeout evicted the refreshing owner, the other spent the same refresh token, and the
account ended parked on every host."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from services.publisher.credentials.refresher import Refresher, http_refresh
from services.publisher.credentials.sharing import TopicSharing, shared_credentials
from shared.credentials.credential_topic import following, send_records
from shared.credentials.keys import generate_key, keyring
from shared.credentials.vault import CredentialVault
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.refresh_rig import ACCOUNT, TokenPlatform, token_platform, until

pytestmark = pytest.mark.integration

SESSION_TIMEOUT_MS = 6000
SLOW_S = 9.0


@dataclass
class Group:
    platform: TokenPlatform
    kafka: str
    topic: str
    group: str
    tmp: Path
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    sharing: dict[str, TopicSharing] = field(default_factory=dict)
    refreshers: dict[str, Refresher] = field(default_factory=dict)

    def vault(self, host: str) -> CredentialVault:
        return CredentialVault(self.tmp / host / "credentials.vault", keyring([self.platform.key]))

    async def host(self, name: str) -> None:
        """One publisher's refresher, as the app runs it, until ``stop``."""
        vault = self.vault(name)
        producer = make_producer(self.kafka, f"test-rebalance-{name}")
        await producer.start()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
                shared_credentials(
                    self.kafka, self.topic, self.group, vault, producer, session_timeout_ms=SESSION_TIMEOUT_MS
                ) as sharing,
            ):
                refresher = Refresher(
                    vault,
                    http_refresh(session),
                    lambda: datetime.now(UTC),
                    token_urls={ACCOUNT: self.platform.token_url()},
                    platform_of={ACCOUNT: "tiktok"},
                    sharing=sharing,
                )
                self.sharing[name], self.refreshers[name] = sharing, refresher
                await refresher.run([ACCOUNT], self.stop, interval_s=0.1)
        finally:
            await producer.stop()

    def owns(self, name: str) -> bool:
        return name in self.sharing and bool(self.sharing[name].ownership.owned)

    def counts(self, what: str) -> int:
        return sum(getattr(r, what)["tiktok"] for r in self.refreshers.values())


@pytest.fixture
async def group(kafka_bootstrap: str, tmp_path: Path, run_id: str) -> AsyncIterator[Group]:
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=1)  # whoever holds it refreshes
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.credentials])
    console = make_producer(kafka_bootstrap, "test-rebalance-console")
    await console.start()
    try:
        async with token_platform(generate_key()) as platform:
            rig = Group(platform, kafka_bootstrap, topics.credentials, f"g{run_id}", tmp_path)
            # Connected from the console's machine: only the topic has it.
            await send_records(console, rig.topic, rig.vault("console"), [platform.connected()])
            yield rig
    finally:
        await console.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def test_a_refresh_in_flight_keeps_its_partition_through_a_rebalance(group: Group) -> None:
    await group.platform.fault("respond", SLOW_S)  # the next token request answers after SLOW_S
    hosts = [asyncio.create_task(group.host("A"))]
    try:
        await until(lambda: group.owns("A") and group.platform.refresh_requests() == 1, 30)
        # A second worker joins (a deploy, a scale-up) while A's refresh is in flight.
        hosts.append(asyncio.create_task(group.host("B")))
        await until(lambda: group.counts("refreshes") + group.counts("parked") >= 1, 60)
        # The group settled on one owner, who goes on refreshing from the rotated token.
        await until(lambda: group.owns("A") != group.owns("B"), 60)
        done = group.counts("refreshes")
        await until(lambda: group.counts("refreshes") >= done + 2 or group.counts("parked") > 0, 30)
    finally:
        group.stop.set()
        await asyncio.gather(*hosts)
    assert group.counts("parked") == 0
    reader = group.vault("reader")
    async with following(group.kafka, group.topic, reader):
        pass
    last = reader.fresh(ACCOUNT)
    assert last is not None
    assert last.status == "connected"
    assert group.platform.refresh_works(last)[0] == 200

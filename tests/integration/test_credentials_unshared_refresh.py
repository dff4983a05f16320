"""A refresh the credentials topic did not take (every send of its write failed) is kept in its
host's vault and still reaches the topic: while the publisher runs, as soon as the broker answers
again (``TopicSharing.reshare``), and at the latest when it starts again (``seed_topic``). Until
then every other host holds the refresh token it spent, and a rotating one (TikTok's rules, the
sandbox's 2-second access tokens) would be refused there and the account parked.

Real ``shared_credentials``, ``Refresher`` and broker; the producer is the real one behind a
switch that makes its sends fail, as a broker that stops answering does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from services.publisher.credentials import sharing as sharing_module
from services.publisher.credentials.refresher import Refresher, http_refresh
from services.publisher.credentials.sharing import TopicSharing, shared_credentials
from shared.credentials.credential_topic import following, send_records
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.refresh_rig import ACCOUNT, TTL_S, TokenPlatform, token_platform, until

pytestmark = pytest.mark.integration


class SwitchedProducer:
    """The real producer, whose sends fail while ``down`` is set, and wait without an answer
    while ``silent`` is."""

    def __init__(self, inner: AIOKafkaProducer) -> None:
        self.inner = inner
        self.down = False
        self.silent = False

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
        if self.silent:
            await asyncio.Event().wait()
        if self.down:
            raise KafkaConnectionError("the broker does not answer")
        return await self.inner.send_and_wait(*args, **kwargs)


@dataclass
class Rig:
    platform: TokenPlatform
    kafka: str
    topic: str
    group: str
    tmp: Path
    producer: AIOKafkaProducer
    session: aiohttp.ClientSession

    def vault(self, host: str) -> CredentialVault:
        return CredentialVault(self.tmp / host / "credentials.vault", keyring([self.platform.key]))

    def sharing(self, host: str) -> Any:
        return shared_credentials(
            self.kafka, self.topic, self.group, self.vault(host), self.producer, session_timeout_ms=6000
        )

    def refresher(self, host: str, sharing: TopicSharing) -> Refresher:
        return Refresher(
            self.vault(host),
            http_refresh(self.session),
            lambda: datetime.now(UTC),
            token_urls={ACCOUNT: self.platform.token_url()},
            platform_of={ACCOUNT: "tiktok"},
            sharing=sharing,
        )

    async def on_topic(self, viewer: str) -> CredentialRecord | None:
        """The account's record as a host that only reads the topic gets it."""
        async with following(self.kafka, self.topic, self.vault(viewer)):
            pass
        return self.vault(viewer).fresh(ACCOUNT)

    async def refresh_unshared(self, sharing: TopicSharing) -> tuple[SwitchedProducer, CredentialRecord]:
        """Host A refreshes the account while the broker does not answer; returns the switch
        (still down) and the record its vault kept."""
        await until(lambda: bool(sharing.ownership.owned), 30)
        switch = SwitchedProducer(self.producer)
        sharing.producer = switch
        switch.down = True
        with pytest.raises(KafkaError):
            await self.refresher("A", sharing).ensure_fresh(ACCOUNT)
        kept = self.vault("A").fresh(ACCOUNT)
        assert kept is not None
        assert kept.status == "connected"
        return switch, kept

    async def assert_shared(self, kept: CredentialRecord) -> None:
        """The topic holds ``kept``, and host B, which owns the account once host A is gone,
        refreshes it with the token A's refresh left, not the one it spent."""
        on_topic = await self.on_topic("viewer")
        assert on_topic is not None
        assert on_topic.refresh_token == kept.refresh_token
        await asyncio.sleep(TTL_S + 0.1)  # due again
        async with self.sharing("B") as sharing:
            await until(lambda: bool(sharing.ownership.owned), 30)
            refresher = self.refresher("B", sharing)
            await refresher.ensure_fresh(ACCOUNT)
            assert dict(refresher.parked) == {}
        after = self.vault("B").fresh(ACCOUNT)
        assert after is not None
        assert (after.status, after.version) == ("connected", kept.version + 1)


@pytest.fixture
async def rig(
    kafka_bootstrap: str, tmp_path: Path, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Rig]:
    # Give up on the broker at once (not found: the write's own tries are bounded otherwise).
    monkeypatch.setattr(sharing_module, "WRITE_PATIENCE_S", 1.0, raising=False)
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=1)
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.credentials])
    producer = make_producer(kafka_bootstrap, "test-unshared-refresh")
    await producer.start()
    try:
        async with token_platform(generate_key()) as platform, aiohttp.ClientSession() as session:
            rig = Rig(
                platform, kafka_bootstrap, topics.credentials, f"g{run_id}", tmp_path, producer, session
            )
            # Connected from the console's machine: only the topic has it. Due 2 s later.
            await send_records(producer, rig.topic, rig.vault("console"), [platform.connected()])
            await asyncio.sleep(TTL_S + 0.1)
            yield rig
    finally:
        await producer.stop()
        await delete_topics(kafka_bootstrap, topics.prefix)


async def test_a_refresh_the_topic_did_not_take_goes_on_it_once_the_broker_answers(rig: Rig) -> None:
    async with rig.sharing("A") as sharing:
        switch, kept = await rig.refresh_unshared(sharing)
        local = rig.vault("A").offset(ACCOUNT)  # a write kept here stays at the replaced entry's
        switch.down = False  # the broker answers again
        await until(lambda: rig.vault("A").offset(ACCOUNT) != local, 30)  # its own, on the topic
    await rig.assert_shared(kept)


async def test_a_refresh_the_topic_did_not_take_goes_on_it_at_the_next_start(rig: Rig) -> None:
    async with rig.sharing("A") as sharing:
        _, kept = await rig.refresh_unshared(sharing)  # the broker stays away until A stops
    async with rig.sharing("A"):  # A starts again (a deploy)
        pass
    await rig.assert_shared(kept)


async def test_a_start_leaves_alone_a_vault_entry_the_topic_holds(rig: Rig) -> None:
    # A host whose vault equals the topic sends nothing at its start (the topic's offsets stay).
    async with rig.sharing("A"):
        pass
    before = rig.vault("A").offset(ACCOUNT)
    async with rig.sharing("A"):
        pass
    assert rig.vault("A").offset(ACCOUNT) == before


async def test_a_refresh_cancelled_while_its_write_waits_keeps_its_record_and_shares_it(rig: Rig) -> None:
    async with rig.sharing("A") as sharing:
        await until(lambda: bool(sharing.ownership.owned), 30)
        switch = SwitchedProducer(rig.producer)
        sharing.producer = switch
        switch.silent = True  # the broker takes the record and never answers
        refresh = asyncio.create_task(rig.refresher("A", sharing).ensure_fresh(ACCOUNT))
        await until(lambda: rig.platform.refresh_requests() == 1, 30)
        await asyncio.sleep(0.2)  # the platform answered; the write waits for the broker
        refresh.cancel()  # the caller's own time limit (a publish's) ends it
        with pytest.raises(asyncio.CancelledError):
            await refresh
        # The rotated token is kept, not lost with the cancelled call: the check and the write go
        # on without their caller, and the write keeps it here once the broker's patience is out.
        await until(lambda: getattr(rig.vault("A").fresh(ACCOUNT), "version", 0) == 1, 60)
        kept = rig.vault("A").fresh(ACCOUNT)
        assert kept is not None
        switch.silent = False
        local = rig.vault("A").offset(ACCOUNT)
        await until(lambda: rig.vault("A").offset(ACCOUNT) != local, 30)
    await rig.assert_shared(kept)

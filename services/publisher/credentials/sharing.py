"""The refresher's credentials shared through the credentials topic: a worker refreshes only the
accounts of the partitions it owns (``ownership``), reads them only once its vault has caught up
with the topic (``CredentialFollower``), and writes each new credential to the topic before
anyone uses it.

``shared_credentials`` runs the whole arrangement for one publisher: it follows the topic into
the vault, puts on the topic the accounts only this vault knows (a vault made before the topic,
or by ``make run``'s local set-up), and joins the platform's refresher group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.publisher.credentials.ownership import PartitionOwnership
from shared.credentials.credential_topic import CredentialFollower, following, send_records
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka_connection import KafkaAddress

log = logging.getLogger("warta.publisher.credentials")
WRITE_TRIES = 5


@dataclass(eq=False)
class TopicSharing:
    """One worker's part in the shared credentials (see the module's docstring)."""

    producer: AIOKafkaProducer
    topic: str
    vault: CredentialVault
    follower: CredentialFollower
    ownership: PartitionOwnership

    def refreshing(self, account: str) -> contextlib.AbstractAsyncContextManager[bool]:
        return self.ownership.refreshing(account)

    async def caught_up(self) -> bool:
        return await self.follower.caught_up()

    async def write(self, record: CredentialRecord) -> None:
        """On the topic, then in the vault. A refreshed token exists nowhere else, so the send is
        tried again; if the broker stays away, this host's vault keeps it and the error rises
        (the refresher logs it and the next pass finds the record already refreshed)."""
        for attempt in range(WRITE_TRIES):
            try:
                offsets = await send_records(self.producer, self.topic, self.vault, [record])
                break
            except KafkaError:
                if attempt == WRITE_TRIES - 1:
                    self.vault.put(record)
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
        self.vault.put(record, offsets=offsets)


async def seed_topic(
    producer: AIOKafkaProducer, topic: str, vault: CredentialVault, follower: CredentialFollower
) -> list[str]:
    """Puts on the topic every account this vault holds and the topic does not."""
    missing = [r for a, r in sorted(vault.current().items()) if a not in follower.on_topic]
    vault.put(*missing, offsets=await send_records(producer, topic, vault, missing))
    return [r.account for r in missing]


@contextlib.asynccontextmanager
async def shared_credentials(
    kafka: KafkaAddress,
    topic: str,
    group: str,
    vault: CredentialVault,
    producer: AIOKafkaProducer,
    *,
    imported: Iterable[str] = (),
    session_timeout_ms: int = 10_000,
) -> AsyncIterator[TopicSharing]:
    """The publisher's sharing, running until the block ends (then it leaves the group).
    ``imported``: accounts this start moved into the vault from a clear file, put on the topic
    first, so that following the topic does not bring back what they replaced."""
    moved = [r for a in imported if (r := vault.get(a)) is not None]
    vault.put(*moved, offsets=await send_records(producer, topic, vault, moved))
    async with following(kafka, topic, vault) as follower:
        seeded = await seed_topic(producer, topic, vault, follower)
        if seeded:
            log.info("put %d credentials of this vault on %s", len(seeded), topic)
        ownership = PartitionOwnership(kafka, topic, group, session_timeout_ms=session_timeout_ms)
        stop = asyncio.Event()
        await ownership.start()
        member = asyncio.create_task(ownership.run(stop))
        try:
            yield TopicSharing(producer, topic, vault, follower, ownership)
        finally:
            stop.set()
            await member
            await ownership.stop()

"""The refresher's credentials shared through the credentials topic: a worker refreshes only the
accounts of the partitions it owns (``ownership``), reads them only once its vault has caught up
with the topic (``CredentialFollower``), and writes each new credential to the topic before
anyone uses it.

``shared_credentials`` runs the whole arrangement for one publisher: it follows the topic into
the vault, puts on the topic the records only this vault holds (``not_on_topic``: a vault made
before the topic, or by ``make run``'s local set-up, or a refresh whose write the broker did not
take before this start), and joins the platform's refresher group. While it runs, a refresh the
broker did not take is kept in this host's vault and sent again as soon as the broker answers
(``TopicSharing.reshare``): until then every other host holds the refresh token it spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError

from services.publisher.credentials.ownership import PartitionOwnership
from shared.credentials.credential_topic import CredentialFollower, following, send_records
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka_connection import KafkaAddress

log = logging.getLogger("warta.publisher.credentials")
# How long one write keeps trying the topic before it leaves the record to ``reshare``; part of
# the longest a refresh stays in flight (``ownership.REVOKE_WAIT_S`` counts on it).
WRITE_PATIENCE_S = 20.0
RESHARE_EVERY_S = 1.0


def not_on_topic(
    vault: CredentialVault, follower: CredentialFollower, accounts: Iterable[str] | None = None
) -> list[CredentialRecord]:
    """The vault's records (of ``accounts``, or all) that the credentials topic does not hold:
    the topic has none of the account, or the vault's entry differs from the topic's last record
    while standing at that record's offset. A follower replaces an entry with every later record,
    and a write kept only locally keeps the offset of the entry it replaced, so such an entry is
    a write the topic never took; an entry at another offset reflects a record the follower has
    not read yet, and is left alone."""
    current = vault.current()
    unshared = []
    for account in sorted(current if accounts is None else set(accounts) & current.keys()):
        on_topic = follower.on_topic.get(account)
        if on_topic is None or (vault.offset(account) == on_topic[0] and on_topic[1] != current[account]):
            unshared.append(current[account])
    return unshared


@dataclass(eq=False)
class TopicSharing:
    """One worker's part in the shared credentials (see the module's docstring)."""

    producer: AIOKafkaProducer
    topic: str
    vault: CredentialVault
    follower: CredentialFollower
    ownership: PartitionOwnership
    # Accounts whose last write here the topic did not acknowledge: ``reshare`` sends them.
    unshared: set[str] = field(default_factory=set)

    def refreshing(self, account: str) -> contextlib.AbstractAsyncContextManager[bool]:
        return self.ownership.refreshing(account)

    async def caught_up(self) -> bool:
        return await self.follower.caught_up()

    async def write(self, record: CredentialRecord) -> None:
        """On the topic, then in the vault. A refreshed token exists nowhere else, so the send is
        tried again for up to ``WRITE_PATIENCE_S``; if the broker stays away, this host's vault
        keeps the record, ``reshare`` puts it on the topic once the broker answers, and the error
        rises (the refresher logs it and the next pass finds the record already refreshed). A
        write cancelled midway (its caller's time limit) keeps the record the same way."""
        try:
            offsets = await self._send_patiently(record)
        except BaseException:  # the broker away, or the refresh cancelled: the token exists only here
            self.vault.put(record)
            self.unshared.add(record.account)
            raise
        self.vault.put(record, offsets=offsets)
        self.unshared.discard(record.account)  # an earlier write it replaces is moot

    async def _send_patiently(self, record: CredentialRecord) -> dict[str, int]:
        """``send_records`` of ``record``, tried again until ``WRITE_PATIENCE_S`` has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WRITE_PATIENCE_S
        pause = 0.5
        while True:
            try:
                return await asyncio.wait_for(
                    send_records(self.producer, self.topic, self.vault, [record]), deadline - loop.time()
                )
            except (KafkaError, TimeoutError) as exc:
                if loop.time() + pause >= deadline:
                    if isinstance(exc, KafkaError):
                        raise
                    raise KafkaTimeoutError(f"no acknowledgement within {WRITE_PATIENCE_S:.0f} s") from exc
            await asyncio.sleep(pause)
            pause *= 2

    async def share_unshared(self) -> list[str]:
        """Sends the records of ``unshared`` the topic still does not hold; returns their accounts.
        Each under the account's refresh lock, so that no refresh of it writes in between."""
        if not self.unshared or not await self.follower.caught_up():
            return []  # caught up first: the topic may hold a newer record of the account
        shared: list[str] = []
        for account in sorted(self.unshared):
            with self.vault.refresh_lock(account) as mine:
                if not mine:
                    continue  # a refresh of it is running here: its own write comes next
                records = not_on_topic(self.vault, self.follower, [account])
                self.vault.put(
                    *records, offsets=await send_records(self.producer, self.topic, self.vault, records)
                )
                self.unshared.discard(account)
                shared += [r.account for r in records]
        return shared

    async def reshare(self, stop: asyncio.Event) -> None:
        """Until ``stop``: every ``RESHARE_EVERY_S``, the writes the topic did not take, again."""
        while not stop.is_set():
            try:
                if shared := await self.share_unshared():
                    log.info("put %d credentials kept only in this vault on %s", len(shared), self.topic)
            except KafkaError as exc:
                log.warning("credentials not on the topic yet (%d), broker away: %r", len(self.unshared), exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESHARE_EVERY_S)


async def seed_topic(
    producer: AIOKafkaProducer, topic: str, vault: CredentialVault, follower: CredentialFollower
) -> list[str]:
    """Puts on the topic every record this vault holds and the topic does not (``not_on_topic``)."""
    missing = not_on_topic(vault, follower)
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
        sharing = TopicSharing(producer, topic, vault, follower, ownership)
        resharing = asyncio.create_task(sharing.reshare(stop))
        try:
            yield sharing
        finally:
            stop.set()
            await member
            await resharing
            await ownership.stop()

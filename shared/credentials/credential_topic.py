"""The credentials topic: one current credential per account, the same on every host.

Records are keyed by account and sealed with the vault's own keys (``CredentialVault.seal``:
Fernet, the account inside the ciphertext), so the topic never holds a token in clear and a
record copied under another key is refused. The topic is compacted: its last record per account
is the account's credential.

- ``send_records``: a write (a connect, a paste, an import, a refresh). It returns once the broker
  acknowledged every record (acks=all), which is when a rotated refresh token is durable for
  every host, with each record's offset; the caller then updates its own vault with those
  offsets (``share``), so no follower of this host that is behind can put an older record back.
- ``share_accounts``: the same from a command that stored credentials in its host's vault.
- ``CredentialFollower``: reads every partition from the start and keeps the local vault (this
  host's cache, and its bootstrap when the broker is away) equal to the topic, in the topic's
  order, so every host ends with the last record written anywhere; each entry it writes carries
  its record's offset, and the vault refuses an older one over a newer (``vault.replaces``). A
  record that no configured key opens is logged with its account only and skipped: it never
  stops the follower.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.credentials import CredentialError
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka import KafkaUnavailable, ensure_topics, make_producer, read_from_start
from shared.kafka_connection import KafkaAddress, client_args
from shared.settings import CommonSettings

log = logging.getLogger("warta.credentials.topic")


async def send_records(
    producer: AIOKafkaProducer, topic: str, vault: CredentialVault, records: Iterable[CredentialRecord]
) -> dict[str, int]:
    """Each record, sealed, on the topic and acknowledged by every in-sync replica; returns the
    offset the topic gave each account's record."""
    offsets: dict[str, int] = {}
    for record in records:
        sent = await producer.send_and_wait(topic, vault.seal(record), key=record.account.encode())
        offsets[record.account] = sent.offset
    return offsets


async def share(
    producer: AIOKafkaProducer, topic: str, vault: CredentialVault, *records: CredentialRecord
) -> None:
    """Topic first, then this host's vault with the topic's offsets: a crash between the two
    loses nothing the topic has, and the follower brings it back into the vault."""
    vault.put(*records, offsets=await send_records(producer, topic, vault, records))


async def share_accounts(settings: CommonSettings, vault: CredentialVault, accounts: Iterable[str]) -> int:
    """The vault's records of ``accounts`` on the topic, through a producer of its own (the
    commands that store a credential on one host: connect, paste, import, rotate-key)."""
    records = [r for a in sorted(set(accounts)) if (r := vault.get(a)) is not None]
    if not records:
        return 0
    topic = settings.topics.credentials
    producer = make_producer(settings.kafka, "warta-credentials")
    try:
        # A command may run before any service created the topics.
        await ensure_topics(
            settings.kafka, [s for s in settings.topics.specs() if s.name == topic], patience=5.0
        )
        await producer.start()
        # Put again with their offsets: an entry that reflects a topic record never loses to an
        # older one, and a follower behind may have put one over the vault's first write.
        vault.put(*records, offsets=await send_records(producer, topic, vault, records))
    except KafkaError as exc:
        raise KafkaUnavailable(f"the credentials topic did not take the credential: {exc!r}") from exc
    finally:
        await producer.stop()
    return len(records)


class CredentialFollower:
    def __init__(self, kafka: KafkaAddress, topic: str, vault: CredentialVault) -> None:
        self._kafka = kafka
        self._topic = topic
        self._vault = vault
        self._consumer: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []
        # The topic's last record of each account, with its offset: what a local write is told apart by.
        self.on_topic: dict[str, tuple[int, CredentialRecord]] = {}
        self.applied = 0
        self.unreadable = 0

    async def start(self) -> None:
        """Read the whole topic into the vault before returning."""
        consumer = AIOKafkaConsumer(
            **client_args(self._kafka), enable_auto_commit=False, isolation_level="read_committed"
        )
        self._consumer = consumer
        ends = await read_from_start(consumer, [self._topic])
        self._tps = list(ends)
        while not await self._reached(ends):
            self._apply_batch(await consumer.getmany(timeout_ms=200))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = self._require()
        while not stop.is_set():
            try:
                self._apply_batch(await consumer.getmany(timeout_ms=200))
            except KafkaError as exc:  # the broker away for a moment: the vault stays as it is
                log.warning("credentials topic unreadable for now: %r", exc)
                await asyncio.sleep(1.0)

    async def caught_up(self, timeout_s: float = 5.0) -> bool:
        """True once the vault holds everything the topic held when asked (a refresher reads the
        newest refresh token, never one another host already spent); False after ``timeout_s``."""
        consumer = self._require()
        ends = await consumer.end_offsets(self._tps)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await self._reached(ends):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def _require(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("CredentialFollower.start() was not awaited")
        return self._consumer

    async def _reached(self, ends: dict[TopicPartition, int]) -> bool:
        consumer = self._require()
        for tp, end in ends.items():
            if await consumer.position(tp) < end:
                return False
        return True

    def _apply_batch(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        """The batch's last record per account into the vault, in one write; synchronous, so a
        caller that sees the consumer's position past a record also sees it in the vault."""
        latest: dict[str, CredentialRecord] = {}
        offsets: dict[str, int] = {}
        for records in batch.values():
            for message in records:
                record = self._open(message)
                if record is not None:
                    latest[record.account] = record
                    offsets[record.account] = message.offset
        current = self._vault.current()
        changed = [
            r
            for a, r in latest.items()
            if a not in current or current[a].to_json() != r.to_json() or self._vault.offset(a) != offsets[a]
        ]
        if changed:
            self.applied += len(self._vault.put(*changed, offsets=offsets))

    def _open(self, message: ConsumerRecord[bytes, bytes]) -> CredentialRecord | None:
        if message.key is None or message.value is None:
            return None  # tombstones are never written; nothing to keep
        account = message.key.decode("utf-8", "replace")
        try:
            record = self._vault.unseal(account, message.value)
        except (CredentialError, ValueError, KeyError) as exc:
            self.unreadable += 1
            log.error("credential of %r on the topic cannot be opened: %s", account, type(exc).__name__)
            return None
        self.on_topic[account] = (message.offset, record)
        return record


@contextlib.asynccontextmanager
async def following(
    kafka: KafkaAddress, topic: str, vault: CredentialVault
) -> AsyncIterator[CredentialFollower]:
    """The follower, caught up, following in the background until the block ends."""
    follower = CredentialFollower(kafka, topic, vault)
    stop = asyncio.Event()
    try:
        await follower.start()
        task = asyncio.create_task(follower.run(stop))
        try:
            yield follower
        finally:
            stop.set()
            await task
    finally:
        await follower.stop()

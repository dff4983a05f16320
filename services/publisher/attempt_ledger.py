"""The publisher's attempt ledger: what it knows of each job's attempts, and the one place that
writes them.

The ledger is the compacted topic ``publish.<platform>.attempts`` (partitioned like
``publish.<platform>``), held in memory for the owned partitions. Writes:

- ``attempted`` goes out before the platform is called, as a plain acknowledged write: it only
  has to be on the broker before the call, and with it missing after a crash no call was made;
  outside a transaction it saves each job one commit round trip;
- every settling outcome (published, retry, failed, needs-reauth, unconfirmed, dead) is one
  Kafka transaction (``shared.kafka_txn``): the ledger entry, the outcome on
  ``publish.outcomes`` (a reply job's on ``inbox.replies``; a dead job's letter too) and the consumer offset of the record it
  settles are visible together or not at all. A crash can neither leave an entry the scheduler
  never hears of nor redeliver a job whose outcome is out;
- a final entry (published, failed, dead) is forgotten, with a tombstone, once no ``JobDue`` for
  its job can arrive any more (``ledger_retention`` says when and why); a tombstone read at
  restore removes the entry.

The publisher is the ledger's sole reader (``shared.topics``): a record its restore cannot
decode is dead-lettered there, once however often the partition is restored
(``shared.replay_letters``), and the restore goes on.

Errors::

    KafkaUnavailable   (shared.kafka) a write was not acknowledged or its transaction failed;
                       the worker stops and rebuilds from Kafka after its restart
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from services.publisher.decide import Decision
from services.publisher.lanes import Entry
from services.publisher.ledger_decision import Incarnation
from services.publisher.ledger_retention import expired
from shared.codec import DecodeError, decode_as, encode, is_tombstone
from shared.dead_letters import DeadLetters
from shared.events import DeadLettered, JobDue, OutcomeStatus, PublishOutcome
from shared.ids import new_event_id
from shared.kafka import KafkaUnavailable, acknowledged, replay
from shared.kafka_connection import KafkaAddress
from shared.kafka_txn import Offsets, Outgoing, TransactionalWriter
from shared.replay_letters import ReplayLetters
from shared.topics import TopicRegistry


class AttemptLedger:
    def __init__(
        self,
        *,
        bootstrap: KafkaAddress,
        topics: TopicRegistry,
        platform: str,
        producer: AIOKafkaProducer,
        transactions: AIOKafkaProducer,
        group: str,
        writer_id: str,
        stable_writer: bool,
        settled: Callable[[], Offsets],
        lease: timedelta,
        clock: Callable[[], datetime],
        dead_letters: DeadLetters,
        retention: timedelta | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._dead_letters = dead_letters
        self._topics = topics
        self._platform = platform
        self._producer = producer
        self._transactions = transactions
        self._writer = TransactionalWriter(transactions, group, settled=settled)
        self._lease = lease
        self._clock = clock
        self._retention = retention  # None: final entries are kept for ever
        self._entries: dict[str, PublishOutcome] = {}
        self._partition: dict[str, int] = {}
        self.me = Incarnation(writer_id, uuid.uuid4().hex[:16], clock(), stable_writer)

    async def start(self) -> None:
        """Start the transactional producer: from now on, earlier processes of this replica are
        fenced (the broker refuses their transactions and aborts the one they left open)."""
        try:
            await self._transactions.start()
        except KafkaError as exc:
            raise KafkaUnavailable(f"could not start the ledger's transactional producer: {exc!r}") from exc
        self.me = Incarnation(self.me.writer, self.me.incarnation, self._clock(), self.me.stable)

    async def stop(self) -> None:
        await self._transactions.stop()

    def get(self, job_id: str) -> PublishOutcome | None:
        return self._entries.get(job_id)

    async def restore(self, partitions: set[int]) -> None:
        tps = [TopicPartition(self._topics.publish_attempts(self._platform), p) for p in partitions]
        letters = ReplayLetters(self._bootstrap, self._dead_letters)
        try:
            async for record in replay(self._bootstrap, tps):
                if is_tombstone(record.value) and record.key is not None:
                    self._drop(record.key.decode("utf-8", "replace"))
                    continue
                try:
                    entry = decode_as(record.value, PublishOutcome)
                except DecodeError as exc:
                    await letters.undecodable(record, exc)
                    continue
                self._keep(entry, record.partition)
        finally:
            await letters.close()

    # An entry and the partition its tombstone must go to are kept and dropped together.
    def _keep(self, entry: PublishOutcome, partition: int) -> None:
        self._entries[entry.job_id] = entry
        self._partition[entry.job_id] = partition

    def _drop(self, job_id: str) -> None:
        self._entries.pop(job_id, None)
        self._partition.pop(job_id, None)

    def forget(self, partitions: set[int]) -> None:
        for job_id, p in list(self._partition.items()):
            if p in partitions:
                self._drop(job_id)

    async def forget_final(self, limit: int = 2000) -> int:
        """Tombstone the final entries past the retention (``ledger_retention``); returns how many.

        By the retention's rule no ``JobDue`` of these jobs can arrive any more, so nothing
        writes their entries while the tombstones go out; an entry replaced in memory meanwhile
        all the same stays there (the identity check below).
        """
        if self._retention is None:
            return 0
        gone = expired(self._entries.values(), self._clock(), self._retention, limit)
        if not gone:
            return 0
        topic = self._topics.publish_attempts(self._platform)
        sent = [
            await self._producer.send(topic, None, key=e.job_id.encode(), partition=self._partition[e.job_id])
            for e in gone
        ]
        await acknowledged(sent, f"forgetting {len(gone)} final ledger entries")
        for entry in gone:
            if self._entries.get(entry.job_id) is entry:
                self._drop(entry.job_id)
        return len(gone)

    async def commit_settled(self) -> None:
        """Commit the offsets of settled records that no outcome carried (skips, measurements,
        dead letters)."""
        await self._writer.write(())

    async def record(
        self, due: JobDue, partition: int, decision: Decision, *, settles: Entry[TopicPartition] | None
    ) -> PublishOutcome:
        """Write ``decision`` as ``due``'s outcome; a settling one commits ``settles`` with it."""
        now = self._clock()
        earlier = self._entries.get(due.job_id)
        first = earlier.first_attempt_at if earlier is not None else None
        outcome = outcome_of(
            due, decision, self._platform, now, first_attempt_at=first, lease=self._lease, me=self.me
        )
        records = [
            Outgoing(
                self._topics.publish_attempts(self._platform), encode(outcome), due.job_id.encode(), partition
            ),
            self._audit(outcome),
        ]
        if decision.status is OutcomeStatus.ATTEMPTED:
            sent = [
                await self._producer.send(r.topic, r.value, key=r.key, partition=r.partition) for r in records
            ]
            await acknowledged(sent, f"recording {due.job_id} attempted")
        else:
            if decision.status is OutcomeStatus.DEAD:
                letter = self._letter(due, partition, decision)
                records.append(Outgoing(self._topics.publish_dead, encode(letter), due.content_id.encode()))
            await self._settling(records, settles)
        self._keep(outcome, partition)
        return outcome

    async def announce(self, entry: PublishOutcome, *, settles: Entry[TopicPartition] | None) -> None:
        """Publish ``entry``'s outcome again (a re-fired, already settled attempt)."""
        await self._settling([self._audit(entry)], settles)

    async def _settling(self, records: list[Outgoing], settles: Entry[TopicPartition] | None) -> None:
        # The record is settled by what is about to be written: marked done and queued with no
        # await in between, so its offset goes in the same transaction (``settled``).
        if settles is not None:
            settles.done = True
        await self._writer.write(records)

    def _audit(self, outcome: PublishOutcome) -> Outgoing:
        # A reply's or a hide's outcome is the inbox's business, not the plan's or the reach reports'.
        topic = self._topics.publish_outcomes if outcome.purpose == "publish" else self._topics.inbox_replies
        return Outgoing(topic, encode(outcome), outcome.content_id.encode())

    def _letter(self, due: JobDue, partition: int, decision: Decision) -> DeadLettered:
        return DeadLettered(
            event_id=new_event_id(),
            occurred_at=self._clock(),
            source_topic=self._topics.publish(self._platform),
            source_partition=partition,
            reason=decision.error.message if decision.error else "attempts exhausted",
            job_id=due.job_id,
            content_id=due.content_id,
            channel=due.channel,
            raw=encode(due).decode(),
        )


def outcome_of(
    due: JobDue,
    decision: Decision,
    platform: str,
    now: datetime,
    *,
    first_attempt_at: datetime | None,
    lease: timedelta,
    me: Incarnation,
) -> PublishOutcome:
    """The outcome the ledger writes for ``decision`` on ``due`` at ``now``: an ``attempted`` one
    carries its lease and writer; every one carries the job's first attempt's time forward."""
    attempted = decision.status is OutcomeStatus.ATTEMPTED
    return PublishOutcome(
        event_id=new_event_id(),
        occurred_at=now,
        purpose="publish" if due.purpose == "measure" else due.purpose,
        job_id=due.job_id,
        content_id=due.content_id,
        channel=due.channel,
        platform=platform,
        attempt=due.attempt,
        status=decision.status,
        post_id=decision.post_id,
        url=decision.url,
        retry_at=decision.retry_at,
        error=decision.error,
        reconcile_first=decision.reconcile_first,
        deferred=decision.deferred,
        first_attempt_at=first_attempt_at or (now if attempted else None),
        lease_until=now + lease if attempted else None,
        writer=me.writer if attempted else None,
        incarnation=me.incarnation if attempted else None,
    )

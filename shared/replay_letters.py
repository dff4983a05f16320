"""The letters of a reader that replays topics from their start at every start (the views'
feeders, the inbox's books, the publisher's ledger, analytics' deliveries).

A record such a reader cannot decode is dead-lettered by it when it is the topic's sole reader
(``DeadLetters.owns``, from ``shared.topics``): no one else reads the topic, so no one else
ever would. On any other topic a consumer group's consumer letters it, and the reader only
skips it and counts it. A record that decodes but that the reader's fold raises on is the
reader's own failure, on any topic: it is lettered too.

Once, not at every start: the reader would meet the same bad record again at each replay (a
compacted topic keeps it for good) and, lettering it each time, flood the dead-letter topic.
How far each partition has been lettered is a committed offset of a consumer group of its own,
``letter-marks.<consumer>`` (``LetterMarks``): never joined, only committed to, so it reads
nothing; named outside the ``warta-`` prefix, so the console does not report it as lag. A
record below the mark was lettered at an earlier start, and is only counted as skipped. The
letter's id is derived from its record (``shared.dead_letters.letter_id``), so the rare second
letter — a crash between the letter and the commit, two instances lettering together, or a mark
Kafka expired (``offsets.retention.minutes``, 7 days; each start that meets the mark commits it
again) — is the same letter, and the console counts it once.

Errors::

    KafkaUnavailable   (shared.kafka) the mark could not be read or committed, or the letter
                       not written (``DeadLetters.absorb``): the broker, not the record, failed
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.codec import DecodeError
from shared.dead_letters import DeadLetters, Record
from shared.kafka import KafkaUnavailable
from shared.kafka_connection import KafkaAddress, client_args

log = logging.getLogger("warta.replay_letters")


class LetterMarks:
    """Per partition, the offset below which every record that needed a letter has one."""

    def __init__(self, kafka: KafkaAddress, group: str) -> None:
        self._kafka = kafka
        self._group = group
        self._consumer: AIOKafkaConsumer | None = None
        self._marks: dict[TopicPartition, int] = {}

    async def lettered(self, tp: TopicPartition, offset: int) -> bool:
        """Whether the record at ``offset`` was lettered at an earlier start."""
        if tp not in self._marks:
            try:
                committed = await (await self._client(tp)).committed(tp)
            except KafkaError as exc:
                raise KafkaUnavailable(f"could not read the letter mark of {tp}: {exc!r}") from exc
            self._marks[tp] = committed or 0
            if committed:
                await self._commit(tp)  # keeps the mark past Kafka's offsets retention
        return offset < self._marks[tp]

    async def advance(self, tp: TopicPartition, offset: int) -> None:
        """The record at ``offset`` has its letter."""
        if offset >= self._marks.get(tp, 0):
            self._marks[tp] = offset + 1
            await self._commit(tp)

    async def _commit(self, tp: TopicPartition) -> None:
        try:
            await (await self._client(tp)).commit({tp: self._marks[tp]})
        except KafkaError as exc:
            raise KafkaUnavailable(f"could not commit the letter mark of {tp}: {exc!r}") from exc

    async def _client(self, tp: TopicPartition) -> AIOKafkaConsumer:
        """The group's consumer, started at the first bad record (most starts meet none); it
        commits only for partitions assigned to it, and fetches none (all paused)."""
        if self._consumer is None:
            self._consumer = AIOKafkaConsumer(
                **client_args(self._kafka), group_id=self._group, enable_auto_commit=False
            )
            try:
                await self._consumer.start()
            except KafkaError as exc:
                self._consumer = None
                raise KafkaUnavailable(f"could not start the letter marks' client: {exc!r}") from exc
        assigned = self._consumer.assignment()
        if tp not in assigned:
            self._consumer.assign([*assigned, tp])
            self._consumer.pause(*self._consumer.assignment())
        return self._consumer

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None


class ReplayLetters:
    """What a replaying reader does with a record it cannot decode or fold."""

    def __init__(self, kafka: KafkaAddress, dead: DeadLetters) -> None:
        self._dead = dead
        self._marks = LetterMarks(kafka, f"letter-marks.{dead.consumer}")

    async def undecodable(self, record: Record, exc: DecodeError) -> None:
        """Letter ``record`` if this reader owns its topic; else skip it for its owner's letter."""
        if record.topic in self._dead.owns:
            await self.failed(record, exc)
            return
        self._dead.skipped[record.topic] += 1
        log.debug(
            "skipping %s@%s/%s, its owner's to letter: %s", record.topic, record.partition, record.offset, exc
        )

    async def failed(self, record: Record, exc: Exception) -> None:
        """Letter ``record``, which raised ``exc`` here, unless an earlier start did."""
        tp = TopicPartition(record.topic, record.partition)
        if await self._marks.lettered(tp, record.offset):
            if isinstance(exc, DecodeError):
                self._dead.skipped[record.topic] += 1
            return
        await self._dead.absorb(record, exc)
        await self._marks.advance(tp, record.offset)

    async def close(self) -> None:
        await self._marks.close()

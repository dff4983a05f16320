"""Feeds the status view from the topics: replays them from the beginning, then follows them.

No consumer group: every ingest instance reads every partition, so each has the whole view.
``caught_up`` is set once the replay reaches the end offsets seen at start; until then
``/readyz`` says not ready, because idempotency keys and statuses would be incomplete.

The items this instance accepted were folded into the view when the broker acknowledged them
(read-your-writes, ``http_api``); ``applied_here`` marks such a record, and the feeder skips its
copy on the topic instead of decoding it a second time. Only for records whose second apply
changes nothing (a ``content.approved``: the view keeps an item's first), so skipping it never
changes the view's order-dependent state (pause and resume, say).

A record the view cannot decode is dead-lettered when ingest is its topic's sole reader
(``content.drafts``, ``ingest.idempotency``: ``owns``, from ``TopicRegistry.owned_by``), and
skipped and counted on the topics that a consumer group's consumer letters. One that the view
raises on is the view's own failure: it goes to the dead-letter topic with its error. Either
way the feeder reads on, and a replay at the next start does not letter the record again
(``shared.replay_letters``). A record that raised half-way changed at most the entries of the
item it names; nothing else in the view depends on it.

Claims (a draft's approval, an Idempotency-Key's first use) are decided by their order in the
log, so they are never applied by the instance that wrote them: it waits in ``read_past`` until
the feeder has read past its claim, and then reads the decision from the view. Their topics are
followed by a feeder of their own that fetches as soon as one record is there (long polling:
quiet when nothing comes), so that wait is a round trip, not the 200 ms batching below.

Operators' commands (withdraw, pause, resume) are not applied by their writer either: it waits
the same way, so a pause and another instance's resume count in the order the log holds them,
not in the order their writers heard back from the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.ingest.status_view import StatusView
from shared.codec import DecodeError, decode, is_tombstone
from shared.dead_letters import DeadLetters
from shared.feed_progress import ProgressWatch
from shared.kafka import read_from_start
from shared.kafka_connection import KafkaAddress, client_args
from shared.replay_letters import ReplayLetters
from shared.watchdog import Watchdog

log = logging.getLogger("warta.ingest.feeder")

# Under load a fetch that answers as soon as one record is there returns a handful of records,
# and decoding the response's entry for every followed partition costs more than those records.
# Waiting for 64 KiB, or 200 ms at most, makes the fetches far fewer; 200 ms is what another
# service's event (a publish outcome) may take longer to show in a status. Our own writes show
# at once (read-your-writes).
_FETCH_MIN_BYTES = 64 * 1024
_FETCH_MAX_WAIT_MS = 200


class Feeder:
    def __init__(
        self,
        bootstrap: KafkaAddress,
        topics: list[str],
        view: StatusView,
        *,
        dead_topic: str,
        name: str = "feeder",
        fetch_min_bytes: int = _FETCH_MIN_BYTES,
        fetch_max_wait_ms: int = _FETCH_MAX_WAIT_MS,
        watchdog: Watchdog | None = None,
        owns: Collection[str] = (),
    ) -> None:
        self._bootstrap = bootstrap
        self._fetch = (fetch_min_bytes, fetch_max_wait_ms)
        self._moved = asyncio.Event()  # set, and replaced, whenever a partition's position moves
        self.dead_letters = DeadLetters(dead_topic, "ingest-feeder", bootstrap=bootstrap, owns=owns)
        self._topics = topics
        self._followed = frozenset(topics)
        self._view = view
        self.caught_up = asyncio.Event()
        self._watch = ProgressWatch(name, watchdog)  # beats while the view keeps up
        self.applied = 0
        self.skipped_own = 0
        # Per partition: the next offset the feeder will read, and the offsets ahead of it that
        # this instance has already applied. Only offsets ahead are marked, so none is left over.
        self._next: dict[tuple[str, int], int] = {}
        self._applied_here: set[tuple[str, int, int]] = set()

    def follows(self, topic: str) -> bool:
        return topic in self._followed

    def applied_here(self, topic: str, partition: int, offset: int) -> None:
        """The record at ``offset`` was written and applied by this instance: don't apply it again."""
        if topic in self._followed and offset >= self._next.get((topic, partition), 0):
            self._applied_here.add((topic, partition, offset))

    async def read_past(self, topic: str, partition: int, offset: int) -> None:
        """Return once the record at ``offset`` has been applied to the view (the caller bounds
        the wait)."""
        while self._next.get((topic, partition), 0) <= offset:
            await self._moved.wait()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            **client_args(self._bootstrap),
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_min_bytes=self._fetch[0],
            fetch_max_wait_ms=self._fetch[1],
        )
        letters = ReplayLetters(self._bootstrap, self.dead_letters)
        try:  # stopping a consumer that never started is harmless
            ends = await read_from_start(consumer, self._topics)
            tps = list(ends)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=2000)
                for records in batch.values():
                    for record in records:
                        await self._fold(record, letters)
                if await self._advance(consumer, tps):
                    self._moved.set()
                    self._moved = asyncio.Event()
                await self._watch.check(consumer, tps, asyncio.get_running_loop().time())
                if not self.caught_up.is_set() and all(
                    await asyncio.gather(*(self._reached(consumer, tp, ends[tp]) for tp in tps))
                ):
                    self.caught_up.set()
                    log.info("status view caught up: %d events", self.applied)
        finally:
            await consumer.stop()
            await letters.close()
            await self.dead_letters.close()

    async def _fold(self, record: ConsumerRecord[bytes, bytes], letters: ReplayLetters) -> None:
        try:
            self._apply(record.topic, record.partition, record.offset, record.value)
        except DecodeError as exc:
            await letters.undecodable(record, exc)
        except Exception as exc:
            await letters.failed(record, exc)

    def _apply(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        """Fold the record into the view; ``DecodeError`` when it is no Warta event."""
        if self._applied_here:
            mark = (topic, partition, offset)
            if mark in self._applied_here:
                self._applied_here.discard(mark)
                self.skipped_own += 1
                return
        if is_tombstone(value):
            return  # the plan forgot a finished job; the view keeps its own retention
        self._view.apply(decode(value))
        self.applied += 1

    async def _advance(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> bool:
        """Move each partition's read mark to the consumer's position; whether any moved. The
        position, not the last record seen, since a partition's end can lie past its last record:
        retention may have deleted all of a quiet partition's records, and transaction markers
        take offsets no record has."""
        moved = False
        for tp in tps:
            at = await consumer.position(tp)
            if at > self._next.get((tp.topic, tp.partition), 0):
                self._next[(tp.topic, tp.partition)] = at
                moved = True
        return moved

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
        return bool(await consumer.position(tp) >= end)

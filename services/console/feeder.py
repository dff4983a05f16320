"""Feeds the console's view: replays its topics from the beginning, then follows them.

No consumer group (every console instance reads everything, like ingest's status view);
``caught_up`` is set once the replay reaches the end offsets seen at start.

A record the view cannot decode is skipped (its owning consumer dead-letters it); one the view
raises on goes to the dead-letter topic with its error and the feeder reads on
(``shared.dead_letters``; a letter the view raises on is only logged, never dead-lettered again).
A record that raised half-way changed at most the entries of the job or letter it names.

While every partition that is behind advances, the feeder beats the watchdog; one that stands
still (a wedged consumer after a broker restart) stops the beats and the service is restarted
(``shared.feed_progress``, the rule ingest's status feeder keeps too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.codec import DecodeError, decode, is_tombstone
from shared.dead_letters import DeadLetters
from shared.events import Event
from shared.feed_progress import ProgressWatch
from shared.kafka import read_from_start
from shared.kafka_connection import KafkaAddress, client_args
from shared.watchdog import Watchdog

log = logging.getLogger("warta.console.feeder")


class Feeder:
    def __init__(
        self,
        bootstrap: KafkaAddress,
        topics: list[str],
        apply: Callable[[Event], None],
        *,
        dead_topic: str,
        watchdog: Watchdog | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._dead_letters = DeadLetters(dead_topic, "console-feeder", bootstrap=bootstrap)
        self._topics = topics
        self._apply = apply
        self.caught_up = asyncio.Event()
        self.undecodable = 0
        self._watch = ProgressWatch("console-feeder", watchdog)
        # Per partition, the next offset to read; ``_moved`` is set, and replaced, when one moves.
        self._next: dict[tuple[str, int], int] = {}
        self._moved = asyncio.Event()

    async def read_past(self, topic: str, partition: int, offset: int) -> None:
        """Return once the record at ``offset`` has been applied (the caller bounds the wait)."""
        while self._next.get((topic, partition), 0) <= offset:
            await self._moved.wait()

    def _read(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        """The batch is applied: its partitions' positions move past it."""
        for tp, records in batch.items():
            if records:
                self._next[(tp.topic, tp.partition)] = records[-1].offset + 1
        if batch:
            self._moved.set()
            self._moved = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            **client_args(self._bootstrap), enable_auto_commit=False, isolation_level="read_committed"
        )
        try:  # stopping a consumer that never started is harmless
            ends = await read_from_start(consumer, self._topics)
            tps = list(ends)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=2000)
                for records in batch.values():
                    for record in records:
                        if is_tombstone(record.value):
                            continue  # the plan forgot a finished job; the view has its own retention
                        try:
                            event = decode(record.value)
                        except DecodeError:
                            # The owning consumer dead-letters it; the console only skips it.
                            self.undecodable += 1
                            continue
                        try:
                            self._apply(event)
                        except Exception as exc:
                            await self._dead_letters.absorb(record, exc)
                self._read(batch)
                await self._watch.check(consumer, tps, asyncio.get_running_loop().time())
                if not self.caught_up.is_set() and all(
                    [await consumer.position(tp) >= ends[tp] for tp in tps]
                ):
                    self.caught_up.set()
                    log.info("console view caught up")
        finally:
            await consumer.stop()
            await self._dead_letters.close()

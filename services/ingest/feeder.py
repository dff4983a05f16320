"""Feeds the status view from the topics: replays them from the beginning, then follows them.

No consumer group: every ingest instance reads every partition, so each has the whole view.
``caught_up`` is set once the replay reaches the end offsets seen at start; until then
``/readyz`` says not ready, because idempotency keys and statuses would be incomplete.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.ingest.status_view import StatusView
from shared.codec import DecodeError, decode

log = logging.getLogger("warta.ingest.feeder")


class Feeder:
    def __init__(self, bootstrap: str, topics: list[str], view: StatusView) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._view = view
        self.caught_up = asyncio.Event()
        self.applied = 0
        self.undecodable = 0

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, isolation_level="read_committed"
        )
        await consumer.start()
        try:
            tps = await self._partitions(consumer)
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=2000)
                for records in batch.values():
                    for record in records:
                        try:
                            self._view.apply(decode(record.value))
                            self.applied += 1
                        except DecodeError as exc:
                            # The owning consumer dead-letters it; the view only skips it.
                            self.undecodable += 1
                            log.debug("skipping %s@%s: %s", record.topic, record.offset, exc)
                if not self.caught_up.is_set() and all(
                    await asyncio.gather(*(self._reached(consumer, tp, ends[tp]) for tp in tps))
                ):
                    self.caught_up.set()
                    log.info("status view caught up: %d events", self.applied)
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        tps: list[TopicPartition] = []
        for topic in self._topics:
            for _ in range(100):
                parts = consumer.partitions_for_topic(topic)
                if parts:
                    break
                await consumer._client.force_metadata_update()
                await asyncio.sleep(0.1)
            tps += [TopicPartition(topic, p) for p in sorted(parts or ())]
        return tps

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
        return bool(await consumer.position(tp) >= end)

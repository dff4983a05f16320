"""The planner loop: owns the channels of its ``schedule.commands`` partitions, holds their plan
durably on ``schedule.jobs``/``schedule.channels`` and fires due jobs.

One asyncio task does everything (commands and firing), so the plan never sees two changes at
once. On assignment it rebuilds the owned partitions' plan from the compacted changelogs before
acting; on revocation it commits and forgets them. Effects are written in durability order: due
jobs first, then the plan records that say they are due, then the command offsets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)

from services.scheduler.plan import Effects, Plan
from shared.channels import ChannelDirectory
from shared.codec import DecodeError, decode, encode
from shared.events import ChannelStateRecorded, JobPlanned
from shared.kafka import dead_letter, replay, send_event
from shared.partitioning import partition_for
from shared.topics import TopicRegistry

log = logging.getLogger("warta.scheduler.planner")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, planner: Planner) -> None:
        self._planner = planner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._planner.revoke({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._planner.restore({tp.partition for tp in assigned})


class Planner:
    def __init__(
        self,
        bootstrap: str,
        topics: TopicRegistry,
        group: str,
        channels: ChannelDirectory,
        plan: Plan,
        producer: AIOKafkaProducer,
        *,
        tick_s: float = 0.2,
        clock: Clock = utc_now,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._channels = channels
        self._plan = plan
        self._producer = producer
        self._tick_s = tick_s
        self._clock = clock
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=300_000,
        )
        self._owned: set[int] = set()
        self.fired = 0
        self.lateness: list[float] = []  # seconds between slot and firing, for metrics

    @property
    def plan(self) -> Plan:
        return self._plan

    def _partition_of(self, channel: str) -> int:
        return partition_for(channel, self._topics.partitions)

    async def restore(self, partitions: set[int]) -> None:
        started = self._clock()
        tps = [TopicPartition(self._topics.schedule_jobs, p) for p in partitions]
        tps += [TopicPartition(self._topics.schedule_channels, p) for p in partitions]
        jobs = 0
        async for record in replay(self._bootstrap, tps):
            try:
                event = decode(record.value)
            except DecodeError as exc:
                log.warning("skipping undecodable plan record %s/%s: %s", record.topic, record.offset, exc)
                continue
            if isinstance(event, JobPlanned):
                self._plan.restore_job(event)
                jobs += 1
            elif isinstance(event, ChannelStateRecorded):
                self._plan.restore_channel(event)
        self._owned |= partitions
        for cid in self._channels.ids:  # own channels without history too
            if self._partition_of(cid) in partitions:
                self._plan.channel_plan(cid)
        took = (self._clock() - started).total_seconds()
        log.info("restored partitions %s: %d plan records in %.2f s", sorted(partitions), jobs, took)

    async def revoke(self, partitions: set[int]) -> None:
        try:
            await self._consumer.commit()
        except Exception as exc:  # the group may already have moved on; the next owner re-reads
            log.warning("commit on revoke failed: %r", exc)
        self._owned -= partitions
        self._plan.drop_channels(
            c for c in self._plan.owned_channels() if self._partition_of(c) in partitions
        )

    async def apply(self, fx: Effects) -> None:
        if not fx:
            return
        dues = [
            await self._producer.send(self._topics.publish(d.platform), encode(d), key=d.job_id.encode())
            for d in fx.due
        ]
        await asyncio.gather(*dues)
        writes = [
            await self._producer.send(
                self._topics.schedule_jobs,
                encode(j),
                key=j.job_id.encode(),
                partition=self._partition_of(j.channel),
            )
            for j in fx.jobs
        ]
        writes += [
            await self._producer.send(
                self._topics.schedule_channels,
                encode(c),
                key=c.channel.encode(),
                partition=self._partition_of(c.channel),
            )
            for c in fx.channels
        ]
        await asyncio.gather(*writes)
        self.fired += len(fx.due)
        for note in fx.notes:
            log.info("%s", note)

    async def run(self, stop: asyncio.Event) -> None:
        self._consumer.subscribe([self._topics.schedule_commands], listener=_Rebalance(self))
        await self._consumer.start()
        try:
            while not stop.is_set():
                batch = await self._consumer.getmany(timeout_ms=self._wait_ms(), max_records=500)
                for records in batch.values():
                    for record in records:
                        await self._command(record)
                if batch:
                    await self._consumer.commit()
                await self._fire()
        finally:
            await self._consumer.stop()

    async def _command(self, record: ConsumerRecord[bytes, bytes]) -> None:
        channel = record.key.decode("utf-8", "replace") if record.key else ""
        try:
            event = decode(record.value)
        except DecodeError as exc:
            log.warning("dead-lettering command at offset %s: %s", record.offset, exc)
            await send_event(
                self._producer, self._topics.publish_dead, "poison", dead_letter(record, str(exc))
            )
            return
        await self.apply(self._plan.handle(channel, event, self._clock()))

    async def _fire(self) -> None:
        now = self._clock()
        fx = self._plan.fire(now)
        for due in fx.due:
            if due.purpose == "publish":
                self.lateness.append((now - due.slot).total_seconds())
        await self.apply(fx)

    def _wait_ms(self) -> int:
        nxt = self._plan.next_instant()
        if nxt is None:
            return int(self._tick_s * 1000)
        gap = nxt - self._clock().timestamp()
        return max(0, min(int(gap * 1000), int(self._tick_s * 1000)))

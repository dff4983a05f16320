"""Routes every input of the scheduler onto ``schedule.commands``, keyed by channel.

An approval goes to the channels it names, and one with a ``topic_key`` to every other channel
too, each of which supersedes its older versions' jobs of the topic; a channel's commands share
one partition, so each channel meets the versions in the order they were routed.

Stateless and at-least-once: a redelivered event becomes a repeated command, which the plan
recognises (job already planned, outcome already applied). A record that raises while it is
routed goes to the dead-letter topic with its error, and the stream moves on
(``shared.dead_letters``); only a broker failure stops the router.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import InitVar, dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from opentelemetry.trace import SpanKind

from shared.channels import ChannelDirectory
from shared.codec import decode
from shared.dead_letters import DeadLetters
from shared.events import (
    ContentApproved,
    ControlIssued,
    EngagementObserved,
    Event,
    OperatorDecided,
    PublishOutcome,
)
from shared.kafka import acknowledged
from shared.kafka_connection import KafkaAddress, client_args
from shared.metrics import SchedulerMetrics
from shared.topics import TopicRegistry
from shared.tracing import kafka_headers, span, traceparent_of
from shared.watchdog import Watchdog

log = logging.getLogger("warta.scheduler.router")


def route(event: Event, channels: ChannelDirectory) -> list[str]:
    """The channels an event concerns (pure)."""
    if isinstance(event, ContentApproved):
        named = [v.channel for v in event.variants]
        if event.topic_key is None:
            return named
        # A version of a topic supersedes the older versions' jobs on every channel, also those
        # it does not name (design.md, guarantee 3; services/scheduler/supersession.py).
        return [*named, *(c for c in channels.ids if c not in named)]
    if isinstance(event, ControlIssued):
        # No channels named: a pause/resume of everything, or a withdraw that must reach every
        # channel that may hold a job of the item.
        return list(channels.reached_by(event.channels))
    if isinstance(event, PublishOutcome | OperatorDecided):
        # The channels ranked after this one in its group wait for its outcome (official first).
        source = channels.get(event.channel)
        followers = [
            c.id
            for c in channels.channels
            if source is not None
            and source.group is not None
            and c.group == source.group
            and c.rank > source.rank
        ]
        return [event.channel, *followers]
    if isinstance(event, EngagementObserved):
        return [event.channel]
    return []


@dataclass(eq=False)
class Router:
    bootstrap: InitVar[KafkaAddress]
    topics: TopicRegistry
    group: InitVar[str]
    channels: ChannelDirectory
    producer: AIOKafkaProducer
    metrics: SchedulerMetrics | None = None
    watchdog: Watchdog | None = None
    routed: int = field(default=0, init=False)

    def __post_init__(self, bootstrap: KafkaAddress, group: str) -> None:
        self._consumer = AIOKafkaConsumer(
            self.topics.content_approved,
            self.topics.content_control,
            self.topics.publish_outcomes,
            self.topics.engagement_observed,
            **client_args(bootstrap),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._dead_letters = DeadLetters(
            self.topics.publish_dead, "scheduler-router", producer=self.producer, on_letter=self._count_poison
        )

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.start()
        try:
            while not stop.is_set():
                if self.watchdog is not None:
                    self.watchdog.beat("router")
                batch = await self._consumer.getmany(timeout_ms=200, max_records=500)
                if not batch:
                    continue
                sends: list[asyncio.Future[object]] = []
                for records in batch.values():
                    for record in records:
                        sends += await self._dead_letters.handled(record, self._route_one, [])
                        if self.metrics is not None:
                            self.metrics.consumed.labels(record.topic).inc()
                await acknowledged(sends, "routed commands")
                await self._consumer.commit()
        finally:
            await self._consumer.stop()

    def _count_poison(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if self.metrics is not None:
            self.metrics.poison.labels(record.topic).inc()

    async def _route_one(self, record: ConsumerRecord[bytes, bytes]) -> list[asyncio.Future[object]]:
        event = decode(record.value)
        futures: list[asyncio.Future[object]] = []
        parent = traceparent_of(record.headers) or getattr(event, "traceparent", None)
        with span("scheduler.route", parent=parent, kind=SpanKind.CONSUMER, event=event.event_type):
            headers = kafka_headers()
        for channel in route(event, self.channels):
            if self.channels.get(channel) is None:
                log.warning("event %s names unknown channel %r; skipped", event.event_id, channel)
                continue
            fut = await self.producer.send(
                self.topics.schedule_commands, record.value, key=channel.encode(), headers=headers
            )
            futures.append(fut)
            self.routed += 1
            if self.metrics is not None:
                self.metrics.produced.labels(self.topics.schedule_commands).inc()
        return futures

"""Keeps the saved answers: the latest record of each name on ``inbox.templates``, in memory.

Rebuilt at start by reading the compacted topic to its end (``rebuild``), then kept by applying
each change the service writes, after the broker acknowledged it (acks=all): an answer the API
gives is on the topic, and a restart reads back exactly what was acknowledged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from services.inbox.follow import read_to_end
from shared.codec import encode
from shared.dead_letters import DeadLetters
from shared.events import Event
from shared.ids import new_event_id
from shared.kafka import ACK_DEADLINE_S, acknowledged
from shared.kafka_connection import KafkaAddress
from shared.template_events import ReplyTemplateDeleted, ReplyTemplateSaved


class TemplateBook:
    """The templates by name (pure): what the topic's records say, in the order applied."""

    def __init__(self) -> None:
        self._templates: dict[str, ReplyTemplateSaved] = {}

    def apply(self, event: Event) -> None:
        if isinstance(event, ReplyTemplateSaved):
            self._templates[event.name] = event
        elif isinstance(event, ReplyTemplateDeleted):
            self._templates.pop(event.name, None)

    def get(self, name: str) -> ReplyTemplateSaved | None:
        return self._templates.get(name)

    def all(self) -> list[ReplyTemplateSaved]:
        return [self._templates[name] for name in sorted(self._templates)]


class TemplateStore:
    def __init__(
        self,
        *,
        producer: AIOKafkaProducer,
        topic: str,
        book: TemplateBook | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ack_deadline_s: float = ACK_DEADLINE_S,
    ) -> None:
        self._producer = producer
        self._ack_deadline_s = ack_deadline_s
        self._topic = topic
        self.book = book or TemplateBook()
        self._clock = clock
        self._lock = asyncio.Lock()  # one write at a time: the book follows the topic's order

    async def rebuild(self, kafka: KafkaAddress, dead: DeadLetters) -> int:
        return await read_to_end(kafka, self._topic, self.book.apply, dead)

    async def save(self, name: str, text_en: str, text_id: str, by: str) -> ReplyTemplateSaved:
        event = ReplyTemplateSaved(
            event_id=new_event_id(),
            occurred_at=self._clock(),
            name=name,
            text_en=text_en,
            text_id=text_id,
            by=by,
        )
        await self._write(event)
        return event

    async def delete(self, name: str, by: str, reason: str) -> ReplyTemplateDeleted:
        event = ReplyTemplateDeleted(
            event_id=new_event_id(), occurred_at=self._clock(), name=name, by=by, reason=reason
        )
        await self._write(event)
        return event

    async def _write(self, event: ReplyTemplateSaved | ReplyTemplateDeleted) -> None:
        async with self._lock:
            future = await self._producer.send(self._topic, encode(event), key=event.name.encode())
            await acknowledged([future], "writing a saved answer", self._ack_deadline_s)
            self.book.apply(event)

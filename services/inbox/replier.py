"""Posts the approved replies on ``inbox.replies`` to their platforms, each at most once.

The replier's memory is the topic itself: at start it reads every record (``ReplyLog`` per
reply id), then consumes in the group ``<prefix>-inbox-replier``. For each request,
``reply_decision.next_step`` says what to do: ``ReplyAttempted`` is on the broker (acks=all)
before the platform is called and ``ReplySettled`` right after, so a crash between the two
leaves an attempt without a settlement, which is reconciled with the platform (a look-up)
before anything is sent again. Offsets are committed after each batch; a redelivered request
finds its log and does nothing twice.

A record that is not a reply event, or that raises, goes to the dead-letter topic and the
consumer goes on. A 429 waits its ``Retry-After`` (at most ``max_wait_s``) and tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord

from services.inbox.follow import consume
from services.inbox.reply_decision import MAX_ATTEMPTS, ReplyLog, Settle, Step, after_lookup, next_step
from services.inbox.reply_platforms import REPLY_PLATFORMS
from services.inbox.reply_sender import Refused, ReplySender, Sent, Throttled, Unclear
from shared.channels import ChannelDirectory
from shared.codec import decode
from shared.dead_letters import DeadLetters
from shared.events import Event, ReplyAttempted, ReplyRequested, ReplySettled, ReplyStatus
from shared.kafka import send_event
from shared.kafka_connection import KafkaAddress
from shared.topics import TopicRegistry

log = logging.getLogger("warta.inbox.replier")

ReplyEvent = ReplyRequested | ReplyAttempted | ReplySettled


class Replier:
    def __init__(
        self,
        *,
        producer: AIOKafkaProducer,
        topics: TopicRegistry,
        channels: ChannelDirectory,
        sender: ReplySender,
        dead_letters: DeadLetters,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait_s: float = 60.0,
    ) -> None:
        self._producer = producer
        self._topics = topics
        self._channels = channels
        self._sender = sender
        self._dead_letters = dead_letters
        self._clock = clock
        self._pause = pause
        self._max_wait_s = max_wait_s
        self.logs: dict[str, ReplyLog] = {}

    def remember(self, event: Event) -> None:
        """Apply one record of ``inbox.replies`` to the logs (the rebuild at start uses it)."""
        if isinstance(event, ReplyRequested):
            self.logs.setdefault(event.event_id, ReplyLog()).apply(event)
        elif isinstance(event, (ReplyAttempted, ReplySettled)):
            self.logs.setdefault(event.reply_id, ReplyLog()).apply(event)

    async def _record(self, event: ReplyEvent, key: str) -> None:
        await send_event(self._producer, self._topics.inbox_replies, key, event)
        self.remember(event)

    async def handle(self, request: ReplyRequested) -> None:
        self.remember(request)
        reply_log = self.logs[request.event_id]
        step = next_step(reply_log)
        if step == Step.SKIP:
            return
        channel = self._channels.get(request.channel)
        if channel is None or channel.platform not in REPLY_PLATFORMS:
            await self._settle(
                request, Settle(ReplyStatus.FAILED, error=f"the inbox cannot reply on {request.channel}")
            )
            return
        outcome: Settle | Step = step
        if step == Step.RECONCILE:
            outcome = await self._reconcile(request, reply_log, "the replier stopped during an attempt")
        while outcome == Step.POST:
            attempt = reply_log.attempts + 1
            await self._record(
                ReplyAttempted(
                    event_id=f"{request.event_id}.a{attempt}",
                    occurred_at=self._clock(),
                    reply_id=request.event_id,
                    key=request.key,
                    attempt=attempt,
                ),
                request.key,
            )
            result = await self._sender.send(channel, request)
            if isinstance(result, Sent):
                outcome = Settle(ReplyStatus.POSTED, posted_id=result.posted_id)
            elif isinstance(result, Refused):
                outcome = Settle(ReplyStatus.FAILED, error=result.error)
            elif isinstance(result, Throttled):
                if attempt >= MAX_ATTEMPTS:
                    outcome = Settle(
                        ReplyStatus.FAILED, error=f"{result.error}; gave up after {attempt} attempts"
                    )
                else:
                    await self._pause(min(result.retry_after, self._max_wait_s))
            elif isinstance(result, Unclear):
                outcome = await self._reconcile(request, reply_log, result.error)
        assert isinstance(outcome, Settle)
        await self._settle(request, outcome)

    async def _reconcile(self, request: ReplyRequested, reply_log: ReplyLog, why: str) -> Settle | Step:
        channel = self._channels.get(request.channel)
        assert channel is not None
        found, answered = await self._sender.lookup(channel, request)
        return after_lookup(found, answered=answered, attempts=reply_log.attempts, why=why)

    async def _settle(self, request: ReplyRequested, outcome: Settle) -> None:
        settled = ReplySettled(
            event_id=f"{request.event_id}.s",
            occurred_at=self._clock(),
            reply_id=request.event_id,
            key=request.key,
            status=outcome.status,
            posted_id=outcome.posted_id,
            error=outcome.error,
        )
        await self._record(settled, request.key)
        log.info(
            "reply %s on %s: %s %s", request.event_id, request.channel, outcome.status, outcome.error or ""
        )

    async def consume(self, kafka: KafkaAddress, group: str, stop: asyncio.Event) -> None:
        await consume(
            kafka,
            [self._topics.inbox_replies],
            group,
            self._handle_record,
            self._dead_letters,
            stop,
            max_records=100,
        )

    async def _handle_record(self, record: ConsumerRecord[bytes, bytes]) -> None:
        event = decode(record.value)
        if isinstance(event, ReplyRequested):
            await self.handle(event)
        elif isinstance(event, (ReplyAttempted, ReplySettled)):
            self.remember(event)
        else:
            raise TypeError(f"{record.topic} carries reply events, not {event.event_type}")

"""Keeps the inbox: comments become entries, operators' commands become changes.

Every change is written twice before it counts (acks=all): to ``inbox.items`` (compacted, the
latest entry per comment; the book is rebuilt from it at start) and to ``inbox.changes`` (the
audit trail: every change with who and why). Only then is it applied to the in-memory book.

- ``consume``: ``comments.observed`` in the consumer group ``<prefix>-inbox-keeper``; a comment
  the book already holds is no change (repeats from polls, webhooks and redeliveries); offsets
  are committed after the batch's changes are written. A record that is not a comment, or that
  raises, goes to the dead-letter topic and the consumer goes on.
- a change that approves a reply also writes its publisher job (``reply_jobs.reply_job``, on
  ``publish.<platform>``, due now) in the same acknowledged batch; ``request_pending`` sends again
  the job of every entry still ``replying`` at start (the publisher's ledger answers a settled
  job again instead of posting it twice), so a crash between the two writes cannot strand a reply.
- ``consume`` also reads ``inbox.replies``, where the publisher writes its outcomes of reply
  jobs: posted, refused or unconfirmed moves the entry on (``lifecycle.settle``); a retry the
  publisher asks for is sent again at its time, as the next attempt (``reply_timers``).
- a hide, a reopen of a comment hidden on the platform, or a delete writes its publisher job
  (``moderation_jobs``) the same way, where the platform's API does it; its outcome on
  ``inbox.replies`` (``purpose`` hide, unhide or delete) records on the entry whether the
  platform did it (``lifecycle.settle_hide``). A restart sends every one still on its way
  again, and so does a reply's settling (an outcome that came while the reply was posted was not
  taken: ``moderation_jobs.sends_moderation``): each is harmless to repeat.
- ``receive`` also counts each new comment for the spike detector (``services.inbox.spikes``): a
  comment that starts a spike writes its ``CommentSpikeStarted`` to ``inbox.spikes`` in the same
  acknowledged batch, so a redelivery after a crash writes it again with the same id.
- ``change``: one command on one entry, decided by ``lifecycle.decide`` while holding the
  keeper's lock, so two operators acting on one comment at once are serialised: the second
  sees the first's change (and, for a second answer, is refused without ``override``). The
  process is the arbiter: run one inbox per installation, as for the console.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord

from services.inbox.book import InboxBook, key_of
from services.inbox.follow import consume
from services.inbox.lifecycle import Command, decide, received, requested, settle, settle_hide
from services.inbox.metrics import InboxMetrics
from services.inbox.moderation_jobs import (
    hide_settlement,
    moderation_job,
    partition_key,
    sends_moderation,
    waiting_hide,
)
from services.inbox.reply_jobs import RetryAt, reply_job, reply_key, settlement
from services.inbox.reply_timers import Timers
from services.inbox.responsiveness import first_answer_wait
from services.inbox.spike_events import spike_key, spikes_of
from services.inbox.spikes import SpikeWatch
from services.inbox.watched import comment_key
from shared.codec import decode, encode
from shared.dead_letters import DeadLetters
from shared.events import (
    MODERATIONS,
    CommentObserved,
    CommentSpikeStarted,
    InboxAction,
    InboxChanged,
    JobDue,
    PublishOutcome,
    ReplyAttempted,
    ReplyRequested,
    ReplySettled,
)
from shared.kafka import ACK_DEADLINE_S, acknowledged
from shared.kafka_connection import KafkaAddress
from shared.topics import TopicRegistry

log = logging.getLogger("warta.inbox.keeper")


class NoSuchEntry(LookupError):
    """The inbox holds no comment with that key (404)."""


class InboxKeeper:
    def __init__(
        self,
        *,
        producer: AIOKafkaProducer,
        topics: TopicRegistry,
        book: InboxBook,
        dead_letters: DeadLetters,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        own_names: Mapping[str, frozenset[str]] | None = None,
        metrics: InboxMetrics | None = None,
        spikes: SpikeWatch | None = None,
        ack_deadline_s: float = ACK_DEADLINE_S,
    ) -> None:
        self._producer = producer
        self._ack_deadline_s = ack_deadline_s
        self.metrics = metrics or InboxMetrics()
        self.spikes = spikes or SpikeWatch()
        self._own = dict(own_names or {})  # channel → its account's names: its replies are not comments
        self._topics = topics
        self.book = book
        self._dead_letters = dead_letters
        self._clock = clock
        self._lock = asyncio.Lock()
        self._retries = Timers(clock)

    async def _write(self, entries: list[InboxChanged], spikes: Sequence[CommentSpikeStarted] = ()) -> None:
        futures = []
        for entry in entries:
            key, value = key_of(entry).encode(), encode(entry)
            futures.append(await self._producer.send(self._topics.inbox_items, value, key=key))
            futures.append(await self._producer.send(self._topics.inbox_changes, value, key=key))
            if entry.action == InboxAction.REPLY and (request := requested(entry, key.decode())) is not None:
                futures.append(await self._send_job(request, 1))
            if sends_moderation(entry) and (job := moderation_job(entry, key.decode(), 1, self._clock())):
                futures.append(await self._send(job))
        for spike in spikes:
            futures.append(
                await self._producer.send(
                    self._topics.inbox_spikes, encode(spike), key=spike_key(spike.channel, spike.post_id)
                )
            )
        await acknowledged(futures, "writing inbox changes", self._ack_deadline_s)
        for entry in entries:
            self.book.apply(entry)
        for spike in spikes:
            self.metrics.spike_started(spike.channel)

    async def receive(self, comments: list[CommentObserved]) -> int:
        """Open an entry for each comment the inbox does not hold yet; the number opened."""
        async with self._lock:
            now = self._clock()
            fresh: dict[str, InboxChanged] = {}
            for comment in comments:
                key = comment_key(comment.channel, comment.comment_id)
                if key in fresh:
                    continue
                entry = received(
                    comment, self.book.get(key), now, own_names=self._own.get(comment.channel, frozenset())
                )
                if entry is not None:
                    fresh[key] = entry
            if fresh:
                opened = list(fresh.values())
                await self._write(opened, spikes_of(self.spikes, opened, now))
            return len(fresh)

    async def change(self, key: str, command: Command, *, four_eyes: bool) -> InboxChanged:
        async with self._lock:
            current = self.book.get(key)
            if current is None:
                raise NoSuchEntry(key)
            entry = decide(current, command, four_eyes=four_eyes, now=self._clock())
            await self._write([entry])
            return entry

    async def settle(self, outcome: ReplySettled) -> InboxChanged | None:
        """Move the entry on by the replier's ``outcome``; None when it makes no change."""
        async with self._lock:
            current = self.book.get(outcome.key)
            entry = None if current is None else settle(current, outcome, self._clock())
            if entry is None or current is None:
                return None
            await self._write([entry])
            # Observed once: a repeated outcome (a restart before the commit) settles nothing.
            if (wait := first_answer_wait(current, entry)) is not None:
                self.metrics.answered(entry, wait)
            return entry

    async def request_pending(self) -> int:
        """Send again the job of every entry still replying or hiding, as its first attempt; how
        many.

        The publisher's ledger answers a job it has settled with its outcome again (a retry it
        asked for included, which ``outcome`` then schedules), so nothing is posted twice; a hide
        sent twice is harmless anyway."""
        async with self._lock:
            futures = []
            for entry in self.book.select():
                if (request := requested(entry, key_of(entry))) is not None:
                    futures.append(await self._send_job(request, 1))
                if (job := moderation_job(entry, key_of(entry), 1, self._clock())) is not None:
                    futures.append(await self._send(job))
            await acknowledged(futures, "re-requesting pending replies", self._ack_deadline_s)
            return len(futures)

    async def _send_job(self, request: ReplyRequested, attempt: int) -> asyncio.Future[object]:
        return await self._send(reply_job(request, attempt, self._clock()))

    async def _send(self, job: JobDue) -> asyncio.Future[object]:
        topic = self._topics.publish(job.platform)
        future: asyncio.Future[object] = await self._producer.send(topic, encode(job), key=partition_key(job))
        return future

    async def outcome(self, outcome: PublishOutcome) -> InboxChanged | None:
        """What the publisher did with a reply or hide job: settle its entry, or ask again when told."""
        key = reply_key(outcome.content_id)
        if outcome.purpose in MODERATIONS:
            return await self._hide_outcome(key, outcome)
        step = settlement(outcome, key)
        if isinstance(step, ReplySettled):
            return await self.settle(step)
        if isinstance(step, RetryAt):
            self._retries.later(outcome.content_id, step, lambda: self._retry(key, outcome.content_id, step))
        return None

    async def _hide_outcome(self, key: str, outcome: PublishOutcome) -> InboxChanged | None:
        step = hide_settlement(outcome)
        if isinstance(step, RetryAt):
            self._retries.later(
                outcome.content_id, step, lambda: self._hide_again(key, outcome.content_id, step)
            )
            return None
        if step is None:
            return None
        async with self._lock:
            current = self.book.get(key)
            entry = None if current is None else settle_hide(current, step, self._clock())
            if entry is not None:
                await self._write([entry])
            return entry

    async def _hide_again(self, key: str, request_id: str, step: RetryAt) -> None:
        async with self._lock:
            entry = self.book.get(key)
            if entry is not None and waiting_hide(entry, request_id):
                job = moderation_job(entry, key, step.attempt, self._clock())
                if job is not None:
                    await acknowledged(
                        [await self._send(job)], f"asking for a {job.purpose} again", self._ack_deadline_s
                    )

    async def _retry(self, key: str, reply_id: str, step: RetryAt) -> None:
        async with self._lock:
            entry = self.book.get(key)
            request = None if entry is None else requested(entry, key)
            if request is not None and request.event_id == reply_id:
                await acknowledged(
                    [await self._send_job(request, step.attempt)],
                    "asking for a reply again",
                    self._ack_deadline_s,
                )

    async def consume(self, kafka: KafkaAddress, group: str, stop: asyncio.Event) -> None:
        try:
            await self._consume(kafka, group, stop)
        finally:
            await self._retries.cancel()

    async def _consume(self, kafka: KafkaAddress, group: str, stop: asyncio.Event) -> None:
        await consume(
            kafka,
            [self._topics.comments_observed, self._topics.inbox_replies],
            group,
            self._record,
            self._dead_letters,
            stop,
            max_records=500,
        )

    async def _record(self, record: ConsumerRecord[bytes, bytes]) -> None:
        event = decode(record.value)
        if isinstance(event, CommentObserved) and record.topic == self._topics.comments_observed:
            await self.receive([event])
        elif isinstance(event, PublishOutcome) and record.topic == self._topics.inbox_replies:
            await self.outcome(event)
        elif isinstance(event, ReplySettled) and record.topic == self._topics.inbox_replies:
            await self.settle(event)  # written by the inbox's replier of earlier versions
        elif (
            not isinstance(event, (ReplyRequested, ReplyAttempted))
            or record.topic != self._topics.inbox_replies
        ):
            raise TypeError(f"{record.topic} does not carry {event.event_type} events")

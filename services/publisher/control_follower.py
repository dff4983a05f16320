"""The publisher's follower of ``content.control``: the operators' commands, in the topic's order,
folded into a ``ControlState`` that the platform caller asks before each post's call.

Built like the credentials topic's follower (``shared.credentials.credential_topic``): no consumer
group, every partition assigned and read from its first record (``shared.kafka.read_from_start``),
so each publisher replica knows every pause in force, also one issued long before it started;
then it follows the topic. ``read_up`` is what the caller awaits before a post: the topic's end
offsets as of now, read up to, so a command acknowledged before the check is in the state when
the check reads it, and a restarted publisher never posts before it has read the pauses in force.
That wait is bounded (``WARTA_CONTROL_WAIT_S``, 30 s): past it the post is handed back unsent
(``control_state.unread``), since the publisher cannot tell whether it may leave.

A record that is not a command (undecodable, or another event) is the scheduler's router's to
dead-letter, the topic's consumer group: it is skipped here and counted
(``warta_poison_skipped_total``). A command the state cannot take is dead-lettered here, once
and not at each start (``shared.replay_letters``). Either way the follower reads on. The broker away only pauses the follower: it reads on
when the broker is back, and meanwhile ``read_up`` times out and posts are handed back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.publisher.control_state import ControlState, Hold, unread
from shared.codec import DecodeError, decode_as, is_tombstone
from shared.dead_letters import DeadLetters
from shared.events import ControlIssued
from shared.kafka import KafkaUnavailable, read_from_start
from shared.kafka_connection import KafkaAddress, client_args
from shared.replay_letters import ReplayLetters

log = logging.getLogger("warta.publisher.control")

READ_UP_WAIT_S = 30.0


class ControlFollower:
    def __init__(
        self,
        kafka: KafkaAddress,
        topic: str,
        state: ControlState,
        dead_letters: DeadLetters,
        *,
        clock: Callable[[], datetime],
        wait_s: float = READ_UP_WAIT_S,
    ) -> None:
        self._kafka = kafka
        self._topic = topic
        self.state = state
        self.dead_letters = dead_letters
        self._letters = ReplayLetters(kafka, dead_letters)
        self._clock = clock
        self._wait_s = wait_s
        self._consumer: AIOKafkaConsumer | None = None
        # Asks for the topic's end offsets on a connection of its own: on the follower's, the
        # request would queue behind a fetch the broker holds open until data or its max wait
        # (500 ms), and every post would wait that long for its check.
        self._ends: AIOKafkaConsumer | None = None
        self._started = asyncio.Event()
        # Per partition, the offset up to which every record is in the state (applied or
        # dead-lettered): what ``read_up`` compares with the topic's end.
        self._read: dict[TopicPartition, int] = {}
        self._moved = asyncio.Event()  # set, and replaced, after each fetch is folded

    @property
    def started(self) -> bool:
        return self._started.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """Read the topic from its start, then follow it, until ``stop``."""
        consumer = await self._start(stop)
        if consumer is None:
            return
        try:
            while not stop.is_set():
                try:
                    await self._fold(consumer, await consumer.getmany(timeout_ms=200))
                except (KafkaError, KafkaUnavailable) as exc:
                    # The broker away: the state stays as it is and read_up waits (bounded).
                    log.warning("content.control unreadable for now: %r", exc)
                    await _pause(stop, 1.0)
        finally:
            await consumer.stop()
            if self._ends is not None:
                await self._ends.stop()
            await self._letters.close()

    async def _start(self, stop: asyncio.Event) -> AIOKafkaConsumer | None:
        """A consumer at the start of every partition, once the broker lets one be had."""
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                **client_args(self._kafka), enable_auto_commit=False, isolation_level="read_committed"
            )
            asker = AIOKafkaConsumer(
                **client_args(self._kafka), enable_auto_commit=False, isolation_level="read_committed"
            )  # its ends are the last stable offsets, as far as the follower can read
            try:
                ends = await read_from_start(consumer, [self._topic])
                await asker.start()
            except (KafkaError, KafkaUnavailable) as exc:
                await consumer.stop()
                await asker.stop()
                log.warning("content.control cannot be read yet: %r", exc)
                await _pause(stop, 1.0)
                continue
            self._read = dict.fromkeys(ends, 0)
            self._consumer, self._ends = consumer, asker
            self._started.set()
            return consumer
        return None

    async def _fold(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        """The batch into the state, in each partition's order; then how far each is read."""
        pending = list(batch.items())
        for n, (tp, records) in enumerate(pending):
            for record in records:
                try:
                    await self._take(record)
                except (KafkaError, KafkaUnavailable):
                    # Its dead letter could not be written: read it, and what followed, again.
                    consumer.seek(tp, record.offset)
                    for later, rest in pending[n + 1 :]:
                        consumer.seek(later, rest[0].offset)
                    raise
        for tp in self._read:
            self._read[tp] = await consumer.position(tp)
        self._moved.set()  # wakes the posts waiting in read_up, which look again
        self._moved = asyncio.Event()

    async def _take(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if is_tombstone(record.value):
            return  # never written on this topic; nothing to fold
        try:
            command = decode_as(record.value, ControlIssued)
        except DecodeError as exc:
            await self._letters.undecodable(record, exc)  # the router's to letter: counted here
            return
        try:
            self.state.apply(command, self._clock())
        except Exception as exc:
            await self._letters.failed(record, exc)  # re-raises a broker failure

    async def read_up(self) -> Hold | None:
        """Wait until every command on the topic now is in the state (``ControlGate``)."""
        try:
            async with asyncio.timeout(self._wait_s):
                await self._started.wait()
                assert self._ends is not None
                ends = await self._ends.end_offsets(list(self._read))
                while True:
                    moved = self._moved
                    if all(self._read.get(tp, 0) >= end for tp, end in ends.items()):
                        break
                    await moved.wait()
        except (TimeoutError, KafkaError) as exc:
            log.warning("content.control not read up within %g s: %r", self._wait_s, exc)
            return unread(self._wait_s)
        return None

    def hold(self, channel: str, content_id: str, now: datetime) -> Hold | None:
        return self.state.hold(channel, content_id, now)


@contextlib.asynccontextmanager
async def following(follower: ControlFollower) -> AsyncIterator[ControlFollower]:
    """``follower`` reading in the background until the block ends (posts wait for it:
    ``read_up``; replies, hides and measurements need not)."""
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    try:
        yield follower
    finally:
        stop.set()
        if not follower.started:
            task.cancel()  # still waiting for the topic's metadata: nothing to finish
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.error("the content.control follower failed", exc_info=task.exception())


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

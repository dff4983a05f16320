"""Writes ingest's events to Kafka and waits for the broker's acknowledgement (acks=all).

A write not acknowledged within ``ack_timeout_s`` answers 503, yet its record may already sit in
the producer's buffer: aiokafka cannot take a record back, and delivers it once the broker
returns. So a write made under an Idempotency-Key is *held* until the broker settles it: the
client's retry with the same key waits for that first record instead of writing a second one
(issue 3: "the client's retry with the same key is accepted once; the topic holds exactly one
event"). A held write that the broker acknowledges late is handed to ``on_late_ack`` (the status
view), so the retry finds it as if the first answer had been 202.

Errors::

    KafkaUnavailable (shared.kafka)   not acknowledged in time, or refused by the broker
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from shared.codec import encode
from shared.events import Event
from shared.kafka import KafkaUnavailable, make_producer

log = logging.getLogger("warta.ingest.writer")


@dataclass(frozen=True)
class Held:
    """A write that timed out while the broker may still store it."""

    event: Event
    ack: asyncio.Future[object]


class EventWriter:
    def __init__(
        self,
        bootstrap: str,
        client_id: str,
        ack_timeout_s: float,
        on_late_ack: Callable[[Event], None] = lambda _event: None,
        linger_ms: int = 0,
    ) -> None:
        # No linger: a client waits for each ack, so lingering only adds to its latency (2 ms of
        # linger cost 4-5 ms per request on the event loop); under load the records that queue
        # while a request is in flight still leave as one batch (bench/ingest.py). Measured again
        # side by side: 2 ms of linger changed neither CPU per request nor throughput, so 0 stays
        # the default (settings.producer_linger_ms).
        self.producer: AIOKafkaProducer = make_producer(bootstrap, client_id, linger_ms=linger_ms)
        self._timeout = ack_timeout_s
        self._on_late_ack = on_late_ack
        self._held: dict[Hashable, Held] = {}

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    def held(self, hold: Hashable) -> Held | None:
        return self._held.get(hold)

    async def write(
        self, topic: str, key: str, event: Event, *, hold: Hashable | None = None
    ) -> RecordMetadata:
        """Write ``event`` and wait for its acknowledgement, or raise ``KafkaUnavailable``.

        Returns where the broker stored it. With ``hold``, a write that times out is remembered
        under it until the broker settles it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        try:
            # send() only waits for metadata and buffer space; cancelled there, nothing was queued.
            # asyncio.timeout rather than wait_for: no extra task per request (3.11's wait_for
            # wraps the coroutine in one).
            async with asyncio.timeout_at(deadline):
                ack = await self.producer.send(topic, encode(event), key=key.encode())
        except (KafkaError, TimeoutError) as exc:
            raise KafkaUnavailable(f"could not queue a record for {topic}: {exc!r}") from exc
        ack.add_done_callback(self._settled_late(hold, event))
        try:
            stored = await self._wait(ack, max(0.0, deadline - loop.time()))
        except KafkaUnavailable:
            if hold is not None:
                self._held[hold] = Held(event, ack)
            raise
        if not stored:
            reason = "cancelled" if ack.cancelled() else repr(ack.exception())
            raise KafkaUnavailable(f"the broker refused the record for {topic}: {reason}")
        metadata = ack.result()
        assert isinstance(metadata, RecordMetadata)
        return metadata

    async def outcome(self, held: Held) -> bool:
        """Whether a held write was stored (True) or refused (False); ``KafkaUnavailable`` while
        the broker has still not settled it after another ``ack_timeout_s``."""
        return await self._wait(held.ack, self._timeout)

    async def _wait(self, ack: asyncio.Future[object], timeout: float) -> bool:
        # asyncio.wait, not wait_for: timing out must not cancel the record's future.
        await asyncio.wait([ack], timeout=timeout)
        if not ack.done():
            raise KafkaUnavailable(f"no acknowledgement within {self._timeout:g} s")
        return not ack.cancelled() and ack.exception() is None

    def _settled_late(self, hold: Hashable | None, event: Event) -> Callable[[asyncio.Future[object]], None]:
        def done(ack: asyncio.Future[object]) -> None:
            failed = ack.cancelled() or ack.exception() is not None  # also marks the exception retrieved
            held = self._held.get(hold) if hold is not None else None
            if held is None or held.ack is not ack:
                return  # answered in time, or by a newer write
            del self._held[hold]
            if not failed:
                # Answered 503 but stored: the retry must find it, even before the feeder does.
                self._on_late_ack(event)
                log.info("a write answered 503 was acknowledged late; its retry will find it")

        return done

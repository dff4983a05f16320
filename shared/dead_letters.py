"""The rule every consumer follows when a record raises: dead-letter it and go on.

Design guarantee 6: whatever a record makes its handler raise — a decode error, an overflow in
the plan's arithmetic, a bug — sends the record to ``publish.dead`` with the error, and the
consumer moves past it. Only a failure of the infrastructure stops a consumer: then no record
is to blame, and dead-lettering would bury every record that arrives while the broker is away.
Each consumer wraps the handling of one record in ``DeadLetters.handled`` (or calls
``DeadLetters.absorb`` from its own ``except``); this module is the one place that decides
which failures are the record's and what a letter says.

Errors::

    (none of its own) ``absorb`` re-raises an infrastructure failure unchanged, and raises
    ``KafkaUnavailable`` when the letter itself cannot be written: both stop the consumer.

A letter names the consumer, the error's type and message, and the record's topic, partition,
offset and key. Its id is derived from (consumer, topic, partition, offset), so a record met
again — after a crash before the commit, or by a view that replays its topics at every start —
gives the same letter, and the console counts it once. ``raw_complete`` says the letter holds
the record's exact bytes, so the console can write them back to their topic after a fix.

A record that no reader can decode is lettered by the consumer that owns its topic: the group's
consumer, or the topic's sole reader (``shared.topics``; ``owns`` here, its letters written once
by ``shared.replay_letters``). Every other reader skips it. ``poison`` and ``skipped`` count
both, by topic, for ``shared.metrics.LetterCounts``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import TypeAlias, TypeVar

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError

from shared.codec import DecodeError, decode
from shared.events import DeadLettered
from shared.kafka import KafkaUnavailable, LazyProducer, make_producer, send_event
from shared.kafka_connection import KafkaAddress
from shared.logs import bound, job_fields

log = logging.getLogger("warta.dead_letters")

T = TypeVar("T")
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

RAW_LIMIT = 100_000  # characters of the record kept in the letter (DeadLettered.raw's bound)
_KEY_LIMIT = 1_000

# Kafka errors that a record causes by itself (too big to forward): it, not the broker, is at
# fault, and it would fail the same way after every restart.
_RECORD_CAUSED: tuple[type[BaseException], ...] = (MessageSizeTooLargeError, RecordTooLargeError)


def is_infrastructure(exc: BaseException) -> bool:
    """True when ``exc`` says the broker (or the machine) failed, not the record.

    Any Kafka client error counts, transactional fencing included (a fenced producer must stop),
    except the few a record causes by itself. ``MemoryError`` is the machine's.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__
    if any(isinstance(e, _RECORD_CAUSED) for e in chain):
        return False
    return any(isinstance(e, (KafkaError, KafkaUnavailable, MemoryError)) for e in chain)


def letter_id(consumer: str, topic: str, partition: int, offset: int) -> str:
    digest = hashlib.sha256(f"{consumer}\x00{topic}\x00{partition}\x00{offset}".encode()).hexdigest()
    return "dl" + digest[:30]


def letter_for(record: Record, error: BaseException, consumer: str, now: datetime) -> DeadLettered:
    """The dead letter of ``record`` that raised ``error`` in ``consumer`` (pure)."""
    raw, complete = _text(record.value, RAW_LIMIT)
    key, key_complete = _text(record.key, _KEY_LIMIT)
    names: dict[str, str | None] = {"job_id": None, "content_id": None, "channel": None}
    if not isinstance(error, DecodeError):
        try:
            event = decode(record.value)
        except DecodeError:
            pass
        else:
            names = {name: getattr(event, name, None) for name in names}
    message = str(error) or repr(error)
    return DeadLettered(
        event_id=letter_id(consumer, record.topic, record.partition, record.offset),
        occurred_at=now,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        source_key=key,
        consumer=consumer,
        error_type=type(error).__name__,
        reason=f"{type(error).__name__}: {message}"[:4000],
        raw=raw,
        raw_complete=complete and key_complete,
        **names,
    )


def _text(value: bytes | None, limit: int) -> tuple[str | None, bool]:
    """The bytes as text for the letter, and whether that text gives the exact bytes back."""
    if value is None:
        return None, False
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("utf-8", "replace")[:limit], False
    return text[:limit], len(text) <= limit


class DeadLetters:
    """Sends the records one consumer could not handle to the dead-letter topic.

    ``producer`` may be None for a consumer that writes nothing else (the views' feeders): one
    is started on the first letter and stopped by ``close``. ``owns``: the topics whose sole
    reader this consumer is (``TopicRegistry.owned_by``).
    """

    def __init__(
        self,
        topic: str,
        consumer: str,
        *,
        producer: AIOKafkaProducer | None = None,
        bootstrap: KafkaAddress | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_letter: Callable[[Record], None] | None = None,
        owns: Collection[str] = (),
    ) -> None:
        if producer is None and bootstrap is None:
            raise ValueError("DeadLetters needs a producer or a bootstrap address to start one")
        self._topic = topic
        self._consumer = consumer
        self._producer = producer
        self._bootstrap = bootstrap
        self._own_producer = LazyProducer(self._make_producer, "dead-letter")
        self._clock = clock
        self._on_letter = on_letter
        self.owns = frozenset(owns)
        self.sent = 0
        self.poison: Counter[str] = Counter()  # undecodable records lettered, by topic
        self.skipped: Counter[str] = Counter()  # undecodable records left to their letter

    @property
    def consumer(self) -> str:
        return self._consumer

    async def handled(
        self,
        record: Record,
        handler: Callable[[Record], Awaitable[T]],
        otherwise: T,
        *,
        lets_through: tuple[type[Exception], ...] = (),
    ) -> T:
        """``handler(record)``, or ``otherwise`` once the record is dead-lettered.

        ``lets_through``: exceptions that say nothing about the record and that the caller acts on
        (a publisher lane whose partition went to another worker leaves the record to it: a
        letter would be wrong, and marking the record handled would lose it)."""
        try:
            with bound(**job_fields(record.key)):
                return await handler(record)
        except lets_through:
            raise
        except Exception as exc:
            await self.absorb(record, exc)
            return otherwise

    async def absorb(self, record: Record, exc: Exception) -> None:
        """Dead-letter ``record``, which raised ``exc``; re-raise ``exc`` if the infrastructure failed."""
        if is_infrastructure(exc):
            raise exc
        if record.topic == self._topic:
            # A letter that cannot be handled is never dead-lettered again: that would loop.
            log.error(
                "%s could not handle dead letter %s@%s: %r",
                self._consumer,
                record.partition,
                record.offset,
                exc,
            )
            return
        log.warning(
            "%s dead-letters %s@%s/%s: %s: %s",
            self._consumer,
            record.topic,
            record.partition,
            record.offset,
            type(exc).__name__,
            exc,
            exc_info=exc,
        )
        letter = letter_for(record, exc, self._consumer, self._clock())
        await send_event(await self._writer(), self._topic, letter.content_id or "poison", letter)
        self.sent += 1
        if isinstance(exc, DecodeError):
            self.poison[record.topic] += 1
        if self._on_letter is not None:
            self._on_letter(record)

    def _make_producer(self) -> AIOKafkaProducer:
        assert self._bootstrap is not None
        return make_producer(self._bootstrap, f"warta-{self._consumer}-dead-letters")

    async def _writer(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        return await self._own_producer.started()

    async def close(self) -> None:
        await self._own_producer.stop()

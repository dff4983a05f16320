"""The dead-letter rule, pure: which failures are the record's, what a letter says, what a replay writes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    ProducerFenced,
)

from services.console.replay import NotReplayable, Reappend, reappend
from shared.codec import DecodeError, MalformedMessage, encode
from shared.dead_letters import RAW_LIMIT, DeadLetters, is_infrastructure, letter_for, letter_id
from shared.kafka import KafkaUnavailable
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
TOPICS = TopicRegistry(prefix="t.")


def _wrapped(cause: BaseException) -> KafkaUnavailable:
    try:
        raise KafkaUnavailable("could not write") from cause
    except KafkaUnavailable as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "infrastructure"),
    [
        (KafkaConnectionError("broker down"), True),
        (KafkaTimeoutError(), True),
        (NodeNotReadyError(), True),
        (ProducerFenced(), True),  # a fenced transactional producer must stop, not dead-letter
        (KafkaUnavailable("no ack within 60 s"), True),
        (_wrapped(KafkaConnectionError()), True),
        (MemoryError(), True),
        (MessageSizeTooLargeError(), False),  # the record is too big: its fault, every time
        (_wrapped(MessageSizeTooLargeError()), False),
        (OverflowError("date value out of range"), False),
        (DecodeError("not an event"), False),
        (KeyError("x"), False),
        (TimeoutError(), False),
    ],
)
def test_which_failures_stop_a_consumer(exc: BaseException, infrastructure: bool) -> None:
    assert is_infrastructure(exc) is infrastructure


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def record(
    value: bytes | None, key: bytes | None = b"c1", topic: str = TOPICS.content_approved
) -> ConsumerRecord:
    return Rec(topic, 1, 42, key, value)


def test_a_letter_names_the_consumer_the_error_and_the_record() -> None:
    raw = encode(approved("c1", "mastodon-demo"))
    letter = letter_for(record(raw), OverflowError("date value out of range"), "scheduler-planner", NOW)
    assert letter.event_id == letter_id("scheduler-planner", TOPICS.content_approved, 1, 42)
    assert (letter.consumer, letter.error_type) == ("scheduler-planner", "OverflowError")
    assert letter.reason == "OverflowError: date value out of range"
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        TOPICS.content_approved,
        1,
        42,
    )
    assert (letter.source_key, letter.content_id) == ("c1", "c1")
    assert letter.raw == raw.decode()
    assert letter.raw_complete


def test_the_same_record_in_the_same_consumer_gives_the_same_letter_id() -> None:
    a = letter_for(record(b"{}"), ValueError("a"), "ingest-feeder", NOW)
    b = letter_for(record(b"{}"), ValueError("b"), "ingest-feeder", NOW)
    c = letter_for(record(b"{}"), ValueError("a"), "console-feeder", NOW)
    assert a.event_id == b.event_id != c.event_id


@pytest.mark.parametrize(
    "value",
    [b"\xff\xfe not utf-8", ("x" * (RAW_LIMIT + 1)).encode(), None],
)
def test_a_letter_says_when_it_does_not_hold_the_exact_bytes(value: bytes | None) -> None:
    letter = letter_for(record(value), ValueError("boom"), "publisher-x", NOW)
    assert not letter.raw_complete
    assert isinstance(
        reappend(letter.model_copy(update={"source_topic": TOPICS.publish("x")}), TOPICS), NotReplayable
    )


def test_a_replay_writes_the_exact_record_back_to_its_partition() -> None:
    raw = encode(approved("c1", "mastodon-demo"))
    letter = letter_for(
        record(raw, key=b"mastodon-demo", topic=TOPICS.schedule_commands), KeyError("k"), "p", NOW
    )
    assert reappend(letter, TOPICS) == Reappend(TOPICS.schedule_commands, 1, b"mastodon-demo", raw)


def test_state_topics_and_undecodable_records_are_not_replayed() -> None:
    raw = encode(approved("c1", "mastodon-demo"))
    state = letter_for(record(raw, topic=TOPICS.schedule_jobs), KeyError("k"), "ingest-feeder", NOW)
    refused = reappend(state, TOPICS)
    assert isinstance(refused, NotReplayable)
    assert "holds state" in refused.reason
    garbage = letter_for(record(b"{not json"), MalformedMessage("not JSON"), "scheduler-router", NOW)
    refused = reappend(garbage, TOPICS)
    assert isinstance(refused, NotReplayable)
    assert "nothing to replay" in refused.reason


class _PartitionMoved(Exception):
    """Stands for a lane's ``Fenced``: not the record's fault, the caller acts on it."""


def test_an_exception_the_caller_acts_on_is_no_letter_and_reaches_the_caller() -> None:
    # A publisher lane fenced mid-job must leave the record to the partition's new owner: a letter
    # (and the record marked handled) left the job `attempted` for ever in the chaos run.
    letters = DeadLetters("t.publish.dead", "publisher-x", bootstrap="127.0.0.1:1")
    record = ConsumerRecord("t.publish.x", 0, 7, 0, 0, b"c1:x-1", b"{}", None, 6, 2, [])

    async def fenced(_: object) -> None:
        raise _PartitionMoved

    with pytest.raises(_PartitionMoved):
        asyncio.run(letters.handled(record, fenced, None, lets_through=(_PartitionMoved,)))
    assert letters.sent == 0

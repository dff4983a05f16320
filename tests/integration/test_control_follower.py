"""The publisher's follower of ``content.control`` over the real broker.

A publisher started after a pause knows it before its first post: ``read_up`` returns only once
every command on the topic is folded. A command written while it runs is in the state as soon
as ``read_up`` returns after it was acknowledged. A record that is no command goes to the
dead-letter topic, and the follower reads on past it.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from services.publisher.control_follower import ControlFollower, following
from services.publisher.control_state import ControlState
from shared.clock import utcnow
from shared.codec import encode
from shared.dead_letters import DeadLetters
from shared.events import ControlAction, DeadLettered
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events
from tests.integration.test_reconnect_resumes import producer  # noqa: F401 (the fixture)
from tests.unit.test_control_state import DIRECTORY, command

pytestmark = pytest.mark.integration


def _following(
    bootstrap: str, topics: TopicRegistry, writer: AIOKafkaProducer
) -> contextlib.AbstractAsyncContextManager[ControlFollower]:
    dead_letters = DeadLetters(topics.publish_dead, "publisher-test-control", producer=writer)
    state = ControlState(DIRECTORY)
    return following(ControlFollower(bootstrap, topics.content_control, state, dead_letters, clock=utcnow))


async def test_a_follower_started_after_a_pause_knows_it_before_the_first_post(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    producer: AIOKafkaProducer,  # noqa: F811 (the fixture imported above)
) -> None:
    now = datetime.now(UTC)
    pause = command(ControlAction.PAUSE, "x-demo", at=now)
    await producer.send_and_wait(topics.content_control, encode(pause), key=b"*")
    async with _following(kafka_bootstrap, topics, producer) as follower:
        assert await follower.read_up() is None
        hold = follower.hold("x-demo", "c1", now)
        assert hold is not None
        assert hold.code == "paused"
        assert follower.hold("mastodon-demo", "c1", now) is None


async def test_a_command_written_meanwhile_is_read_and_a_record_that_is_none_is_left_to_the_router(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    producer: AIOKafkaProducer,  # noqa: F811 (the fixture imported above)
) -> None:
    async with _following(kafka_bootstrap, topics, producer) as follower:
        assert await follower.read_up() is None
        now = datetime.now(UTC)
        assert follower.hold("x-demo", "c7", now) is None
        await producer.send_and_wait(topics.content_control, b"{not json", key=b"*")
        withdraw = command(ControlAction.WITHDRAW, content_id="c7", at=now)
        await producer.send_and_wait(topics.content_control, encode(withdraw), key=b"c7")
        await producer.send_and_wait(
            topics.content_control, encode(command(ControlAction.PAUSE, at=now)), key=b"*"
        )
        assert await follower.read_up() is None
        withdrawn = follower.hold("x-demo", "c7", now)
        assert withdrawn is not None
        assert withdrawn.code == "withdrawn"
        paused = follower.hold("fb-demo", "c1", now)
        assert paused is not None
        assert paused.code == "paused"  # read on past the poison, in the same partition
    # content.control's consumer group (the scheduler's router) letters it; here it is counted.
    assert follower.dead_letters.skipped[topics.content_control] == 1
    letters = [
        e for e in await read_events(kafka_bootstrap, topics.publish_dead) if isinstance(e, DeadLettered)
    ]
    assert [(d.consumer, d.source_offset) for d in letters if d.source_topic == topics.content_control] == []

"""The console's webhook dispatcher on the real broker: a record that raises is dead-lettered, never fatal.

The dispatcher's delivery log has a bug for one item (it raises when the delivery is recorded);
that record goes to ``publish.dead`` with its error, the next one is delivered, the
subscriber's consumer still runs and its group's offset is past both.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition

from services.console.webhooks import Delivery, DeliveryLog, Dispatcher, RetryRule, Subscriber
from shared.events import ControlAction, ControlIssued
from shared.kafka import send_event
from shared.topics import TopicRegistry
from tests.integration.poison_kit import committed, eventually, letters, on_broker
from tests.integration.test_webhooks import Receiver, serving

pytestmark = pytest.mark.integration


class BrokenLog(DeliveryLog):
    """A delivery log that cannot record deliveries of one event."""

    def add(self, delivery: Delivery) -> None:
        if delivery.delivery_id.startswith("bad"):
            raise RuntimeError(f"cannot log {delivery.delivery_id}")
        super().add(delivery)


def pause(event_id: str) -> ControlIssued:
    return ControlIssued(
        event_id=event_id,
        occurred_at=datetime.now(UTC),
        action=ControlAction.PAUSE,
        channels=("mastodon-demo",),
        by="ops",
        reason=event_id,
    )


async def test_the_dispatcher_dead_letters_a_record_that_raises_and_goes_on(
    kafka_bootstrap: str, topics: TopicRegistry, run_id: str
) -> None:
    names = [topics.content_control, topics.publish_dead]
    receiver = Receiver(secret="s3cret-poison-0123456789")
    async with on_broker(kafka_bootstrap, topics, names) as producer, serving(receiver) as url:
        for event_id in ("bad-1", "good-2"):
            await send_event(producer, topics.content_control, "*", pause(event_id), partition=0)
        subscriber = Subscriber(name="ops", url=url, secret=receiver.secret)
        dispatcher = Dispatcher(
            kafka_bootstrap,
            [topics.content_control],
            f"t{run_id}",
            [subscriber],
            BrokenLog(10),
            lambda: datetime.now(UTC),
            RetryRule(max_attempts=2, base_s=0.05, cap_s=0.1, timeout_s=5),
            offset_reset="earliest",
            dead_topic=topics.publish_dead,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            await eventually(lambda: len(receiver.received) >= 1, "the good delivery")
            (letter,) = await letters(kafka_bootstrap, topics)
            group = dispatcher.group(subscriber)
            offset = await committed(kafka_bootstrap, group, TopicPartition(topics.content_control, 0), 2)
            assert not task.done()
        finally:
            stop.set()
            await task

    assert [body["id"] for body in receiver.received] == ["good-2"]
    assert (letter.consumer, letter.error_type) == ("webhooks-ops", "RuntimeError")
    assert (letter.source_topic, letter.source_offset) == (topics.content_control, 0)
    assert offset == 2

"""The views' feeders on the real broker: a record the view raises on is dead-lettered, never fatal.

Ingest's status view and the console's view are folds over the topics; when a fold raises on a
record (a bug for one shape of input, here played by a view that raises for one item), the
feeder dead-letters the record with its error, applies the next one and keeps following. A
record the console meets on the dead-letter topic itself is never dead-lettered again.
"""

from __future__ import annotations

import asyncio

import pytest

from services.console.feeder import Feeder as ConsoleFeeder
from services.console.view import ConsoleView
from services.ingest.feeder import Feeder as IngestFeeder
from services.ingest.status_view import StatusView
from shared.events import ContentApproved, ControlAction, ControlIssued, Event
from shared.kafka import send_event
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, eventually, letters, on_broker

pytestmark = pytest.mark.integration

CH = "mastodon-demo"


class BrokenStatusView(StatusView):
    """Ingest's view with a bug for one item: folding it raises half-way."""

    def apply(self, event: Event) -> None:
        if isinstance(event, ContentApproved) and event.content_id == "bad":
            raise KeyError("variant index out of step")
        super().apply(event)


async def test_ingest_feeder_dead_letters_a_record_its_view_raises_on_and_reads_on(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    async with on_broker(kafka_bootstrap, topics, [topics.content_approved, topics.publish_dead]) as producer:
        view = BrokenStatusView()
        feeder = IngestFeeder(
            kafka_bootstrap, [topics.content_approved], view, dead_topic=topics.publish_dead
        )
        for content_id in ("bad", "good"):
            await send_event(
                producer, topics.content_approved, content_id, approved(content_id, CH), partition=0
            )
        stop = asyncio.Event()
        task = asyncio.create_task(feeder.run(stop))
        try:
            await eventually(lambda: view.find("good") is not None, "the good item in the view")
            (letter,) = await letters(kafka_bootstrap, topics)
            await feeder.caught_up.wait()
            assert not task.done()
            # And it keeps following: a record written now is applied too.
            await send_event(producer, topics.content_approved, "later", approved("later", CH), partition=0)
            await eventually(lambda: view.find("later") is not None, "a later item")
        finally:
            stop.set()
            await task

    assert view.find("bad") is None
    assert (letter.consumer, letter.error_type) == ("ingest-feeder", "KeyError")
    assert "variant index out of step" in letter.reason
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        topics.content_approved,
        0,
        0,
    )
    assert feeder.applied == 2  # good and later; the feeder's position moved past all three


async def test_console_feeder_dead_letters_a_record_its_view_raises_on_and_reads_on(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    view = ConsoleView()
    poisoned = {"bad", "letter"}

    def apply(event: Event) -> None:
        # A view with a bug for one control command, and for dead letters altogether.
        if isinstance(event, ControlIssued) and event.reason in poisoned:
            raise ValueError(f"cannot fold control {event.event_id}")
        if type(event).__name__ == "DeadLettered" and "letter" in poisoned:
            raise ValueError("cannot fold a dead letter")
        view.apply(event)

    def control(n: int, reason: str) -> ControlIssued:
        return ControlIssued(
            event_id=f"c{n}",
            occurred_at=approved("x", CH).occurred_at,
            action=ControlAction.PAUSE,
            channels=(CH,),
            by="ops",
            reason=reason,
        )

    names = [topics.content_control, topics.publish_dead]
    async with on_broker(kafka_bootstrap, topics, names) as producer:
        feeder = ConsoleFeeder(
            kafka_bootstrap,
            [topics.content_control, topics.publish_dead],
            apply,
            dead_topic=topics.publish_dead,
        )
        await send_event(producer, topics.content_control, "*", control(1, "bad"), partition=0)
        await send_event(producer, topics.content_control, "*", control(2, "good"), partition=0)
        stop = asyncio.Event()
        task = asyncio.create_task(feeder.run(stop))
        try:
            await eventually(lambda: view.is_paused(CH) is not None, "the good pause in the view")
            (letter,) = await letters(kafka_bootstrap, topics)
            await asyncio.sleep(2)  # time to loop, had the letter been dead-lettered again
            assert not task.done()
        finally:
            stop.set()
            await task
        everything = await letters(kafka_bootstrap, topics)

    pause = view.is_paused(CH)
    assert pause is not None
    assert pause.reason == "good"
    assert (letter.consumer, letter.error_type) == ("console-feeder", "ValueError")
    assert (letter.source_topic, letter.source_offset) == (topics.content_control, 0)
    assert len(everything) == 1  # the feeder met its own letter, failed on it, and let it be

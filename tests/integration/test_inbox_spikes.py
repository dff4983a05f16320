"""A post's comments spike: the keeper writes one ``CommentSpikeStarted`` on the real broker, in
the batch of the comment that started it, and a redelivered comment writes nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from services.inbox.app import inbox_topics
from services.inbox.book import InboxBook
from services.inbox.keeper import InboxKeeper
from services.inbox.metrics import InboxMetrics
from services.inbox.spikes import SpikeRule, SpikeWatch
from shared.codec import encode
from shared.dead_letters import DeadLetters
from shared.events import CommentAuthor, CommentObserved, CommentSpikeStarted, Event
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.poison_kit import read_all

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def comment(n: int, post: str = "p1") -> CommentObserved:
    return CommentObserved(
        event_id=f"c{post}-{n}",
        occurred_at=NOW,
        comment_id=f"{post}-{n}",
        post_id=post,
        channel="fb-demo",
        platform="facebook",
        author=CommentAuthor(id=f"warga{n}"),
        text="Jalan rusak lagi",
        created_at=NOW - timedelta(minutes=n % 10),
        via="webhook",
    )


async def test_a_burst_writes_one_spike_event(kafka_bootstrap: str, run_id: str) -> None:
    prefix = f"t{run_id}."
    topics = TopicRegistry(prefix=prefix, partitions=1)
    await ensure_topics(kafka_bootstrap, inbox_topics(topics))
    producer = make_producer(kafka_bootstrap, "spike-test")
    await producer.start()
    dead = DeadLetters(topics.publish_dead, "inbox", producer=producer)
    metrics = InboxMetrics(CollectorRegistry())
    try:
        keeper = InboxKeeper(
            producer=producer,
            topics=topics,
            book=InboxBook(),
            dead_letters=dead,
            clock=lambda: NOW,
            metrics=metrics,
            spikes=SpikeWatch(SpikeRule(min_count=10)),
        )
        await keeper.receive([comment(n) for n in range(5)])  # not yet
        await keeper.receive([comment(n) for n in range(5, 25)])  # crosses 10 within the window
        await keeper.receive([comment(n) for n in range(25)])  # a redelivery: nothing new
        await keeper.receive([comment(n, "p2") for n in range(3)])  # another post, quiet

        # A marker written after them: once it is read, everything the keeper wrote has been.
        marker = CommentSpikeStarted(
            event_id="marker", occurred_at=NOW, channel="marker", platform="x", post_id="m",
            window_s=900, count=0, baseline_per_window=0, threshold=1,
        )  # fmt: skip
        await (await producer.send(topics.inbox_spikes, encode(marker), key=b"marker"))

        def seen(events: list[Event]) -> bool:
            return any(e.event_id == "marker" for e in events)

        read = await read_all(kafka_bootstrap, topics.inbox_spikes, seen)
        events = [e for e in read if isinstance(e, CommentSpikeStarted) and e.event_id != "marker"]
        assert [(e.channel, e.post_id) for e in events] == [("fb-demo", "p1")]
        assert events[0].count >= 10
        assert events[0].threshold == 10
        assert metrics.spikes_started.labels("fb-demo")._value.get() == 1
    finally:
        await dead.close()
        await producer.stop()
        await delete_topics(kafka_bootstrap, prefix)

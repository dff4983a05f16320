"""A post's comments spike: the keeper writes one ``CommentSpikeStarted`` on the real broker, in
the batch of the comment that started it, and a redelivered comment writes nothing more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from services.inbox.app import inbox_topics, running_inbox
from services.inbox.book import InboxBook
from services.inbox.keeper import InboxKeeper
from services.inbox.metrics import InboxMetrics
from services.inbox.spikes import SpikeRule, SpikeWatch
from shared.codec import encode
from shared.dead_letters import DeadLetters
from shared.events import CommentAuthor, CommentObserved, CommentSpikeStarted, Event
from shared.http_auth import KeyStore
from shared.kafka import delete_topics, ensure_topics, make_producer, send_event
from shared.topics import TopicRegistry
from tests.integration.inbox_system import inbox_system
from tests.integration.poison_kit import eventually, read_all

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


async def test_a_restarted_inbox_does_not_announce_a_spike_in_course_again(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        now = datetime.now(UTC)

        async def citizens(numbers: range) -> None:
            for n in numbers:
                comment = CommentObserved(
                    event_id=f"ib-burst-{n}", occurred_at=now, comment_id=f"burst-{n}", post_id="777",
                    channel="mastodon-demo", platform="mastodon", author=CommentAuthor(id=f"w{n}"),
                    text="Jembatan ambruk?", created_at=now, via="poll",
                )  # fmt: skip
                await send_event(system.producer, system.topics.comments_observed, "777", comment)

        await citizens(range(12))
        await eventually(lambda: system.inbox.keeper.spikes.spiking().get("mastodon-demo") == 1, "the spike")
        system.stop.set()  # the first inbox's loops end; a second one takes over
        again = asyncio.Event()
        async with running_inbox(
            system.settings, again, keys=KeyStore.load(tmp_path / "keys.json")
        ) as second:
            known = second.keeper.spikes.spiking()  # from the book
            await citizens(range(12, 26))  # enough to start a spike by themselves
            await eventually(lambda: len(second.keeper.book) == 26, "the later comments")
            marker = CommentSpikeStarted(
                event_id="marker", occurred_at=now, channel="marker", platform="x", post_id="m",
                window_s=900, count=0, baseline_per_window=0, threshold=1,
            )  # fmt: skip
            await send_event(system.producer, system.topics.inbox_spikes, "marker", marker)
            read = await read_all(
                kafka_bootstrap,
                system.topics.inbox_spikes,
                lambda es: any(e.event_id == "marker" for e in es),
            )
            again.set()
        announced = [e for e in read if isinstance(e, CommentSpikeStarted) and e.event_id != "marker"]
        assert [(e.channel, e.post_id) for e in announced] == [("mastodon-demo", "777")]
        assert known == {"mastodon-demo": 1}

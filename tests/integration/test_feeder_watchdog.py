"""Both views' feeders beat the process watchdog while they keep up (shared.feed_progress).

A wedged consumer stops the beats and the watchdog restarts the service; the rule that decides
"wedged" is tested in tests/unit/test_feeder_progress.py. Here: each feeder, on the real broker,
is wired to a watchdog and beats it under its own name once it reads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from services.console.feeder import Feeder as ConsoleFeeder
from services.console.view import ConsoleView
from services.ingest.feeder import Feeder as IngestFeeder
from services.ingest.status_view import StatusView
from shared.kafka import send_event
from shared.topics import TopicRegistry
from shared.watchdog import Watchdog
from tests.integration.poison_kit import approved, eventually, on_broker

pytestmark = pytest.mark.integration

LIMIT_S = 120.0


def _ingest(bootstrap: str, topics: TopicRegistry, watchdog: Watchdog) -> IngestFeeder:
    return IngestFeeder(
        bootstrap, [topics.content_approved], StatusView(), dead_topic=topics.publish_dead, watchdog=watchdog
    )


def _console(bootstrap: str, topics: TopicRegistry, watchdog: Watchdog) -> ConsoleFeeder:
    return ConsoleFeeder(
        bootstrap,
        [topics.content_approved],
        ConsoleView().apply,
        dead_topic=topics.publish_dead,
        watchdog=watchdog,
    )


def _beaten(watchdog: Watchdog) -> list[str]:
    # Every loop that has beaten at least once counts as stalled far enough in the future.
    return watchdog.stalled(now=time.monotonic() + LIMIT_S + 1)


@pytest.mark.parametrize(
    ("build", "name"), [(_ingest, "feeder"), (_console, "console-feeder")], ids=["ingest", "console"]
)
async def test_a_feeder_that_keeps_up_beats_the_watchdog(
    kafka_bootstrap: str,
    topics: TopicRegistry,
    build: Callable[[str, TopicRegistry, Watchdog], IngestFeeder | ConsoleFeeder],
    name: str,
) -> None:
    async with on_broker(kafka_bootstrap, topics, [topics.content_approved, topics.publish_dead]) as producer:
        await send_event(
            producer, topics.content_approved, "c1", approved("c1", "mastodon-demo"), partition=0
        )
        watchdog = Watchdog(LIMIT_S)
        feeder = build(kafka_bootstrap, topics, watchdog)
        stop = asyncio.Event()
        task = asyncio.create_task(feeder.run(stop))
        try:
            await asyncio.wait_for(feeder.caught_up.wait(), 60)
            await eventually(lambda: name in _beaten(watchdog), f"{name} beating the watchdog")
            assert watchdog.stalled() == []
        finally:
            stop.set()
            await task

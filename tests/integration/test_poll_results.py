"""A poll's results travel from the platform to the report: the publisher's engagement reader
asks the Mastodon fake (real HTTP) once the poll has closed, writes ``poll.results`` beside the
counts on ``engagement.observed`` (the real broker), and the analytics fold and report read them
back from the topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from services.analytics.ledger import Position, apply
from services.analytics.weekly import week_of, weekly_report
from services.publisher.adapters.bluesky import BlueskyAdapter
from services.publisher.adapters.mastodon import MastodonAdapter
from services.publisher.adapters.port import PollTally, Target
from services.publisher.adapters.telegram import TelegramAdapter
from services.publisher.engagement import EngagementReader
from shared.events import Content, JobDue, Poll, PollResultsObserved
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox
from tests.integration.poison_kit import read_all
from tests.unit.test_analytics_figures import REPORT, ZONES

pytestmark = pytest.mark.integration

POLL = Poll(question="Jam layanan?", options=("Pagi", "Sore", "Malam"), duration_minutes=60)


def due(post_id: str, published: datetime, horizon_minutes: int, platform: str = "mastodon") -> JobDue:
    return JobDue(
        event_id=f"m{horizon_minutes}",
        occurred_at=published + timedelta(minutes=horizon_minutes),
        job_id="c1:mastodon-pemprov",
        content_id="c1",
        channel="mastodon-pemprov",
        platform=platform,
        attempt=1,
        slot=published + timedelta(minutes=horizon_minutes),
        content=Content(text="Jam layanan?", poll=POLL),
        purpose="measure",
        post_id=post_id,
        published_at=published,
        horizon_minutes=horizon_minutes,
    )


async def test_a_closed_polls_results_reach_the_report(kafka_bootstrap: str, topics: TopicRegistry) -> None:
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.engagement_observed])
    producer = make_producer(kafka_bootstrap, "poll-results-test")
    await producer.start()
    try:
        async with running_sandbox() as env:
            await _measure(env, producer, topics)
    finally:
        await producer.stop()
    events = await read_all(kafka_bootstrap, topics.engagement_observed, lambda got: len(got) >= 3)
    kinds = [type(e).__name__ for e in events]
    # +1 h is the poll's last minute: counts only; +61 min: counts and the final tally.
    assert kinds == ["EngagementObserved", "EngagementObserved", "PollResultsObserved"], kinds
    result = events[2]
    assert isinstance(result, PollResultsObserved)
    assert result.closed is True
    assert [(o.label, o.votes) for o in result.options] == [("Pagi", 30), ("Sore", 20), ("Malam", 10)]

    store: dict[str, object] = {}
    for offset, event in enumerate(events):
        apply(store, event, Position("engagement", 0, offset), ZONES)
    published = result.published_at
    week = week_of(published.astimezone(REPORT).date())  # the report's weeks are the report zone's
    [poll] = weekly_report(store.items(), week, REPORT)["polls"]
    assert (poll["question"], poll["votes"], poll["closed"]) == ("Jam layanan?", 60, True)
    assert [o["share"] for o in poll["options"]] == [0.5, 0.3333, 0.1667]


async def _measure(env: FakeEnv, producer: AIOKafkaProducer, topics: TopicRegistry) -> None:
    adapter = MastodonAdapter(env.session)
    target = env.target("mastodon")
    published = await adapter.publish(target, publish_request(Content(text="Jam layanan?", poll=POLL)))
    published_at = datetime.now(UTC)
    reader = EngagementReader(
        adapter,
        "mastodon",
        producer,
        topics.engagement_observed,
        call_timeout_s=10,
        clock=lambda: datetime.now(UTC),
    )
    await reader.measure(due(published.post_id, published_at, 60), lambda: target)
    await env.admin("mastodon", "clock", {"advance_s": 3660})
    await reader.measure(due(published.post_id, published_at, 61), lambda: target)


async def test_a_platform_that_gives_no_poll_results_is_asked_once(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    asked: list[str] = []

    class Counting(BlueskyAdapter):  # no poll to read back on Bluesky: NotSupported
        async def poll_results(self, target: Target, post_id: str) -> PollTally:
            asked.append(post_id)
            return await super().poll_results(target, post_id)

    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.engagement_observed])
    producer = make_producer(kafka_bootstrap, "poll-results-test")
    await producer.start()
    try:
        async with running_sandbox() as env:
            reader = EngagementReader(
                Counting(env.session),
                "bluesky",
                producer,
                topics.engagement_observed,
                call_timeout_s=10,
                clock=lambda: datetime.now(UTC),
            )
            now = datetime.now(UTC)
            for horizon in (61, 360, 1440):
                await reader.measure(due("42", now, horizon, "bluesky"), lambda: env.target("bluesky"))
    finally:
        await producer.stop()
    assert asked == ["42"]


async def test_a_telegram_poll_is_stopped_and_its_final_tally_written(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    """Telegram has no poll reading but ``stopPoll``, which ends the (open-ended) poll and
    answers its final tally: the first reading after the poll's end does it."""
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.engagement_observed])
    producer = make_producer(kafka_bootstrap, "poll-results-test")
    await producer.start()
    try:
        async with running_sandbox() as env:
            adapter = TelegramAdapter(env.session)
            target = env.target("telegram", options={"chat_id": "@pemprov_news"})
            poll = POLL.model_copy(update={"duration_minutes": 10})  # Telegram's longest
            content = Content(text="Jam layanan?", poll=poll)
            published = await adapter.publish(target, publish_request(content))
            env.states["telegram"].posts[-1].data["votes"] = [5, 2, 1]
            reader = EngagementReader(
                adapter,
                "telegram",
                producer,
                topics.engagement_observed,
                call_timeout_s=10,
                clock=lambda: datetime.now(UTC),
            )
            now = datetime.now(UTC)
            job = due(published.post_id, now, 11, "telegram")
            await reader.measure(job.model_copy(update={"content": content}), lambda: target)
    finally:
        await producer.stop()
    [result] = await read_all(kafka_bootstrap, topics.engagement_observed, lambda got: len(got) >= 1)
    assert isinstance(result, PollResultsObserved)
    assert (result.platform, result.closed) == ("telegram", True)
    assert [(o.label, o.votes) for o in result.options] == [("Pagi", 5), ("Sore", 2), ("Malam", 1)]

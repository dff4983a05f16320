"""A Threads poll read back through the publisher's engagement reader: the Threads fake (real
HTTP) answers ``poll_attachment`` with shares of ``total_votes``; Threads keeps a poll open 24 h,
so the reading a minute after Warta's shorter poll is a running tally and a later one the final
tally; both go onto ``engagement.observed`` (the real broker), and the fold keeps the final one
whichever order they are applied in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.threads import ThreadsState
from services.analytics.ledger import Position, apply
from services.analytics.weekly import week_of, weekly_report
from services.publisher.adapters.threads import ThreadsAdapter
from services.publisher.engagement import EngagementReader
from shared.events import Content, PollResultsObserved
from shared.kafka import ensure_topics, make_producer
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import publish_request, running_sandbox
from tests.integration.poison_kit import read_all
from tests.integration.test_poll_results import POLL, due
from tests.unit.test_analytics_figures import REPORT, ZONES

pytestmark = pytest.mark.integration


async def test_a_threads_poll_is_read_running_then_final(kafka_bootstrap: str, topics: TopicRegistry) -> None:
    await ensure_topics(kafka_bootstrap, [s for s in topics.specs() if s.name == topics.engagement_observed])
    producer = make_producer(kafka_bootstrap, "poll-results-threads-test")
    await producer.start()
    try:
        async with running_sandbox() as env:
            state = env.states["threads"]
            assert isinstance(state, ThreadsState)
            adapter = ThreadsAdapter(env.session, poll_interval=0.01, poll_limit=0.2, clock=state.now)
            target = env.target("threads", options={"threads_user_id": "th-pemprov"})
            content = Content(text="Jam layanan?", poll=POLL)
            published = await adapter.publish(target, publish_request(content))
            state.posts[-1].data["votes"] = [6, 3, 1]
            reader = EngagementReader(
                adapter,
                "threads",
                producer,
                topics.engagement_observed,
                call_timeout_s=10,
                clock=lambda: datetime.now(UTC),
            )
            now = datetime.now(UTC)
            await reader.measure(due(published.post_id, now, 61, "threads"), lambda: target)
            await env.admin("threads", "clock", {"advance_s": 7 * 24 * 3600})
            await reader.measure(due(published.post_id, now, 7 * 24 * 60, "threads"), lambda: target)
    finally:
        await producer.stop()
    events = await read_all(kafka_bootstrap, topics.engagement_observed, lambda got: len(got) >= 4)
    tallies = [e for e in events if isinstance(e, PollResultsObserved)]
    assert [(t.platform, t.closed) for t in tallies] == [("threads", False), ("threads", True)]
    assert [(o.label, o.votes) for o in tallies[1].options] == [("Pagi", 6), ("Sore", 3), ("Malam", 1)]

    week = week_of(now.astimezone(REPORT).date())  # the report's weeks are the report zone's
    for order in (events, list(reversed(events))):
        store: dict[str, object] = {}
        for offset, event in enumerate(order):
            apply(store, event, Position("engagement", 0, offset), ZONES)
        [poll] = weekly_report(store.items(), week, REPORT)["polls"]
        assert (poll["votes"], poll["closed"]) == (10, True)

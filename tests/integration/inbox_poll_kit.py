"""What the inbox's polling tests share: a published outcome the collector watches, and the
topics its polls write to (fresh for each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.events import OutcomeStatus, PublishOutcome
from shared.kafka import delete_topics, ensure_topics
from shared.topics import TopicRegistry


def outcome(channel: str, post_id: str) -> PublishOutcome:
    """``post_id`` published on the Mastodon ``channel`` five minutes ago."""
    return PublishOutcome(
        event_id=f"o-{channel}-{post_id}", occurred_at=datetime.now(UTC) - timedelta(minutes=5),
        job_id=f"c{post_id}:{channel}", content_id=f"c{post_id}", channel=channel, platform="mastodon",
        attempt=1, status=OutcomeStatus.PUBLISHED, post_id=post_id,
    )  # fmt: skip


@pytest.fixture
async def poll_topics(kafka_bootstrap: str, run_id: str) -> AsyncIterator[TopicRegistry]:
    """``comments.observed`` and ``publish.dead`` under a prefix of the test's own."""
    made = TopicRegistry(prefix=f"t{run_id}.", partitions=1)
    wanted = {made.comments_observed, made.publish_dead}
    await ensure_topics(kafka_bootstrap, [s for s in made.specs() if s.name in wanted])
    yield made
    await delete_topics(kafka_bootstrap, made.prefix)

"""Two channels configured on one Mastodon token poll within the token's one allowance, so the
platform's rate limit is never hit (services/inbox/schedule.py, ``allowance_of``).

The inbox's collector, the real ``CommentReader`` and the real broker, against the sandbox's
Mastodon, whose ``requests_per_token`` window is what rack_attack keeps per token. The test gives
the inbox that whole window (no publisher calls here): counted per channel, the two channels
would each take it and the platform would answer 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import FakeComment, FakePost, SlidingWindow
from sandbox.mastodon import MastodonState
from services.inbox.collector import Collector
from services.inbox.readers import CommentReader
from services.inbox.schedule import Budget, PollSchedule
from services.inbox.watched import comment_key
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentObserved
from shared.kafka import make_producer
from shared.topics import TopicRegistry
from tests.integration.conftest_fakes import running_sandbox
from tests.integration.inbox_poll_kit import outcome, poll_topics  # noqa: F401 (a fixture)
from tests.integration.poison_kit import read_all

pytestmark = pytest.mark.integration

LIMIT = 4  # the sandbox's requests per token per 5 minutes, and the inbox's budget
WINDOW = timedelta(minutes=5)
POSTS = ("110000000000000701", "110000000000000702", "110000000000000703")


async def test_two_channels_on_one_token_never_hit_the_platform_s_rate_limit(
    kafka_bootstrap: str,
    poll_topics: TopicRegistry,  # noqa: F811 (the fixture imported above)
) -> None:
    producer = make_producer(kafka_bootstrap, "test-inbox-shared-token")
    await producer.start()
    try:
        async with running_sandbox({"kota": "tok-kota"}) as env:
            state = env.states["mastodon"]
            assert isinstance(state, MastodonState)
            state.requests_per_token = SlidingWindow(LIMIT, WINDOW)
            now = state.now()
            for n, post_id in enumerate((*POSTS, *(f"{p}9" for p in POSTS))):
                state.posts.append(FakePost(post_id, "kota", f"Pengumuman {n}", now - timedelta(minutes=5)))
            state.comments.append(FakeComment("120000000000000001", POSTS[0], "warga1", "Kapan?", now))
            base = env.url("/mastodon")
            channels = ChannelDirectory(
                channels=(
                    Channel(id="kota-umum", platform="mastodon", base_url=base, secret="kota"),
                    Channel(id="kota-bencana", platform="mastodon", base_url=base, secret="kota"),
                )
            )
            inbox = Collector(
                producer=producer, topics=poll_topics, channels=channels,
                reader=CommentReader(env.session, {"kota": "tok-kota"}),
                schedule=PollSchedule(interval=timedelta(0), budgets={"mastodon": Budget(LIMIT, WINDOW, "test")}),
                known=lambda _: False,
            )  # fmt: skip
            for post_id in POSTS:
                inbox.watch(outcome("kota-umum", post_id), datetime.now(UTC))
                inbox.watch(outcome("kota-bencana", f"{post_id}9"), datetime.now(UTC))
            for _ in range(3):  # every post due again at once: the budget alone holds them back
                await inbox.poll_due(lambda: datetime.now(UTC))
            window = state.requests_per_token.peek("tok-kota", state.now())
    finally:
        await producer.stop()
    # Never throttled: no channel was told to wait, and the token's window was spent, not passed.
    assert {c: s.last_error for c, s in inbox.status.items()} == {"kota-umum": None, "kota-bencana": None}
    assert window.remaining == 0
    events = await read_all(kafka_bootstrap, poll_topics.comments_observed, lambda evs: len(evs) >= 1)
    assert [e.event_id for e in events if isinstance(e, CommentObserved)] == [
        comment_key("kota-umum", "120000000000000001")
    ]

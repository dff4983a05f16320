"""Threads adapter against the Threads fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from sandbox.base import SlidingWindow
from sandbox.threads import ThreadsState
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Permanent,
    Published,
    PublishingQuota,
    RateLimited,
)
from services.publisher.adapters.threads import ContainerPending, ThreadsAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

USER = {"threads_user_id": "7001"}
PUBLISH = "POST /threads/v1.0/7001/threads_publish"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> ThreadsState:
    state = env.states["threads"]
    assert isinstance(state, ThreadsState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> ThreadsAdapter:
    return ThreadsAdapter(env.session, poll_interval=0.01, poll_limit=0.2)


async def test_text_with_link_goes_through_container_and_publish(
    env: FakeEnv, state: ThreadsState, adapter: ThreadsAdapter
) -> None:
    target = env.target("threads", options=USER)
    content = Content(text="Info mudik", link="https://example.go.id/mudik")
    published = await adapter.publish(target, publish_request(content))

    [post] = state.posts
    assert published.post_id == post.id
    assert published.url == post.url
    assert post.data["media_type"] == "TEXT"
    assert post.data["link_attachment"] == "https://example.go.id/mudik"
    assert post.text == "Info mudik\n\nhttps://example.go.id/mudik"
    info = adapter.rate_limit(target)
    assert info is not None


async def test_poll_is_a_text_post_with_options(
    env: FakeEnv, state: ThreadsState, adapter: ThreadsAdapter
) -> None:
    poll = Poll(question="Ikut upacara?", options=("Ya", "Tidak", "Mungkin"), duration_minutes=1440)
    await adapter.publish(
        env.target("threads", options=USER), publish_request(Content(text="Survei", poll=poll))
    )
    [post] = state.posts
    assert orjson.loads(post.data["poll_attachment"]) == {
        "option_a": "Ya",
        "option_b": "Tidak",
        "option_c": "Mungkin",
    }
    assert post.text.startswith("Ikut upacara?")


async def test_several_images_become_a_carousel(
    env: FakeEnv, state: ThreadsState, adapter: ThreadsAdapter
) -> None:
    media = tuple(Media(url=env.media_url(f"{n}.jpg"), type="image/jpeg") for n in range(3))
    await adapter.publish(
        env.target("threads", options=USER), publish_request(Content(text="Galeri", media=media))
    )
    [post] = state.posts
    assert post.data["media_type"] == "CAROUSEL"
    assert len(post.data["children"].split(",")) == 3


async def test_used_up_quota_is_rate_limited_without_publishing(env: FakeEnv, state: ThreadsState) -> None:
    adapter = ThreadsAdapter(env.session, clock=state.now)  # the fake's clock, moved below
    state.publishing = SlidingWindow(2, timedelta(hours=24))
    target = env.target("threads", options=USER)
    await adapter.publish(target, publish_request(Content(text="satu"), marker="m1"))
    await env.admin("threads", "clock", {"advance_s": 3600})
    await adapter.publish(target, publish_request(Content(text="dua"), marker="m2"))
    with pytest.raises(PublishingQuota) as info:
        await adapter.publish(target, publish_request(Content(text="tiga"), marker="m3"))

    assert info.value.code == "threads_publishing_limit"
    # The first post leaves the rolling window 23 h after the second was made.
    assert info.value.retry_after is not None
    assert 22 * 3600 - 60 <= info.value.retry_after <= 23 * 3600 + 60
    assert state.requests[PUBLISH] == 2
    quota = adapter.rate_limit(target)
    assert quota is not None
    assert quota.remaining == 0


async def test_publishing_limit_error_from_publish_is_rate_limited(
    env: FakeEnv, adapter: ThreadsAdapter
) -> None:
    body = {"error": {"message": "limit", "type": "OAuthException", "code": 9, "error_subcode": 2207042}}
    await env.admin(
        "threads",
        "faults",
        {"path_contains": "/threads_publish", "method": "POST", "status": 400, "body": body},
    )
    with pytest.raises(PublishingQuota) as info:
        await adapter.publish(env.target("threads", options=USER), publish_request())
    # No post of the account is in the window to tell when a slot frees: an hour, free of attempts.
    assert info.value.retry_after == 3600


async def test_slow_container_is_pending_and_resumes_without_a_new_container(
    env: FakeEnv, state: ThreadsState, adapter: ThreadsAdapter
) -> None:
    state.processing_polls = 1000
    target = env.target("threads", options=USER)
    request = publish_request()
    with pytest.raises(ContainerPending) as info:
        await adapter.publish(target, request)
    state.containers[info.value.container_id].polls_left = 0
    published = await ThreadsAdapter(env.session).resume(target, request, info.value.container_id)
    assert published.post_id == state.posts[0].id
    assert len(state.containers) == 1


async def test_drop_after_publish_is_ambiguous_and_found_by_marker(
    env: FakeEnv, state: ThreadsState, adapter: ThreadsAdapter
) -> None:
    await env.admin(
        "threads",
        "faults",
        {"path_contains": "/threads_publish", "method": "POST", "mode": "drop_after_processing"},
    )
    target = env.target("threads", options=USER)
    request = publish_request()
    with pytest.raises(Ambiguous):
        await adapter.publish(target, request)
    found = await adapter.find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id
    # A retry in the same process resumes the known container: it sees PUBLISHED, never re-publishes.
    again = await adapter.publish(target, request)
    assert again.post_id == found.post_id
    assert state.requests[PUBLISH] == 1


async def test_publish_that_never_landed_is_surely_absent(env: FakeEnv, adapter: ThreadsAdapter) -> None:
    await env.admin(
        "threads", "faults", {"path_contains": "/threads_publish", "method": "POST", "mode": "drop"}
    )
    target = env.target("threads", options=USER)
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert isinstance(
        await adapter.find_by_marker(
            target, publish_request(first_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        ),
        Absent,
    )


async def test_invalid_token_is_auth_expired(env: FakeEnv, adapter: ThreadsAdapter) -> None:
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("threads", token="nope", options=USER), publish_request())


async def test_throttling_code_is_rate_limited(env: FakeEnv, adapter: ThreadsAdapter) -> None:
    body = {"error": {"message": "(#4) Application request limit reached", "code": 4}}
    await env.admin(
        "threads", "faults", {"path_contains": "/threads", "method": "POST", "status": 400, "body": body}
    )
    with pytest.raises(RateLimited):
        await adapter.publish(env.target("threads", options=USER), publish_request())


async def test_transient_error_to_the_publish_is_ambiguous(env: FakeEnv, adapter: ThreadsAdapter) -> None:
    body = {"error": {"message": "Service temporarily unavailable", "code": 2, "is_transient": True}}
    await env.admin(
        "threads",
        "faults",
        {"path_contains": "/threads_publish", "method": "POST", "status": 503, "body": body},
    )
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("threads", options=USER), publish_request())


@pytest.mark.parametrize(
    "content",
    [
        Content(text="x" * 501),
        Content(text="🎉" * 130),  # emoji count as UTF-8 bytes: 520
        Content(text="PNG only", media=(Media(url="https://example.go.id/a.gif", type="image/gif"),)),
        Content(
            text="Poll and photo",
            media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg"),),
            poll=Poll(question="?", options=("a", "b"), duration_minutes=60),
        ),
    ],
)
async def test_what_threads_cannot_take_is_refused_before_sending(
    env: FakeEnv, state: ThreadsState, adapter: ThreadsAdapter, content: Content
) -> None:
    with pytest.raises(Permanent):
        await adapter.publish(env.target("threads", options=USER), publish_request(content))
    assert not state.requests


async def test_engagement_reads_insights(env: FakeEnv, adapter: ThreadsAdapter) -> None:
    target = env.target("threads", options=USER)
    published = await adapter.publish(target, publish_request())
    await env.admin(
        "threads",
        "engagement",
        {"post_id": published.post_id, "reactions": 9, "comments": 4, "shares": 1, "reach": 300},
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert engagement == type(engagement)(reactions=9, comments=4, shares=1, reach=300)


async def test_poll_results_read_the_posts_poll_attachment(env: FakeEnv, state: ThreadsState) -> None:
    """Threads gives shares and a total (create-posts/polls, "Media retrieval"); the votes are
    the shares of the total, and the poll is closed once its expiry (24 h on) has passed."""
    adapter = ThreadsAdapter(env.session, poll_interval=0.01, poll_limit=0.2, clock=state.now)
    target = env.target("threads", options=USER)
    poll = Poll(question="Ikut upacara?", options=("Ya", "Tidak", "Mungkin"), duration_minutes=1440)
    published = await adapter.publish(target, publish_request(Content(text="Survei", poll=poll)))
    state.posts[-1].data["votes"] = [10, 25, 15]
    running = await adapter.poll_results(target, published.post_id)
    assert (running.options, running.closed) == ((("Ya", 10), ("Tidak", 25), ("Mungkin", 15)), False)
    await env.admin("threads", "clock", {"advance_s": 24 * 3600 + 60})
    final = await adapter.poll_results(target, published.post_id)
    assert (final.options, final.closed, final.voters) == (running.options, True, None)
    plain = await adapter.publish(target, publish_request(Content(text="tanpa jajak")))
    with pytest.raises(Permanent, match="no poll"):
        await adapter.poll_results(target, plain.post_id)

"""Instagram adapter against the Instagram fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import SlidingWindow
from sandbox.instagram import InstagramState
from services.publisher.adapters.instagram import ContainerPending, InstagramAdapter, PublishAmbiguous
from services.publisher.adapters.port import (
    Absent,
    AuthExpired,
    Permanent,
    Published,
    PublishingQuota,
    Target,
)
from shared.events import Content, Media
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

IG = {"ig_user_id": "1784"}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> InstagramState:
    state = env.states["instagram"]
    assert isinstance(state, InstagramState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> InstagramAdapter:
    return InstagramAdapter(env.session, poll_interval=0.01, poll_limit=0.2)


def photo(env: FakeEnv, text: str = "Festival budaya") -> Content:
    return Content(text=text, media=(Media(url=env.media_url("f.jpg"), type="image/jpeg", alt="Penari"),))


async def test_image_goes_through_container_poll_and_publish(
    env: FakeEnv, state: InstagramState, adapter: InstagramAdapter
) -> None:
    state.processing_polls = 2
    published = await adapter.publish(env.target("instagram", options=IG), publish_request(photo(env)))

    [post] = state.posts
    assert published.post_id == post.id
    assert published.url == post.url
    assert post.text == "Festival budaya"
    assert post.data["alt_text"] == "Penari"
    assert state.requests["POST /instagram/v26.0/1784/media_publish"] == 1


async def test_several_images_become_one_carousel(
    env: FakeEnv, state: InstagramState, adapter: InstagramAdapter
) -> None:
    media = tuple(Media(url=env.media_url(f"{n}.jpg"), type="image/jpeg") for n in range(3))
    await adapter.publish(
        env.target("instagram", options=IG), publish_request(Content(text="Galeri", media=media))
    )
    [post] = state.posts
    assert post.data["media_type"] == "CAROUSEL"
    assert len(post.data["children"].split(",")) == 3


@pytest.mark.parametrize(
    "content",
    [
        Content(text="Teks saja"),
        Content(text="PNG", media=(Media(url="https://example.go.id/a.png", type="image/png"),)),
    ],
)
async def test_what_instagram_cannot_take_is_refused_before_sending(
    env: FakeEnv, state: InstagramState, adapter: InstagramAdapter, content: Content
) -> None:
    with pytest.raises(Permanent):
        await adapter.publish(env.target("instagram", options=IG), publish_request(content))
    assert not state.requests


async def test_invalid_token_is_auth_expired(env: FakeEnv, adapter: InstagramAdapter) -> None:
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("instagram", token="nope", options=IG), publish_request(photo(env)))


async def posted_hours_ago(
    env: FakeEnv, state: InstagramState, hours: int
) -> tuple[InstagramAdapter, Target]:
    """An adapter on the fake's clock, whose account posted one photo ``hours`` ago."""
    adapter = InstagramAdapter(env.session, poll_interval=0.01, poll_limit=0.2, clock=state.now)
    target = env.target("instagram", options=IG)
    await adapter.publish(target, publish_request(photo(env, "satu"), marker="m1"))
    await env.admin("instagram", "clock", {"advance_s": hours * 3600})
    return adapter, target


async def test_publishing_limit_is_rate_limited_until_the_oldest_post_leaves_the_window(
    env: FakeEnv, state: InstagramState
) -> None:
    state.publishing = SlidingWindow(1, timedelta(hours=24))
    adapter, target = await posted_hours_ago(env, state, 2)
    with pytest.raises(PublishingQuota) as info:
        await adapter.publish(target, publish_request(photo(env, "dua"), marker="m2"))
    # Read from content_publishing_limit before anything is made: no container, no publish call.
    assert info.value.code == "content_publishing_limit"
    assert info.value.retry_after is not None
    assert 22 * 3600 - 60 <= info.value.retry_after <= 22 * 3600 + 60
    assert state.requests["POST /instagram/v26.0/1784/media_publish"] == 1
    assert len(state.containers) == 1
    quota = adapter.rate_limit(target)
    assert quota is not None
    assert quota.remaining == 0
    async with env.session.get(
        env.url("/instagram/v26.0/1784/content_publishing_limit"),
        headers={"Authorization": "Bearer t0ken-demo-secret"},
    ) as resp:
        assert (await resp.json())["data"][0]["quota_usage"] == 1


async def test_the_publish_calls_own_limit_refusal_waits_for_the_window_too(
    env: FakeEnv, state: InstagramState
) -> None:
    """The quota read said there was room, then media_publish answered 9/2207042 (another app
    took the slot meanwhile): the wait is read from the account's media all the same."""
    adapter, target = await posted_hours_ago(env, state, 5)
    body = {"error": {"message": "limit", "type": "OAuthException", "code": 9, "error_subcode": 2207042}}
    fault = {"path_contains": "/media_publish", "method": "POST", "status": 400, "body": body}
    await env.admin("instagram", "faults", fault)
    with pytest.raises(PublishingQuota) as info:
        await adapter.publish(target, publish_request(photo(env, "dua"), marker="m2"))
    assert info.value.code == "graph_9_2207042"
    assert info.value.retry_after is not None
    assert 19 * 3600 - 60 <= info.value.retry_after <= 19 * 3600 + 60


async def test_a_used_up_quota_whose_posts_cannot_be_read_waits_an_hour(
    env: FakeEnv, state: InstagramState, adapter: InstagramAdapter
) -> None:
    state.publishing = SlidingWindow(1, timedelta(hours=24))
    target = env.target("instagram", options=IG)
    await adapter.publish(target, publish_request(photo(env, "satu"), marker="m1"))
    await env.admin("instagram", "faults", {"path_contains": "/1784/media", "method": "GET", "status": 500})
    with pytest.raises(PublishingQuota) as info:
        await adapter.publish(target, publish_request(photo(env, "dua"), marker="m2"))
    assert info.value.retry_after == 3600


async def test_slow_container_is_pending_and_resumes_without_a_new_container(
    env: FakeEnv, state: InstagramState, adapter: InstagramAdapter
) -> None:
    state.processing_polls = 1000
    target = env.target("instagram", options=IG)
    request = publish_request(photo(env))
    with pytest.raises(ContainerPending) as info:
        await adapter.publish(target, request)
    container = info.value.container_id

    state.containers[container].polls_left = 0
    published = await InstagramAdapter(env.session).resume(target, request, container)
    assert published.post_id == state.posts[0].id
    assert len(state.containers) == 1


async def test_drop_after_publish_is_ambiguous_and_resume_never_republishes(
    env: FakeEnv, state: InstagramState, adapter: InstagramAdapter
) -> None:
    await env.admin(
        "instagram", "faults", {"path_contains": "/media_publish", "mode": "drop_after_processing"}
    )
    target = env.target("instagram", options=IG)
    request = publish_request(photo(env))
    with pytest.raises(PublishAmbiguous) as info:
        await adapter.publish(target, request)

    found = await adapter.find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id
    resumed = await InstagramAdapter(env.session).resume(target, request, info.value.container_id)
    assert resumed.post_id == found.post_id
    assert state.requests["POST /instagram/v26.0/1784/media_publish"] == 1


async def test_publish_that_never_landed_is_surely_absent(env: FakeEnv, adapter: InstagramAdapter) -> None:
    await env.admin("instagram", "faults", {"path_contains": "/media_publish", "mode": "drop"})
    target = env.target("instagram", options=IG)
    with pytest.raises(PublishAmbiguous):
        await adapter.publish(target, publish_request(photo(env)))
    assert isinstance(
        await adapter.find_by_marker(
            target, publish_request(photo(env), first_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        ),
        Absent,
    )


async def test_transient_graph_error_to_the_publish_is_ambiguous(
    env: FakeEnv, adapter: InstagramAdapter
) -> None:
    body = {"error": {"message": "Server error", "code": -1, "error_subcode": 2207001, "is_transient": True}}
    await env.admin("instagram", "faults", {"path_contains": "/media_publish", "status": 500, "body": body})
    with pytest.raises(PublishAmbiguous):
        await adapter.publish(env.target("instagram", options=IG), publish_request(photo(env)))


async def test_engagement_reads_insights(env: FakeEnv, adapter: InstagramAdapter) -> None:
    target = env.target("instagram", options=IG)
    published = await adapter.publish(target, publish_request(photo(env)))
    await env.admin(
        "instagram",
        "engagement",
        {"post_id": published.post_id, "reactions": 30, "comments": 5, "shares": 2, "reach": 900},
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert engagement == type(engagement)(reactions=30, comments=5, shares=2, reach=900)

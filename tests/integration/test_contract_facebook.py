"""Facebook Pages adapter against the Graph fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import SlidingWindow
from sandbox.facebook import FacebookState
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Duplicate,
    Permanent,
    Published,
    RateLimited,
    Temporary,
)
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import FakeEnv, closed_port_url, publish_request, running_sandbox

PAGE = {"page_id": "1010"}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> FacebookState:
    state = env.states["facebook"]
    assert isinstance(state, FacebookState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> FacebookAdapter:
    return FacebookAdapter(env.session)


def graph_fault(code: int, message: str, status: int = 400, **extra: object) -> dict[str, object]:
    return {
        "path_contains": "/1010/feed",
        "method": "POST",
        "status": status,
        "body": {"error": {"message": message, "type": "OAuthException", "code": code, **extra}},
    }


async def test_link_post_goes_to_the_feed(
    env: FakeEnv, state: FacebookState, adapter: FacebookAdapter
) -> None:
    content = Content(text="Pengumuman CPNS", link="https://example.go.id/cpns")
    published = await adapter.publish(env.target("facebook", options=PAGE), publish_request(content))

    assert published.post_id.startswith("1010_")
    assert published.url == f"https://www.facebook.com/{published.post_id}"
    [post] = state.posts
    assert (post.text, post.data["link"]) == ("Pengumuman CPNS", "https://example.go.id/cpns")


async def test_one_image_goes_to_photos_and_returns_the_feed_post(
    env: FakeEnv, state: FacebookState, adapter: FacebookAdapter
) -> None:
    media = (Media(url=env.media_url(), type="image/jpeg", alt="Foto"),)
    published = await adapter.publish(
        env.target("facebook", options=PAGE), publish_request(Content(text="Foto", media=media))
    )
    [post] = state.posts
    assert published.post_id == post.id
    assert post.data["photo_id"]


async def test_several_images_are_attached_to_one_feed_post(
    env: FakeEnv, state: FacebookState, adapter: FacebookAdapter
) -> None:
    media = tuple(Media(url=env.media_url(f"{n}.jpg"), type="image/jpeg") for n in range(3))
    await adapter.publish(
        env.target("facebook", options=PAGE), publish_request(Content(text="Galeri", media=media))
    )
    [post] = state.posts
    assert len(post.data["attached_media"]) == 3
    assert not state.photos  # every upload was attached


async def test_poll_is_refused_before_sending(
    env: FakeEnv, state: FacebookState, adapter: FacebookAdapter
) -> None:
    poll = Poll(question="?", options=("a", "b"), duration_minutes=60)
    with pytest.raises(Permanent):
        await adapter.publish(env.target("facebook", options=PAGE), publish_request(Content(poll=poll)))
    assert not state.requests


async def test_expired_token_is_auth_expired(env: FakeEnv, adapter: FacebookAdapter) -> None:
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(env.target("facebook", token="stale", options=PAGE), publish_request())
    assert info.value.code == "graph_190"


async def test_duplicate_of_the_previous_post_is_duplicate(env: FakeEnv, adapter: FacebookAdapter) -> None:
    target = env.target("facebook", options=PAGE)
    await adapter.publish(target, publish_request())
    with pytest.raises(Duplicate) as info:
        await adapter.publish(target, publish_request(marker="another"))
    assert info.value.code == "graph_506"


@pytest.mark.parametrize("code", [4, 17, 32, 613])
async def test_throttling_codes_are_rate_limited(env: FakeEnv, adapter: FacebookAdapter, code: int) -> None:
    await env.admin("facebook", "faults", graph_fault(code, "(#4) Application request limit reached"))
    with pytest.raises(RateLimited):
        await adapter.publish(env.target("facebook", options=PAGE), publish_request())


async def test_page_quota_is_rate_limited_with_the_regain_time(
    env: FakeEnv, state: FacebookState, adapter: FacebookAdapter
) -> None:
    state.buc = SlidingWindow(2, timedelta(hours=1))
    target = env.target("facebook", options=PAGE)
    await adapter.publish(target, publish_request(Content(text="satu")))
    info = adapter.rate_limit(target)
    assert info is not None
    assert (info.limit, info.remaining) == (100, 50)

    await adapter.publish(target, publish_request(Content(text="dua")))
    with pytest.raises(RateLimited) as raised:
        await adapter.publish(target, publish_request(Content(text="tiga")))
    assert raised.value.code == "graph_32"
    assert raised.value.retry_after == 60 * 60


async def test_spam_block_is_permanent(env: FakeEnv, adapter: FacebookAdapter) -> None:
    await env.admin("facebook", "faults", graph_fault(368, "It looks like you were misusing this feature"))
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("facebook", options=PAGE), publish_request())
    assert info.value.code == "graph_368"


async def test_transient_error_to_the_post_is_ambiguous(env: FakeEnv, adapter: FacebookAdapter) -> None:
    # "is_transient" invites a retry, but a 5xx to the feed post does not say it was not made.
    await env.admin(
        "facebook", "faults", graph_fault(2, "Service temporarily unavailable", 503, is_transient=True)
    )
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("facebook", options=PAGE), publish_request())


async def test_connection_refused_is_temporary(env: FakeEnv, adapter: FacebookAdapter) -> None:
    with pytest.raises(Temporary):
        await adapter.publish(
            env.target("facebook", options=PAGE, base_url=closed_port_url()), publish_request()
        )


async def test_drop_after_processing_is_ambiguous_then_found_by_message(
    env: FakeEnv, state: FacebookState, adapter: FacebookAdapter
) -> None:
    await env.admin(
        "facebook",
        "faults",
        {"path_contains": "/1010/feed", "method": "POST", "mode": "drop_after_processing"},
    )
    target = env.target("facebook", options=PAGE)
    request = publish_request(Content(text="Sidak pasar", link="https://example.go.id/p"))
    with pytest.raises(Ambiguous):
        await adapter.publish(target, request)

    found = await FacebookAdapter(env.session).find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_lookup_finds_nothing_when_the_post_never_landed(
    env: FakeEnv, adapter: FacebookAdapter
) -> None:
    await env.admin("facebook", "faults", {"path_contains": "/1010/feed", "method": "POST", "mode": "drop"})
    target = env.target("facebook", options=PAGE)
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert isinstance(
        await adapter.find_by_marker(
            target, publish_request(first_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        ),
        Absent,
    )


async def test_lookup_ignores_identical_posts_older_than_the_first_attempt(
    env: FakeEnv, adapter: FacebookAdapter
) -> None:
    target = env.target("facebook", options=PAGE)
    await adapter.publish(target, publish_request())
    await env.admin("facebook", "clock", {"advance_s": 3 * 3600})
    later = publish_request(first_attempt_at=datetime.now(UTC) + timedelta(hours=3))
    after_it = FacebookAdapter(env.session, clock=lambda: datetime.now(UTC) + timedelta(hours=3, minutes=1))
    assert isinstance(await after_it.find_by_marker(target, later), Absent)


async def test_engagement_reads_reactions_comments_and_shares(env: FakeEnv, adapter: FacebookAdapter) -> None:
    target = env.target("facebook", options=PAGE)
    published = await adapter.publish(target, publish_request())
    await env.admin(
        "facebook", "engagement", {"post_id": published.post_id, "reactions": 12, "comments": 4, "shares": 1}
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert (engagement.reactions, engagement.comments, engagement.shares) == (12, 4, 1)

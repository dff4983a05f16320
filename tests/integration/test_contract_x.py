"""X adapter against the X fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import SlidingWindow
from sandbox.x import XState
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Duplicate,
    Permanent,
    Published,
    RateLimited,
)
from services.publisher.adapters.x import XAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import ACCOUNT, TOKEN, FakeEnv, publish_request, running_sandbox


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> XState:
    state = env.states["x"]
    assert isinstance(state, XState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> XAdapter:
    return XAdapter(env.session)


async def test_post_is_created_with_201_and_a_status_url(
    env: FakeEnv, state: XState, adapter: XAdapter
) -> None:
    target = env.target("x", options={"username": "pemprov"})
    content = Content(text="Cek info mudik", link="https://example.go.id/mudik")
    published = await adapter.publish(target, publish_request(content))

    assert published.url == f"https://x.com/pemprov/status/{published.post_id}"
    assert state.posts[0].text == "Cek info mudik\n\nhttps://example.go.id/mudik"
    info = adapter.rate_limit(target)
    assert info is not None
    assert (info.limit, info.remaining) == (100, 99)


async def test_images_are_uploaded_then_attached(env: FakeEnv, state: XState, adapter: XAdapter) -> None:
    media = tuple(Media(url=env.media_url(f"{n}.png"), type="image/png") for n in range(2))
    await adapter.publish(env.target("x"), publish_request(Content(text="Foto", media=media)))
    [post] = state.posts
    assert len(post.data["media_ids"]) == 2
    assert set(post.data["media_ids"]) <= set(state.media)


async def test_poll_uses_the_text_as_its_question(env: FakeEnv, state: XState, adapter: XAdapter) -> None:
    poll = Poll(question="Setuju car free day?", options=("Ya", "Tidak"), duration_minutes=1440)
    await adapter.publish(env.target("x"), publish_request(Content(poll=poll)))
    [post] = state.posts
    assert post.text == "Setuju car free day?"
    assert post.data["poll"] == {"options": ["Ya", "Tidak"], "duration_minutes": 1440}


async def test_duplicate_text_is_duplicate(env: FakeEnv, adapter: XAdapter) -> None:
    await adapter.publish(env.target("x"), publish_request())
    with pytest.raises(Duplicate) as info:
        await adapter.publish(env.target("x"), publish_request(marker="again"))
    assert info.value.http_status == 403


async def test_too_long_is_refused_before_sending(env: FakeEnv, state: XState, adapter: XAdapter) -> None:
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("x"), publish_request(Content(text="x" * 281)))
    assert info.value.code == "max_length"
    assert "281 weighted characters" in info.value.message
    assert not state.requests


async def test_too_long_by_the_platform_is_permanent(env: FakeEnv, adapter: XAdapter) -> None:
    body = {"title": "Invalid Request", "detail": "Your Tweet text is too long (invalid).", "status": 400}
    await env.admin("x", "faults", {"path_contains": "/2/tweets", "status": 400, "body": body})
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("x"), publish_request(Content(text="Pengumuman")))
    assert info.value.http_status == 400
    assert "invalid" in info.value.message


async def test_expired_token_is_auth_expired(env: FakeEnv, adapter: XAdapter) -> None:
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("x", token="expired"), publish_request())


async def test_429_waits_for_the_latest_exhausted_window(
    env: FakeEnv, state: XState, adapter: XAdapter
) -> None:
    state.per_user = SlidingWindow(5, timedelta(minutes=15))
    state.user_day = SlidingWindow(1, timedelta(hours=24))
    await adapter.publish(env.target("x"), publish_request(Content(text="satu")))
    with pytest.raises(RateLimited) as info:
        await adapter.publish(env.target("x"), publish_request(Content(text="dua")))
    assert info.value.retry_after is not None
    assert 24 * 3600 - 60 < info.value.retry_after <= 24 * 3600


async def test_429_uses_the_epoch_reset_header(env: FakeEnv, adapter: XAdapter) -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=7)).timestamp())
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
    await env.admin(
        "x", "faults", {"path_contains": "/2/tweets", "status": 429, "body": body, "headers": headers}
    )
    with pytest.raises(RateLimited) as info:
        await adapter.publish(env.target("x"), publish_request())
    assert info.value.retry_after is not None
    assert 6 * 60 < info.value.retry_after <= 7 * 60


async def test_server_error_to_the_post_is_ambiguous(env: FakeEnv, adapter: XAdapter) -> None:
    await env.admin(
        "x", "faults", {"path_contains": "/2/tweets", "status": 503, "body": {"title": "Service Unavailable"}}
    )
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("x"), publish_request())


async def test_drop_after_processing_is_ambiguous_then_found(
    env: FakeEnv, state: XState, adapter: XAdapter
) -> None:
    await env.admin(
        "x", "faults", {"path_contains": "/2/tweets", "method": "POST", "mode": "drop_after_processing"}
    )
    request = publish_request(Content(text="Info", link="https://example.go.id/i"))
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("x"), request)

    found = await XAdapter(env.session).find_by_marker(env.target("x"), request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_a_post_with_ampersands_and_brackets_is_found_as_x_sends_it_escaped(
    env: FakeEnv, state: XState, adapter: XAdapter
) -> None:
    # X sends "&", "<", ">" as "&amp;", "&lt;", "&gt;"; read raw, our own post is "not ours", and
    # the lost answer would be followed by a second post (refused as a duplicate: a failed job).
    await env.admin(
        "x", "faults", {"path_contains": "/2/tweets", "method": "POST", "mode": "drop_after_processing"}
    )
    request = publish_request(Content(text="Banjir & longsor: siaga <3 hari> &amp; waspada"))
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("x"), request)
    listed = await env.session.get(
        env.url(f"/x/2/users/{state.user_id(ACCOUNT)}/tweets"), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert "Banjir &amp; longsor: siaga &lt;3 hari&gt; &amp;amp; waspada" in await listed.text()

    found = await XAdapter(env.session).find_by_marker(env.target("x"), request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_lookup_is_none_when_nothing_landed(env: FakeEnv, adapter: XAdapter) -> None:
    await env.admin("x", "faults", {"path_contains": "/2/tweets", "method": "POST", "mode": "drop"})
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("x"), publish_request())
    assert isinstance(
        await adapter.find_by_marker(
            env.target("x"), publish_request(first_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        ),
        Absent,
    )


async def test_engagement_reads_public_metrics(env: FakeEnv, adapter: XAdapter) -> None:
    published = await adapter.publish(env.target("x"), publish_request())
    await env.admin(
        "x",
        "engagement",
        {"post_id": published.post_id, "reactions": 9, "comments": 3, "shares": 2, "reach": 400},
    )
    engagement = await adapter.engagement(env.target("x"), published.post_id)
    assert (engagement.reactions, engagement.comments, engagement.shares, engagement.reach) == (9, 3, 2, 400)
    assert published.url == f"https://x.com/i/web/status/{published.post_id}"  # no username option

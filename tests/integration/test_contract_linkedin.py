"""LinkedIn adapter against the LinkedIn fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.linkedin import LinkedInState
from services.publisher.adapters.linkedin import LinkedInAdapter, escape_little_text, unescape_little_text
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Duplicate,
    Permanent,
    Published,
    RateLimited,
)
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

ORG = {"author": "urn:li:organization:123"}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> LinkedInState:
    state = env.states["linkedin"]
    assert isinstance(state, LinkedInState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> LinkedInAdapter:
    return LinkedInAdapter(env.session)


def test_little_text_reserved_characters_round_trip() -> None:
    text = "Rapat (terbuka) #Pemprov @warga [info] 50% <selesai> a_b*c~d|e{f}\\"
    escaped = escape_little_text(text)
    assert escaped.startswith("Rapat \\(terbuka\\) \\#Pemprov \\@warga")
    assert escaped.endswith("\\\\")
    assert unescape_little_text(escaped) == text


async def test_text_post_is_201_with_the_urn_in_x_restli_id(
    env: FakeEnv, state: LinkedInState, adapter: LinkedInAdapter
) -> None:
    published = await adapter.publish(
        env.target("linkedin", options=ORG), publish_request(Content(text="Rapat (terbuka)"))
    )
    [post] = state.posts
    assert published.post_id == post.id
    assert published.post_id.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{post.id}"
    assert post.text == "Rapat \\(terbuka\\)"
    assert post.data["author"] == "urn:li:organization:123"


async def test_link_becomes_an_article(env: FakeEnv, state: LinkedInState, adapter: LinkedInAdapter) -> None:
    content = Content(text="Laporan tahunan", link="https://example.go.id/laporan")
    await adapter.publish(env.target("linkedin", options=ORG), publish_request(content))
    article = state.posts[0].data["content"]["article"]
    assert article["source"] == "https://example.go.id/laporan"
    assert article["title"] == "Laporan tahunan"


async def test_images_are_initialised_uploaded_then_referenced(
    env: FakeEnv, state: LinkedInState, adapter: LinkedInAdapter
) -> None:
    media = tuple(Media(url=env.media_url(f"{n}.png"), type="image/png", alt=f"foto {n}") for n in range(2))
    await adapter.publish(
        env.target("linkedin", options=ORG), publish_request(Content(text="Foto", media=media))
    )
    images = state.posts[0].data["content"]["multiImage"]["images"]
    assert [i["altText"] for i in images] == ["foto 0", "foto 1"]
    assert all(state.images[i["id"]] for i in images)  # bytes arrived for each


async def test_poll_carries_question_options_and_duration(
    env: FakeEnv, state: LinkedInState, adapter: LinkedInAdapter
) -> None:
    poll = Poll(question="Hadir?", options=("Ya", "Tidak"), duration_minutes=3 * 24 * 60)
    await adapter.publish(
        env.target("linkedin", options=ORG), publish_request(Content(text="Survei", poll=poll))
    )
    sent = state.posts[0].data["content"]["poll"]
    assert sent == {
        "question": "Hadir?",
        "options": [{"text": "Ya"}, {"text": "Tidak"}],
        "settings": {"duration": "THREE_DAYS"},
    }


async def test_duplicate_post_is_duplicate(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    target = env.target("linkedin", options=ORG)
    await adapter.publish(target, publish_request(marker="m1"))
    with pytest.raises(Duplicate) as info:
        await adapter.publish(target, publish_request(marker="m2"))
    assert info.value.http_status == 422
    assert "urn:li:share:" in info.value.message


async def test_daily_quota_is_rate_limited_until_utc_midnight(env: FakeEnv, state: LinkedInState) -> None:
    now = datetime(2025, 5, 20, 22, 30, tzinfo=UTC)
    adapter = LinkedInAdapter(env.session, clock=lambda: now)
    state.member_daily_posts = 1
    target = env.target("linkedin", options=ORG)
    await adapter.publish(target, publish_request(Content(text="satu"), marker="m1"))
    with pytest.raises(RateLimited) as info:
        await adapter.publish(target, publish_request(Content(text="dua"), marker="m2"))
    assert info.value.retry_after == 90 * 60
    quota = adapter.rate_limit(target)
    assert quota is not None
    assert quota.remaining == 0
    assert quota.reset_at == datetime(2025, 5, 21, tzinfo=UTC)


async def test_sunset_version_is_permanent(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    # LinkedIn sunsets a version after a year: the fake stops answering the one Warta speaks.
    state = env.states["linkedin"]
    assert isinstance(state, LinkedInState)
    state.min_version = "209901"
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("linkedin", options=ORG), publish_request())
    assert info.value.http_status == 426


async def test_expired_token_is_auth_expired(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("linkedin", token="expired", options=ORG), publish_request())


async def test_access_denied_is_auth_expired(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    body = {
        "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE",
        "status": 403,
        "code": "ACCESS_DENIED",
    }
    await env.admin("linkedin", "faults", {"path_contains": "/rest/posts", "status": 403, "body": body})
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("linkedin", options=ORG), publish_request())


async def test_server_error_to_the_post_is_ambiguous(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    await env.admin(
        "linkedin",
        "faults",
        {
            "path_contains": "/rest/posts",
            "status": 504,
            "body": {"message": "Gateway timeout", "status": 504},
        },
    )
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("linkedin", options=ORG), publish_request())


async def test_lost_reply_is_ambiguous_and_found_by_marker(
    env: FakeEnv, state: LinkedInState, adapter: LinkedInAdapter
) -> None:
    await env.admin(
        "linkedin",
        "faults",
        {"path_contains": "/rest/posts", "method": "POST", "mode": "drop_after_processing"},
    )
    target = env.target("linkedin", options=ORG)
    request = publish_request(Content(text="Siaran #pers (resmi)"))
    with pytest.raises(Ambiguous):
        await adapter.publish(target, request)
    found = await adapter.find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_request_that_never_landed_is_surely_absent(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    await env.admin("linkedin", "faults", {"path_contains": "/rest/posts", "method": "POST", "mode": "drop"})
    target = env.target("linkedin", options=ORG)
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert isinstance(
        await adapter.find_by_marker(
            target, publish_request(first_attempt_at=datetime.now(UTC) - timedelta(minutes=1))
        ),
        Absent,
    )


@pytest.mark.parametrize(
    "content",
    [
        Content(text="x" * 3001),
        Content(text="Survei", poll=Poll(question="?", options=("a", "b"), duration_minutes=120)),
        Content(text="Video", media=(Media(url="https://example.go.id/v.mp4", type="video/mp4"),)),
    ],
)
async def test_what_linkedin_cannot_take_is_refused_before_sending(
    env: FakeEnv, state: LinkedInState, adapter: LinkedInAdapter, content: Content
) -> None:
    with pytest.raises(Permanent):
        await adapter.publish(env.target("linkedin", options=ORG), publish_request(content))
    assert not state.requests


async def test_engagement_reads_social_actions(env: FakeEnv, adapter: LinkedInAdapter) -> None:
    target = env.target("linkedin", options=ORG)
    published = await adapter.publish(target, publish_request())
    await env.admin("linkedin", "engagement", {"post_id": published.post_id, "reactions": 12, "comments": 3})
    engagement = await adapter.engagement(target, published.post_id)
    assert (engagement.reactions, engagement.comments) == (12, 3)


async def test_poll_results_read_the_posts_poll_and_close_after_its_duration(
    env: FakeEnv, state: LinkedInState
) -> None:
    """The post read back (``GET /rest/posts/{urn}``) carries each option's ``voteCount`` and
    ``uniqueVotersCount``; the poll counts as closed once its duration since publishing is over."""
    adapter = LinkedInAdapter(env.session, clock=state.now)
    target = env.target("linkedin", options=ORG)
    poll = Poll(question="Hadir?", options=("Ya", "Tidak", "Ragu"), duration_minutes=24 * 60)
    published = await adapter.publish(target, publish_request(Content(text="Survei", poll=poll)))
    state.posts[-1].data["votes"] = [12, 7, 1]
    running = await adapter.poll_results(target, published.post_id)
    assert (running.options, running.closed, running.voters) == (
        (("Ya", 12), ("Tidak", 7), ("Ragu", 1)),
        False,
        20,
    )
    await env.admin("linkedin", "clock", {"advance_s": 24 * 3600 + 60})
    assert (await adapter.poll_results(target, published.post_id)).closed is True
    plain = await adapter.publish(target, publish_request(Content(text="tanpa jajak")))
    with pytest.raises(Permanent, match="no poll"):
        await adapter.poll_results(target, plain.post_id)

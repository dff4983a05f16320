"""WordPress adapter against the WordPress fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.wordpress import WordPressState
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Permanent,
    Published,
    RateLimited,
)
from services.publisher.adapters.wordpress import WordPressAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

EDITOR = {"username": "editor"}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> WordPressState:
    state = env.states["wordpress"]
    assert isinstance(state, WordPressState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> WordPressAdapter:
    return WordPressAdapter(env.session)


async def test_post_is_created_with_201_location_and_hidden_marker(
    env: FakeEnv, state: WordPressState, adapter: WordPressAdapter
) -> None:
    content = Content(text="Rapat paripurna DPRD\n\nAgenda lengkap", link="https://example.go.id/r")
    published = await adapter.publish(env.target("wordpress", extra=EDITOR), publish_request(content))

    [post] = state.posts
    assert published.post_id == post.id
    assert published.url == env.url(f"/wordpress/?p={post.id}")
    assert post.data["title"] == "Rapat paripurna DPRD"
    assert post.data["status"] == "publish"
    assert "<p>Agenda lengkap</p>" in post.text
    assert post.text.endswith("<!-- warta:wmarker0001 -->")


async def test_token_may_carry_the_username() -> None:
    async with running_sandbox({"site": "editor:abcd efgh ijkl"}) as own:
        adapter = WordPressAdapter(own.session)
        await adapter.publish(own.target("wordpress", token="editor:abcd efgh ijkl"), publish_request())
        assert len(own.states["wordpress"].posts) == 1


async def test_image_is_uploaded_and_featured(
    env: FakeEnv, state: WordPressState, adapter: WordPressAdapter
) -> None:
    media = (Media(url=env.media_url("gedung.jpg"), type="image/jpeg", alt="Gedung"),)
    await adapter.publish(
        env.target("wordpress", extra=EDITOR), publish_request(Content(text="Foto", media=media))
    )
    [post] = state.posts
    assert post.data["featured_media"] in state.media
    assert 'alt="Gedung"' in post.text


async def test_wrong_password_is_auth_expired(env: FakeEnv, adapter: WordPressAdapter) -> None:
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(env.target("wordpress", token="wrong", extra=EDITOR), publish_request())
    assert info.value.code == "incorrect_password"


@pytest.mark.parametrize(
    ("status", "media", "code"),
    [
        ("publish", False, "rest_cannot_publish"),
        ("future", False, "rest_cannot_publish"),
        ("publish", True, "rest_cannot_create"),  # uploading the image is refused first
    ],
)
async def test_an_account_demoted_to_contributor_is_auth_expired_and_nothing_is_made(
    env: FakeEnv, state: WordPressState, adapter: WordPressAdapter, status: str, media: bool, code: str
) -> None:
    """A contributor may write drafts only (the real site answers the same: tests/e2e)."""
    account = state.account_for(TOKEN)
    assert account is not None
    state.roles[account] = "contributor"
    content = Content(
        text="Rapat koordinasi",
        media=(Media(url=env.media_url("gedung.jpg"), type="image/jpeg"),) if media else (),
    )
    target = env.target("wordpress", extra=EDITOR, options={"status": status})
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(target, publish_request(content))
    assert (info.value.code, info.value.http_status) == (code, 403)
    assert not state.posts
    assert not state.media
    draft = env.target("wordpress", extra=EDITOR, options={"status": "draft"})
    await adapter.publish(draft, publish_request(Content(text="Rapat koordinasi")))
    assert [p.data["status"] for p in state.posts] == ["draft"]


async def test_missing_username_is_auth_expired_before_sending(
    env: FakeEnv, state: WordPressState, adapter: WordPressAdapter
) -> None:
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("wordpress"), publish_request())
    assert not state.requests


async def test_invalid_status_is_permanent(env: FakeEnv, adapter: WordPressAdapter) -> None:
    target = env.target("wordpress", extra=EDITOR, options={"status": "published"})
    with pytest.raises(Permanent) as info:
        await adapter.publish(target, publish_request())
    assert info.value.code == "rest_invalid_param"


async def test_file_type_outside_the_table_is_refused_before_sending(
    env: FakeEnv, state: WordPressState, adapter: WordPressAdapter
) -> None:
    media = (Media(url=env.media_url("a.pdf"), type="application/pdf"),)
    with pytest.raises(Permanent) as info:
        await adapter.publish(
            env.target("wordpress", extra=EDITOR), publish_request(Content(text="x", media=media))
        )
    assert info.value.code == "media_type"
    assert not state.requests


async def test_refused_file_type_is_permanent_despite_500(env: FakeEnv, adapter: WordPressAdapter) -> None:
    # A site's own upload rules may refuse a type the table allows; WordPress answers that with 500.
    refused = {
        "code": "rest_upload_sideload_error",
        "message": "Sorry, you are not allowed to upload this file type.",
    }
    await env.admin("wordpress", "faults", {"path_contains": "/media", "status": 500, "body": refused})
    media = (Media(url=env.media_url("a.png"), type="image/png"),)
    with pytest.raises(Permanent) as info:
        await adapter.publish(
            env.target("wordpress", extra=EDITOR), publish_request(Content(text="x", media=media))
        )
    assert info.value.code == "rest_upload_sideload_error"


async def test_poll_is_refused_before_sending(env: FakeEnv, adapter: WordPressAdapter) -> None:
    poll = Poll(question="?", options=("a", "b"), duration_minutes=10)
    with pytest.raises(Permanent):
        await adapter.publish(env.target("wordpress", extra=EDITOR), publish_request(Content(poll=poll)))


async def test_host_throttling_is_rate_limited_with_retry_after(
    env: FakeEnv, adapter: WordPressAdapter
) -> None:
    await env.admin(
        "wordpress",
        "faults",
        {
            "path_contains": "/wp/v2/posts",
            "status": 429,
            "headers": {"Retry-After": "120"},
            "body": {"code": "too_many_requests", "message": "Slow down", "data": {"status": 429}},
        },
    )
    with pytest.raises(RateLimited) as info:
        await adapter.publish(env.target("wordpress", extra=EDITOR), publish_request())
    assert info.value.retry_after == 120


async def test_server_error_to_the_post_is_ambiguous(env: FakeEnv, adapter: WordPressAdapter) -> None:
    await env.admin(
        "wordpress",
        "faults",
        {"path_contains": "/wp/v2/posts", "status": 502, "body": "<html>Bad Gateway</html>"},
    )
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("wordpress", extra=EDITOR), publish_request())


async def test_drop_after_processing_is_ambiguous_then_found_by_marker(
    env: FakeEnv, state: WordPressState, adapter: WordPressAdapter
) -> None:
    await env.admin(
        "wordpress",
        "faults",
        {"path_contains": "/wp/v2/posts", "method": "POST", "mode": "drop_after_processing"},
    )
    target = env.target("wordpress", extra=EDITOR)
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())

    found = await adapter.find_by_marker(target, publish_request())
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id
    assert isinstance(await adapter.find_by_marker(target, publish_request(marker="wother")), Absent)


async def test_engagement_counts_comments(env: FakeEnv, adapter: WordPressAdapter) -> None:
    target = env.target("wordpress", extra=EDITOR)
    published = await adapter.publish(target, publish_request())
    await env.admin("wordpress", "engagement", {"post_id": published.post_id, "comments": 4})
    engagement = await adapter.engagement(target, published.post_id)
    assert (engagement.reactions, engagement.comments, engagement.shares) == (0, 4, 0)
    assert TOKEN not in repr(target)

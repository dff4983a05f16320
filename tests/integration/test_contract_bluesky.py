"""Bluesky adapter against the Bluesky fake (a PDS), over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.base import SlidingWindow
from sandbox.bluesky import BlueskyState
from services.publisher.adapters.bluesky import BlueskyAdapter, link_facets, rkey_for
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Permanent,
    Published,
    RateLimited,
)
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import ACCOUNT, FakeEnv, publish_request, running_sandbox

TID_CHARS = set("234567abcdefghijklmnopqrstuvwxyz")


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> BlueskyState:
    state = env.states["bluesky"]
    assert isinstance(state, BlueskyState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> BlueskyAdapter:
    return BlueskyAdapter(env.session)


def test_record_key_is_a_tid_derived_from_the_marker() -> None:
    key = rkey_for("w0123456789abcdef")
    assert key == rkey_for("w0123456789abcdef")
    assert key != rkey_for("w0123456789abcdee")
    assert len(key) == 13
    assert set(key) <= TID_CHARS
    assert key[0] in "234567abcdefghij"  # the top bit of a TID is zero


def test_link_facets_count_utf8_bytes() -> None:
    text = "Pengumuman ✨ résmi: https://example.go.id/a."
    [facet] = link_facets(text)
    start = len("Pengumuman ✨ résmi: ".encode())
    assert facet["index"] == {"byteStart": start, "byteEnd": start + len(b"https://example.go.id/a")}
    assert facet["features"][0]["uri"] == "https://example.go.id/a"


async def test_post_with_link_is_a_record_at_our_key(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    content = Content(text="Jadwal vaksin 🩺", link="https://example.go.id/vaksin")
    request = publish_request(content)
    published = await adapter.publish(env.target("bluesky"), request)

    [post] = state.posts
    rkey = rkey_for(request.marker)
    assert published.post_id == post.id == f"at://{state.did(ACCOUNT)}/app.bsky.feed.post/{rkey}"
    # The web URL names the handle the session reported (a domain name), not the login name.
    assert published.url == f"https://bsky.app/profile/{BlueskyState.handle(ACCOUNT)}/post/{rkey}"
    record = post.data["record"]
    assert record["text"] == "Jadwal vaksin 🩺\n\nhttps://example.go.id/vaksin"
    [facet] = record["facets"]
    raw = record["text"].encode()
    index = facet["index"]
    assert raw[index["byteStart"] : index["byteEnd"]] == b"https://example.go.id/vaksin"
    info = adapter.rate_limit(env.target("bluesky"))
    assert info is not None
    assert (info.limit, info.remaining) == (5000, (5000 // 3 - 1) * 3)


async def test_images_are_uploaded_as_blobs_then_embedded(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    media = (Media(url=env.media_url("a.png"), type="image/png", alt="Peta banjir"),)
    await adapter.publish(env.target("bluesky"), publish_request(Content(text="Peta", media=media)))
    [post] = state.posts
    [image] = post.data["record"]["embed"]["images"]
    assert image["alt"] == "Peta banjir"
    assert image["image"]["ref"]["$link"] in state.blobs


async def test_a_retry_of_the_same_job_never_posts_twice(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    target = env.target("bluesky")
    first = await adapter.publish(target, publish_request())
    second = await BlueskyAdapter(env.session).publish(target, publish_request(attempt=2))
    assert second.post_id == first.post_id
    assert len(state.posts) == 1
    assert state.requests["POST /bluesky/xrpc/com.atproto.repo.createRecord"] == 2
    assert state.requests["GET /bluesky/xrpc/com.atproto.repo.getRecord"] == 1


async def test_lost_reply_is_ambiguous_and_found_by_marker(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    await env.admin("bluesky", "faults", {"path_contains": "createRecord", "mode": "drop_after_processing"})
    target = env.target("bluesky")
    request = publish_request()
    with pytest.raises(Ambiguous):
        await adapter.publish(target, request)
    found = await adapter.find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_request_that_never_landed_is_surely_absent(env: FakeEnv, adapter: BlueskyAdapter) -> None:
    await env.admin("bluesky", "faults", {"path_contains": "createRecord", "mode": "drop"})
    target = env.target("bluesky")
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert isinstance(await adapter.find_by_marker(target, publish_request()), Absent)


async def test_expired_access_token_is_refreshed_once_and_the_call_retried(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    target = env.target("bluesky")
    await adapter.publish(target, publish_request(marker="m1"))
    await env.admin("bluesky", "clock", {"advance_s": 3 * 3600})
    await adapter.publish(target, publish_request(Content(text="Kedua"), marker="m2"))

    assert len(state.posts) == 2
    assert state.requests["POST /bluesky/xrpc/com.atproto.server.createSession"] == 1
    assert state.requests["POST /bluesky/xrpc/com.atproto.server.refreshSession"] == 1


async def test_expired_refresh_token_logs_in_again(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    target = env.target("bluesky")
    await adapter.publish(target, publish_request(marker="m1"))
    await env.admin("bluesky", "clock", {"advance_s": 90 * 24 * 3600})
    await adapter.publish(target, publish_request(Content(text="Kedua"), marker="m2"))
    assert state.requests["POST /bluesky/xrpc/com.atproto.server.createSession"] == 2


async def test_wrong_app_password_is_auth_expired(env: FakeEnv, adapter: BlueskyAdapter) -> None:
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("bluesky", token="revoked"), publish_request())


async def test_write_quota_is_rate_limited_until_the_reset_header(env: FakeEnv, state: BlueskyState) -> None:
    now = datetime.now(UTC)
    adapter = BlueskyAdapter(env.session, clock=lambda: now)
    state.writes = SlidingWindow(1, timedelta(hours=1))
    target = env.target("bluesky")
    await adapter.publish(target, publish_request(marker="m1"))
    with pytest.raises(RateLimited) as info:
        await adapter.publish(target, publish_request(Content(text="Lagi"), marker="m2"))
    assert info.value.retry_after is not None
    assert 3500 <= info.value.retry_after <= 3601


async def test_invalid_record_is_permanent(env: FakeEnv, state: BlueskyState) -> None:
    state.max_text_bytes = 10
    with pytest.raises(Permanent) as info:
        await BlueskyAdapter(env.session).publish(env.target("bluesky"), publish_request())
    assert info.value.code == "InvalidRequest"
    assert not state.posts


@pytest.mark.parametrize(
    "content",
    [
        Content(text="x" * 301),
        Content(text="Pilih", poll=Poll(question="?", options=("a", "b"), duration_minutes=60)),
        Content(text="Video", media=(Media(url="https://example.go.id/v.mp4", type="video/mp4"),)),
        Content(
            text="Besar",
            media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg", size_bytes=2_000_000),),
        ),
    ],
)
async def test_what_bluesky_cannot_take_is_refused_before_sending(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter, content: Content
) -> None:
    with pytest.raises(Permanent):
        await adapter.publish(env.target("bluesky"), publish_request(content))
    assert not state.requests


async def test_server_error_is_ambiguous_and_our_key_settles_it(
    env: FakeEnv, state: BlueskyState, adapter: BlueskyAdapter
) -> None:
    body = {"error": "InternalServerError", "message": "Internal Server Error"}
    await env.admin("bluesky", "faults", {"path_contains": "createRecord", "status": 500, "body": body})
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("bluesky"), publish_request())
    # The record key is the job's: nothing under it, and a later create can't make a second post.
    found = await adapter.find_by_marker(env.target("bluesky"), publish_request())
    assert isinstance(found, Absent)
    assert found.safe_while_live


async def test_engagement_reads_get_posts(env: FakeEnv, adapter: BlueskyAdapter) -> None:
    target = env.target("bluesky")
    published = await adapter.publish(target, publish_request())
    await env.admin(
        "bluesky", "engagement", {"post_id": published.post_id, "reactions": 7, "comments": 2, "shares": 3}
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert (engagement.reactions, engagement.comments, engagement.shares) == (7, 2, 3)

"""Mastodon adapter against the Mastodon fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from sandbox.base import SlidingWindow
from sandbox.mastodon import MastodonState
from services.publisher.adapters.mastodon import MastodonAdapter
from services.publisher.adapters.port import (
    Ambiguous,
    AuthExpired,
    NotSupported,
    Permanent,
    Published,
    RateLimited,
    Temporary,
)
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import (
    ACCOUNT,
    TOKEN,
    FakeEnv,
    closed_port_url,
    publish_request,
    running_sandbox,
)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> MastodonState:
    state = env.states["mastodon"]
    assert isinstance(state, MastodonState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> MastodonAdapter:
    return MastodonAdapter(env.session, media_poll_interval=0.01)


async def test_text_status_is_published_with_link_appended(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    content = Content(text="Jadwal vaksinasi", link="https://example.go.id/v")
    published = await adapter.publish(env.target("mastodon"), publish_request(content))

    assert published.url == env.url(f"/mastodon/@{ACCOUNT}/{published.post_id}")
    assert published.published_at is not None
    assert [p.text for p in state.posts] == ["Jadwal vaksinasi\n\nhttps://example.go.id/v"]
    assert state.posts[0].key == "wmarker0001"  # the marker went out as the Idempotency-Key


async def test_link_already_in_text_is_not_repeated(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    content = Content(text="Baca https://example.go.id/v", link="https://example.go.id/v")
    await adapter.publish(env.target("mastodon"), publish_request(content))
    assert state.posts[0].text == "Baca https://example.go.id/v"


async def test_media_is_uploaded_and_awaited_until_processed(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.media_processing_polls = 2  # answers 202, then 206 twice, then 200
    media = (Media(url=env.media_url("a.png"), type="image/png", alt="Peta banjir"),)
    await adapter.publish(env.target("mastodon"), publish_request(Content(text="Peta", media=media)))

    [post] = state.posts
    [media_id] = post.data["media_ids"]
    assert state.media[media_id].description == "Peta banjir"
    assert state.requests[f"GET /mastodon/api/v1/media/{media_id}"] == 3


async def test_poll_is_sent_with_expiry_in_seconds(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    poll = Poll(question="Jam layanan?", options=("Pagi", "Sore"), duration_minutes=60)
    await adapter.publish(env.target("mastodon"), publish_request(Content(poll=poll)))

    [post] = state.posts
    assert post.text == "Jam layanan?"
    assert [o["title"] for o in post.data["poll"]["options"]] == ["Pagi", "Sore"]
    expires = datetime.fromisoformat(post.data["poll"]["expires_at"])
    assert expires - post.created_at == timedelta(hours=1)


async def test_poll_with_media_is_refused_before_sending(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    poll = Poll(question="?", options=("a", "b"), duration_minutes=5)
    content = Content(poll=poll, media=(Media(url=env.media_url(), type="image/jpeg"),))
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(content))
    assert info.value.code == "poll_with_media"
    # Only the instance's limits were read: nothing was uploaded or posted.
    assert [r for r in state.requests if not r.startswith("GET ")] == []


async def test_invalid_token_is_auth_expired_without_leaking_it(
    env: FakeEnv, adapter: MastodonAdapter
) -> None:
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(env.target("mastodon", token="revoked-secret"), publish_request())
    assert info.value.http_status == 401
    assert info.value.message == "mastodon: The access token is invalid"
    assert "revoked-secret" not in repr(info.value.__dict__)


async def test_over_long_text_is_permanent_with_the_platforms_reason(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    await adapter.publish(env.target("mastodon"), publish_request())  # reads and caches 500
    state.max_characters = 100  # the admin lowers it within the cache's hour: the 422 decides
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(Content(text="x" * 200), marker="m2"))
    assert info.value.http_status == 422
    assert info.value.code == "validation_failed"
    assert "character limit of 100" in info.value.message


async def test_quota_headers_are_tracked_per_account(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.statuses = SlidingWindow(3, timedelta(hours=3))
    target = env.target("mastodon")
    await adapter.publish(target, publish_request())

    info = adapter.rate_limit(target)
    assert info is not None
    assert (info.limit, info.remaining) == (3, 2)
    assert info.reset_at is not None
    assert info.reset_at > datetime.now(UTC)
    assert adapter.rate_limit(env.target("mastodon", account="someone-else")) is None


async def test_exhausted_status_bucket_is_rate_limited_until_reset(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.statuses = SlidingWindow(2, timedelta(hours=3))
    target = env.target("mastodon")
    for n in range(2):
        await adapter.publish(target, publish_request(marker=f"wm{n}"))

    with pytest.raises(RateLimited) as info:
        await adapter.publish(target, publish_request(marker="wm3"))
    assert info.value.http_status == 429
    assert info.value.retry_after is not None
    assert 3 * 3600 - 60 < info.value.retry_after <= 3 * 3600
    quota = adapter.rate_limit(target)
    assert quota is not None
    assert quota.remaining == 0
    assert len(state.posts) == 2


async def test_server_error_is_ambiguous_and_the_lookup_resends_under_the_key(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    fault = {"path_contains": "/api/v1/statuses", "method": "POST", "status": 503, "body": {"error": "down"}}
    await env.admin("mastodon", "faults", [fault, fault])
    with pytest.raises(Ambiguous) as info:
        await adapter.publish(env.target("mastodon"), publish_request())
    assert info.value.http_status == 503
    assert not state.posts
    # The re-send under the key is the lookup: a 5xx to it is a lookup to ask again, not "can't tell".
    with pytest.raises(Temporary) as again:
        await adapter.find_by_marker(env.target("mastodon"), publish_request())
    assert not isinstance(again.value, RateLimited)
    found = await adapter.find_by_marker(env.target("mastodon"), publish_request())
    assert isinstance(found, Published)
    assert len(state.posts) == 1


async def test_connection_refused_is_temporary_not_ambiguous(adapter: MastodonAdapter, env: FakeEnv) -> None:
    with pytest.raises(Temporary):
        await adapter.publish(env.target("mastodon", base_url=closed_port_url()), publish_request())


async def test_missing_media_is_permanent_and_nothing_is_posted(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    media = (Media(url=env.media_url("missing.jpg"), type="image/jpeg"),)
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(Content(text="x", media=media)))
    assert info.value.code == "media_unavailable"
    assert not state.posts


async def test_idempotency_key_repeat_returns_the_same_status(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    target = env.target("mastodon")
    first = await adapter.publish(target, publish_request())
    again = await MastodonAdapter(env.session).publish(target, publish_request())

    assert again.post_id == first.post_id
    assert len(state.posts) == 1


async def test_drop_after_processing_is_ambiguous_then_found(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    await env.admin(
        "mastodon",
        "faults",
        {"path_contains": "/api/v1/statuses", "method": "POST", "mode": "drop_after_processing"},
    )
    target = env.target("mastodon")
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert len(state.posts) == 1  # it did land

    found = await adapter.find_by_marker(target, publish_request())
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id
    assert len(state.posts) == 1


async def test_timeout_after_processing_is_ambiguous_then_found(env: FakeEnv, state: MastodonState) -> None:
    adapter = MastodonAdapter(env.session, timeout=aiohttp.ClientTimeout(total=0.3))
    state.faults.clear()
    await env.admin(
        "mastodon",
        "faults",
        {"path_contains": "/api/v1/statuses", "mode": "drop_after_processing", "delay_s": 1.0},
    )
    target = env.target("mastodon")
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())

    found = await adapter.find_by_marker(target, publish_request())
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_reconciling_a_request_that_never_arrived_publishes_it_once(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    await env.admin("mastodon", "faults", {"path_contains": "/api/v1/statuses", "mode": "drop"})
    target = env.target("mastodon")
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert not state.posts

    found = await adapter.find_by_marker(target, publish_request())
    assert isinstance(found, Published)
    assert [p.id for p in state.posts] == [found.post_id]


async def test_reconciliation_uses_the_first_attempt_time_after_a_restart(
    env: FakeEnv, state: MastodonState
) -> None:
    target = env.target("mastodon")
    first = await MastodonAdapter(env.session).publish(target, publish_request())
    restarted = MastodonAdapter(env.session)
    recent = publish_request(first_attempt_at=datetime.now(UTC) - timedelta(minutes=10))

    found = await restarted.find_by_marker(target, recent)
    assert isinstance(found, Published)
    assert found.post_id == first.post_id
    assert len(state.posts) == 1


async def test_reconciliation_is_not_supported_when_the_key_may_have_expired(env: FakeEnv) -> None:
    target = env.target("mastodon")
    restarted = MastodonAdapter(env.session)
    with pytest.raises(NotSupported):
        await restarted.find_by_marker(target, publish_request())
    old = publish_request(first_attempt_at=datetime.now(UTC) - timedelta(minutes=70))
    with pytest.raises(NotSupported):
        await restarted.find_by_marker(target, old)


async def test_fake_forgets_idempotency_keys_after_an_hour(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    target = env.target("mastodon")
    await adapter.publish(target, publish_request())
    await env.admin("mastodon", "clock", {"advance_s": 3601})
    await adapter.publish(target, publish_request())
    assert len(state.posts) == 2  # why reconciliation refuses to re-send after the hour


async def test_engagement_reads_the_status_counts(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    target = env.target("mastodon")
    published = await adapter.publish(target, publish_request())
    await env.admin(
        "mastodon", "engagement", {"post_id": published.post_id, "reactions": 7, "comments": 2, "shares": 3}
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert (engagement.reactions, engagement.comments, engagement.shares) == (7, 2, 3)

    state.engagement_per_hour = (10.0, 0.0, 1.0)
    await env.admin("mastodon", "clock", {"advance_s": 7200})
    grown = await adapter.engagement(target, published.post_id)
    assert (grown.reactions, grown.comments, grown.shares) == (27, 2, 5)


async def test_engagement_of_unknown_status_is_permanent(env: FakeEnv, adapter: MastodonAdapter) -> None:
    with pytest.raises(Permanent) as info:
        await adapter.engagement(env.target("mastodon"), "404")
    assert info.value.http_status == 404


async def test_verify_credentials_and_account_statuses_follow_the_contract(env: FakeEnv) -> None:
    adapter = MastodonAdapter(env.session)
    await adapter.publish(env.target("mastodon"), publish_request())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with env.session.get(
        env.url("/mastodon/api/v1/accounts/verify_credentials"), headers=headers
    ) as resp:
        account = await resp.json()
    async with env.session.get(env.url(f"/mastodon/api/v1/accounts/{account['id']}/statuses")) as resp:
        statuses = await resp.json()
    assert account["username"] == ACCOUNT
    assert [s["content"] for s in statuses] == ["<p>Hello from the press office</p>"]


# ---- the instance's own limits (docs.joinmastodon.org/methods/instance/#v2) -------------------
async def test_text_over_the_instances_limit_is_refused_before_any_upload(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.max_characters = 100
    media = (Media(url=env.media_url("a.png"), type="image/png"),)
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(Content(text="x" * 200, media=media)))
    assert info.value.code == "max_length"
    assert "limit is 100" in info.value.message
    assert state.media == {}
    assert state.posts == []


async def test_text_within_a_generous_instance_limit_is_published(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.max_characters = 5000
    await adapter.publish(env.target("mastodon"), publish_request(Content(text="x" * 1200)))
    assert len(state.posts[0].text) == 1200


async def test_media_over_the_instances_size_limit_is_refused_before_upload(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.image_size_limit = 10
    media = (Media(url=env.media_url("a.png"), type="image/png"),)
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(Content(text="Peta", media=media)))
    assert info.value.code == "media_size"
    assert state.requests["POST /mastodon/api/v2/media"] == 0


async def test_poll_over_the_instances_option_count_is_refused_before_sending(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    state.max_poll_options = 2
    poll = Poll(question="Kapan?", options=("Pagi", "Siang", "Sore"), duration_minutes=60)
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(Content(text="Kapan?", poll=poll)))
    assert info.value.code == "poll_options"
    assert state.requests["POST /mastodon/api/v1/statuses"] == 0


async def test_instance_limits_are_read_once_per_hour(env: FakeEnv, state: MastodonState) -> None:
    now = [datetime(2026, 12, 1, 3, 0, tzinfo=UTC)]
    adapter = MastodonAdapter(env.session, media_poll_interval=0.01, clock=lambda: now[0])
    target = env.target("mastodon")
    await adapter.publish(target, publish_request(marker="m1"))
    await adapter.publish(target, publish_request(marker="m2"))
    assert state.requests["GET /mastodon/api/v2/instance"] == 1
    now[0] += timedelta(minutes=61)
    await adapter.publish(target, publish_request(marker="m3"))
    assert state.requests["GET /mastodon/api/v2/instance"] == 2


async def test_a_server_without_the_v2_document_falls_back_to_the_table(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    # Mastodon before 4.0 has no /api/v2/instance: 404 "Record not found"
    fault = {
        "path_contains": "/api/v2/instance",
        "status": 404,
        "body": {"error": "Record not found"},
        "count": 5,
    }
    await env.admin("mastodon", "faults", fault)
    published = await adapter.publish(env.target("mastodon"), publish_request(Content(text="x" * 400)))
    assert published.post_id
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("mastodon"), publish_request(Content(text="x" * 501), marker="m2"))
    assert info.value.code == "max_length"  # the table's 500


async def test_a_failing_instance_is_temporary_and_stale_limits_are_kept(
    env: FakeEnv, state: MastodonState
) -> None:
    now = [datetime(2026, 12, 1, 3, 0, tzinfo=UTC)]
    adapter = MastodonAdapter(env.session, media_poll_interval=0.01, clock=lambda: now[0])
    fault = {"path_contains": "/api/v2/instance", "status": 503, "body": {"error": "unavailable"}}
    await env.admin("mastodon", "faults", fault)
    with pytest.raises(Temporary):
        await adapter.publish(env.target("mastodon"), publish_request(marker="m1"))
    state.max_characters = 1000
    await adapter.publish(env.target("mastodon"), publish_request(marker="m2"))  # reads 1000
    now[0] += timedelta(hours=2)
    await env.admin("mastodon", "faults", fault)
    await adapter.publish(env.target("mastodon"), publish_request(Content(text="x" * 800), marker="m3"))
    assert len(state.posts) == 2


async def test_poll_results_read_the_polls_endpoint_once_it_has_ended(
    env: FakeEnv, state: MastodonState, adapter: MastodonAdapter
) -> None:
    target = env.target("mastodon")
    poll = Poll(question="Jam layanan?", options=("Pagi", "Sore", "Malam"), duration_minutes=60)
    published = await adapter.publish(target, publish_request(Content(text="Jam layanan?", poll=poll)))
    running = await adapter.poll_results(target, published.post_id)
    assert running.closed is False
    await env.admin("mastodon", "clock", {"advance_s": 3660})
    tally = await adapter.poll_results(target, published.post_id)
    assert tally.closed is True
    assert [label for label, _ in tally.options] == ["Pagi", "Sore", "Malam"]
    assert [votes for _, votes in tally.options] == [30, 20, 10]  # sandbox.poll_votes: 10/h by rank
    assert tally.voters == 60
    plain = await adapter.publish(target, publish_request(Content(text="tanpa jajak")))
    with pytest.raises(Permanent, match="no poll"):
        await adapter.poll_results(target, plain.post_id)

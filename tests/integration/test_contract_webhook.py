"""Webhook adapter against the webhook receiver fake, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from sandbox.webhook import WebhookState
from services.publisher.adapters.port import (
    Ambiguous,
    AuthExpired,
    NotSupported,
    Permanent,
    Published,
    RateLimited,
)
from services.publisher.adapters.webhook import WebhookAdapter
from shared.events import Content, Media
from shared.webhook_signature import signed_headers
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> WebhookState:
    state = env.states["webhook"]
    assert isinstance(state, WebhookState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> WebhookAdapter:
    return WebhookAdapter(env.session)


async def test_delivery_is_signed_and_accepted(
    env: FakeEnv, state: WebhookState, adapter: WebhookAdapter
) -> None:
    content = Content(
        text="Siaran pers", media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg"),)
    )
    target = env.target("webhook", base_url=env.url("/webhook/inbox"))
    published = await adapter.publish(target, publish_request(content))

    [delivery] = state.posts
    assert published.post_id == delivery.id
    assert delivery.key == "wmarker0001"
    assert delivery.data["content"]["media"][0]["url"] == "https://example.go.id/a.jpg"
    assert delivery.data["id"] == "wmarker0001"


async def test_wrong_secret_is_auth_expired(env: FakeEnv, adapter: WebhookAdapter) -> None:
    target = env.target("webhook", token="not-the-secret", base_url=env.url("/webhook/inbox"))
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(target, publish_request())
    assert "not-the-secret" not in info.value.message


async def test_receiver_refuses_stale_and_replayed_signatures(env: FakeEnv, state: WebhookState) -> None:
    body = orjson.dumps({"id": "m", "content": {"text": "x"}})
    url = env.url("/webhook/inbox")
    stale = int(time.time()) - 301
    async with env.session.post(url, data=body, headers=signed_headers(TOKEN, "m", stale, body)) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "stale signature"
    fresh = signed_headers(TOKEN, "m", int(time.time()), body)
    async with env.session.post(url, data=body, headers=fresh) as resp:
        assert resp.status == 201
    async with env.session.post(url, data=body, headers=fresh) as resp:
        assert resp.status == 401
        assert (await resp.json())["error"] == "replayed signature"
    assert len(state.posts) == 1


async def test_idempotency_key_repeat_returns_the_original(
    env: FakeEnv, state: WebhookState, adapter: WebhookAdapter
) -> None:
    target = env.target("webhook", base_url=env.url("/webhook/inbox"))
    first = await adapter.publish(target, publish_request())
    again = await WebhookAdapter(env.session).publish(target, publish_request())
    assert again.post_id == first.post_id
    assert len(state.posts) == 1


async def test_throttling_and_errors_map_to_the_port(env: FakeEnv, adapter: WebhookAdapter) -> None:
    target = env.target("webhook", base_url=env.url("/webhook/inbox"))
    await env.admin(
        "webhook",
        "faults",
        [
            {
                "path_contains": "/inbox",
                "status": 429,
                "headers": {"Retry-After": "30"},
                "body": {"error": "slow"},
            },
            {"path_contains": "/inbox", "status": 503, "body": {"error": "down"}},
            {"path_contains": "/inbox", "status": 422, "body": {"error": "unknown field"}},
        ],
    )
    with pytest.raises(RateLimited) as limited:
        await adapter.publish(target, publish_request())
    assert limited.value.retry_after == 30
    with pytest.raises(Ambiguous):  # the receiver may have taken it: the key's re-send settles it
        await adapter.publish(target, publish_request())
    with pytest.raises(Permanent) as refused:
        await adapter.publish(target, publish_request())
    assert refused.value.message == "webhook: unknown field"


async def test_drop_after_processing_is_ambiguous_then_reconciled_once(
    env: FakeEnv, state: WebhookState, adapter: WebhookAdapter
) -> None:
    await env.admin("webhook", "faults", {"path_contains": "/inbox", "mode": "drop_after_processing"})
    target = env.target("webhook", base_url=env.url("/webhook/inbox"))
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())

    found = await adapter.find_by_marker(target, publish_request())
    assert isinstance(found, Published)
    assert [d.id for d in state.posts] == [found.post_id]


async def test_reconciliation_needs_a_first_attempt_within_the_key_window(env: FakeEnv) -> None:
    target = env.target("webhook", base_url=env.url("/webhook/inbox"))
    restarted = WebhookAdapter(env.session)
    with pytest.raises(NotSupported):
        await restarted.find_by_marker(target, publish_request())
    old = publish_request(first_attempt_at=datetime.now(UTC) - timedelta(hours=24))
    with pytest.raises(NotSupported):
        await restarted.find_by_marker(target, old)


async def test_engagement_is_not_supported(env: FakeEnv, adapter: WebhookAdapter) -> None:
    with pytest.raises(NotSupported):
        await adapter.engagement(env.target("webhook"), "dlv-1")

"""Telegram adapter against the Telegram fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from sandbox.base import SlidingWindow
from sandbox.telegram import TelegramState
from services.publisher.adapters.port import (
    Ambiguous,
    AuthExpired,
    NotSupported,
    Permanent,
    RateLimited,
    Temporary,
)
from services.publisher.adapters.telegram import TelegramAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import FakeEnv, closed_port_url, publish_request, running_sandbox

CHANNEL = {"chat_id": "@pemprov_news"}


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> TelegramState:
    state = env.states["telegram"]
    assert isinstance(state, TelegramState)
    return state


@pytest.fixture
def adapter(env: FakeEnv) -> TelegramAdapter:
    return TelegramAdapter(env.session)


async def test_text_goes_out_with_sendmessage_and_a_public_url(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    content = Content(text="Info banjir", link="https://example.go.id/b")
    published = await adapter.publish(env.target("telegram", options=CHANNEL), publish_request(content))

    assert published.post_id == "1"
    assert published.url == "https://t.me/pemprov_news/1"
    assert published.published_at is not None
    [post] = state.posts
    assert post.data["method"] == "sendmessage"
    assert post.text == "Info banjir\n\nhttps://example.go.id/b"


async def test_numeric_channel_uses_the_configured_username(env: FakeEnv, adapter: TelegramAdapter) -> None:
    target = env.target("telegram", options={"chat_id": "-1001234", "username": "pemprov"})
    published = await adapter.publish(target, publish_request())
    assert published.url == "https://t.me/pemprov/1"


async def test_photo_is_uploaded_with_its_caption(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    media = (Media(url=env.media_url("peta.jpg"), type="image/jpeg"),)
    await adapter.publish(
        env.target("telegram", options=CHANNEL), publish_request(Content(text="Peta", media=media))
    )

    [post] = state.posts
    assert post.data["method"] == "sendphoto"
    assert post.data["caption"] == "Peta"
    assert post.data["photo"][0]["file_size"] > 0


async def test_poll_is_anonymous_and_carries_the_question(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    poll = Poll(question="Layanan favorit?", options=("KTP", "SIM", "Pajak"), duration_minutes=10)
    await adapter.publish(env.target("telegram", options=CHANNEL), publish_request(Content(poll=poll)))

    [post] = state.posts
    assert post.data["poll"]["question"] == "Layanan favorit?"
    assert [o["text"] for o in post.data["poll"]["options"]] == ["KTP", "SIM", "Pajak"]
    assert post.data["poll"]["is_anonymous"] is True


async def test_over_long_caption_is_refused_before_sending(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    media = (Media(url=env.media_url(), type="image/jpeg"),)
    with pytest.raises(Permanent):
        await adapter.publish(
            env.target("telegram", options=CHANNEL), publish_request(Content(text="x" * 1025, media=media))
        )
    assert not state.requests


async def test_unknown_chat_is_permanent_with_the_description(env: FakeEnv, state: TelegramState) -> None:
    state.chats = {"@pemprov_news": None}
    with pytest.raises(Permanent) as info:
        await TelegramAdapter(env.session).publish(
            env.target("telegram", options={"chat_id": "@elsewhere"}), publish_request()
        )
    assert info.value.message == "telegram: Bad Request: chat not found"
    assert info.value.http_status == 400


async def test_bad_token_is_auth_expired_and_never_quoted(env: FakeEnv, adapter: TelegramAdapter) -> None:
    target = env.target("telegram", token="999:revoked-bot-token", options=CHANNEL)
    with pytest.raises(AuthExpired) as info:
        await adapter.publish(target, publish_request())
    assert "revoked-bot-token" not in str(info.value)
    assert info.value.http_status == 401


async def test_lost_admin_rights_are_auth_expired(env: FakeEnv, adapter: TelegramAdapter) -> None:
    await env.admin(
        "telegram",
        "faults",
        {
            "path_contains": "/sendMessage",
            "status": 400,
            "body": {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: need administrator rights in the channel chat",
            },
        },
    )
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("telegram", options=CHANNEL), publish_request())


@pytest.mark.parametrize("status", ["left", "kicked", "member", "administrator-readonly"])
async def test_a_bot_that_may_no_longer_post_parks_the_channel(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter, status: str
) -> None:
    state.bot_status[CHANNEL["chat_id"]] = status
    with pytest.raises(AuthExpired):
        await adapter.publish(env.target("telegram", options=CHANNEL), publish_request())
    assert not state.posts


async def test_flood_limit_is_rate_limited_with_retry_after(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    state.per_chat = SlidingWindow(2, timedelta(minutes=1))
    target = env.target("telegram", options=CHANNEL)
    for n in range(2):
        await adapter.publish(target, publish_request(marker=f"m{n}"))

    with pytest.raises(RateLimited) as info:
        await adapter.publish(target, publish_request(marker="m3"))
    assert info.value.retry_after is not None
    assert 55 <= info.value.retry_after <= 60
    quota = adapter.rate_limit(target)
    assert quota is not None
    assert quota.remaining == 0
    assert len(state.posts) == 2


async def test_server_error_to_the_send_is_ambiguous(env: FakeEnv, adapter: TelegramAdapter) -> None:
    await env.admin(
        "telegram",
        "faults",
        {
            "path_contains": "sendMessage",
            "status": 502,
            "body": {"ok": False, "error_code": 502, "description": "Bad Gateway"},
        },
    )
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("telegram", options=CHANNEL), publish_request())


async def test_an_unreadable_200_after_the_send_is_ambiguous_not_failed(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    # A proxy's page in place of the Bot API's answer: the message is in the channel.
    fault = {
        "path_contains": "sendMessage",
        "mode": "answer_after_processing",
        "status": 200,
        "body": "<html><body>upstream reset</body></html>",
    }
    await env.admin("telegram", "faults", fault)
    with pytest.raises(Ambiguous):
        await adapter.publish(env.target("telegram", options=CHANNEL), publish_request())
    assert len(state.posts) == 1


async def test_connection_refused_is_temporary(env: FakeEnv, adapter: TelegramAdapter) -> None:
    target = env.target("telegram", options=CHANNEL, base_url=closed_port_url())
    with pytest.raises(Temporary) as info:
        await adapter.publish(target, publish_request())
    assert not isinstance(info.value, RateLimited)


async def test_drop_after_processing_is_ambiguous_and_cannot_be_reconciled(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    await env.admin("telegram", "faults", {"path_contains": "sendMessage", "mode": "drop_after_processing"})
    target = env.target("telegram", options=CHANNEL)
    with pytest.raises(Ambiguous):
        await adapter.publish(target, publish_request())
    assert len(state.posts) == 1
    with pytest.raises(NotSupported):
        await adapter.find_by_marker(target, publish_request())


async def test_engagement_is_not_supported(env: FakeEnv, adapter: TelegramAdapter) -> None:
    with pytest.raises(NotSupported):
        await adapter.engagement(env.target("telegram", options=CHANNEL), "1")


async def test_poll_results_stop_the_poll_and_read_its_final_tally(
    env: FakeEnv, state: TelegramState, adapter: TelegramAdapter
) -> None:
    target = env.target("telegram", options=CHANNEL)
    poll = Poll(question="Layanan favorit?", options=("KTP", "SIM"), duration_minutes=10)
    published = await adapter.publish(target, publish_request(Content(poll=poll)))
    state.posts[-1].data["votes"] = [4, 9]

    tally = await adapter.poll_results(target, published.post_id)

    assert (tally.options, tally.closed, tally.voters) == ((("KTP", 4), ("SIM", 9)), True, None)
    assert state.posts[-1].data["poll"]["is_closed"] is True
    with pytest.raises(Permanent, match="already been closed"):
        await adapter.poll_results(target, published.post_id)
    with pytest.raises(Permanent, match="no message id"):
        await adapter.poll_results(target, "not-a-number")


async def test_missing_chat_id_is_permanent(env: FakeEnv, adapter: TelegramAdapter) -> None:
    with pytest.raises(Permanent) as info:
        await adapter.publish(env.target("telegram"), publish_request())
    assert info.value.code == "no_chat_id"

"""WhatsApp adapter against the WhatsApp Cloud API fake, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.whatsapp import WhatsAppState
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    NotSupported,
    Permanent,
    RateLimited,
    Temporary,
)
from services.publisher.adapters.upload_state import UploadLog
from services.publisher.adapters.whatsapp import WhatsAppAdapter
from shared.events import Content
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

SUBSCRIBERS = "+628110000001,+628110000002,+628110000003"
OPTIONS = {"phone_number_id": "1065", "template": "warta_update", "subscribers": SUBSCRIBERS}
JOB = "content-1:whatsapp-demo"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> WhatsAppState:
    state = env.states["whatsapp"]
    assert isinstance(state, WhatsAppState)
    return state


def make(env: FakeEnv, state_dir: Path) -> WhatsAppAdapter:
    return WhatsAppAdapter(env.session, state_dir=state_dir)


async def test_template_goes_to_every_subscriber_once(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    content = Content(text="Jadwal pemadaman listrik\nhari ini", link="https://example.go.id/pln")
    published = await make(env, tmp_path).publish(
        env.target("whatsapp", options=OPTIONS), publish_request(content, job_id=JOB)
    )
    assert [p.data["to"] for p in state.posts] == ["628110000001", "628110000002", "628110000003"]
    assert published.post_id == state.posts[0].id
    template = state.posts[0].data["template"]
    assert template["name"] == "warta_update"
    assert (
        template["components"][0]["parameters"][0]["text"]
        == "Jadwal pemadaman listrik hari ini https://example.go.id/pln"
    )
    # A retry of the finished job sends nothing more.
    await make(env, tmp_path).publish(
        env.target("whatsapp", options=OPTIONS), publish_request(content, job_id=JOB)
    )
    assert len(state.posts) == 3


async def test_free_form_text_reaches_only_open_windows(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    state.open_windows = {"+628110000002"}
    options = {**OPTIONS, "message_type": "text"}
    await make(env, tmp_path).publish(env.target("whatsapp", options=options), publish_request(job_id=JOB))
    assert [p.data["to"] for p in state.posts] == ["628110000002"]


async def test_free_form_text_with_every_window_closed_is_permanent(env: FakeEnv, tmp_path: Path) -> None:
    options = {**OPTIONS, "message_type": "text"}
    with pytest.raises(Permanent) as info:
        await make(env, tmp_path).publish(
            env.target("whatsapp", options=options), publish_request(job_id=JOB)
        )
    assert "24-hour window" in info.value.message


async def test_pair_rate_limit_is_rate_limited_and_the_retry_skips_who_got_it(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    target = env.target("whatsapp", options=OPTIONS)
    await make(env, tmp_path).publish(target, publish_request(Content(text="satu"), job_id="a"))
    with pytest.raises(RateLimited) as info:
        await make(env, tmp_path).publish(target, publish_request(Content(text="dua"), job_id="b"))
    assert info.value.code == "graph_131056"
    assert info.value.retry_after == 6.0
    await env.admin("whatsapp", "clock", {"advance_s": 10})
    await make(env, tmp_path).publish(target, publish_request(Content(text="dua"), job_id="b"))
    assert [p.text for p in state.posts].count("dua") == 3


@pytest.mark.parametrize(("code", "wait"), [(130429, 1.0), (80007, None)])
async def test_throughput_and_waba_limits_are_rate_limited(
    env: FakeEnv, tmp_path: Path, code: int, wait: float | None
) -> None:
    body = {"error": {"message": f"(#{code}) Rate limit hit", "type": "OAuthException", "code": code}}
    await env.admin("whatsapp", "faults", {"path_contains": "/messages", "status": 400, "body": body})
    with pytest.raises(RateLimited) as info:
        await make(env, tmp_path).publish(
            env.target("whatsapp", options=OPTIONS), publish_request(job_id=JOB)
        )
    assert info.value.retry_after == wait


async def test_lost_reply_is_ambiguous_and_reconciliation_cannot_tell(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    await env.admin("whatsapp", "faults", {"path_contains": "/messages", "mode": "drop_after_processing"})
    target = env.target("whatsapp", options=OPTIONS)
    request = publish_request(job_id=JOB)
    with pytest.raises(Ambiguous):
        await make(env, tmp_path).publish(target, request)
    with pytest.raises(NotSupported):
        await make(env, tmp_path).find_by_marker(target, request)
    assert len(state.posts) == 1


async def test_refused_send_leaves_nothing_in_doubt(env: FakeEnv, tmp_path: Path) -> None:
    body = {"error": {"message": "Service unavailable", "code": 2, "is_transient": True}}
    await env.admin("whatsapp", "faults", {"path_contains": "/messages", "status": 400, "body": body})
    target = env.target("whatsapp", options=OPTIONS)
    with pytest.raises(Temporary):
        await make(env, tmp_path).publish(target, publish_request(job_id=JOB))
    assert isinstance(await make(env, tmp_path).find_by_marker(target, publish_request(job_id=JOB)), Absent)


async def test_a_5xx_after_the_send_keeps_the_subscriber_in_doubt_never_messaged_twice(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    # The message went out and the answer was a 500: only a refusal the platform words says
    # it did not, so the number stays pending and no attempt messages it again.
    body = {"error": {"message": "An unknown error occurred", "code": 1, "is_transient": True}}
    fault = {"path_contains": "/messages", "mode": "answer_after_processing", "status": 500, "body": body}
    await env.admin("whatsapp", "faults", fault)
    target = env.target("whatsapp", options={**OPTIONS, "subscribers": "+628110000001"})
    request = publish_request(job_id=JOB)
    with pytest.raises(Ambiguous):
        await make(env, tmp_path).publish(target, request)
    with pytest.raises(NotSupported):
        await make(env, tmp_path).find_by_marker(target, request)
    with pytest.raises(Ambiguous):
        await make(env, tmp_path).publish(target, publish_request(job_id=JOB, attempt=2))
    assert len(state.posts) == 1


async def test_a_200_carrying_a_graph_error_is_that_error_not_a_message_sent(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    body = {"error": {"message": "(#131000) Something went wrong", "type": "OAuthException", "code": 131000}}
    await env.admin("whatsapp", "faults", {"path_contains": "/messages", "status": 200, "body": body})
    target = env.target("whatsapp", options={**OPTIONS, "subscribers": "+628110000001"})
    with pytest.raises(Permanent, match="131000"):
        await make(env, tmp_path).publish(target, publish_request(job_id=JOB))
    assert not state.posts
    # Refused in words: nobody is in doubt, and a later attempt may send.
    assert isinstance(await make(env, tmp_path).find_by_marker(target, publish_request(job_id=JOB)), Absent)


async def test_expired_token_is_auth_expired(env: FakeEnv, tmp_path: Path) -> None:
    with pytest.raises(AuthExpired):
        await make(env, tmp_path).publish(
            env.target("whatsapp", token="expired", options=OPTIONS), publish_request()
        )


@pytest.mark.parametrize(
    ("account", "options"),
    [
        ("channel:warta", OPTIONS),
        ("demo", {**OPTIONS, "channel_id": "0029VaXXXX"}),
        ("demo", {**OPTIONS, "subscribers": "https://whatsapp.com/channel/0029VaXXXX"}),
    ],
)
async def test_whatsapp_channels_are_refused_with_the_reason(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path, account: str, options: dict[str, str]
) -> None:
    with pytest.raises(Permanent) as info:
        await make(env, tmp_path).publish(
            env.target("whatsapp", account=account, options=options), publish_request()
        )
    assert "no public API" in info.value.message
    assert not state.requests


async def test_missing_subscribers_or_template_is_permanent(env: FakeEnv, tmp_path: Path) -> None:
    for options in ({"template": "warta_update"}, {"subscribers": SUBSCRIBERS}):
        with pytest.raises(Permanent):
            await make(env, tmp_path).publish(env.target("whatsapp", options=options), publish_request())


async def test_engagement_is_not_supported(env: FakeEnv, tmp_path: Path) -> None:
    with pytest.raises(NotSupported):
        await make(env, tmp_path).engagement(env.target("whatsapp", options=OPTIONS), "wamid.x")


async def test_a_job_begun_before_the_per_job_notes_is_not_sent_again_to_whom_it_reached(
    env: FakeEnv, state: WhatsAppState, tmp_path: Path
) -> None:
    """An upgrade mid-broadcast: the old shared file says who was reached; the retry sends the rest."""
    UploadLog(tmp_path, "whatsapp").put(JOB, {"+628110000001": "wamid.earlier"})
    await make(env, tmp_path).publish(env.target("whatsapp", options=OPTIONS), publish_request(job_id=JOB))
    assert [p.data["to"] for p in state.posts] == ["628110000002", "628110000003"]

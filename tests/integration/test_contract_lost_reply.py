"""A lost answer, call by call: ``Ambiguous`` where the call may have made a post, else ``Temporary``.

The fake acts on the request and then hides what it did: it drops the connection
(``drop_after_processing``), or answers a gateway's 5xx (``answer_after_processing``). Either way
the post really exists when the adapter hears nothing it can trust. Every call that creates a
post, on every adapter and in every shape of post the adapter sends differently (Telegram's
three methods, Facebook's photo and feed post, the last chunk of a YouTube or TikTok upload),
must then be ``Ambiguous``: a re-send would post twice. A call that cannot make anything visible
(a media upload, an upload session, a Meta container, a login) must be ``Temporary``: it is safe
to send again.

And the whole way through the publisher's call (``PlatformCaller`` with its ``Reconciler``): a
post-creating call answered 5xx after the post was made ends published (the platform's lookup
found it) or unconfirmed (it cannot tell: Telegram, WhatsApp), with the one post on the
platform; never a retry that would send it again.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.publisher.adapters.port import Ambiguous, Temporary
from services.publisher.adapters.registry import PLATFORM_ADAPTERS
from services.publisher.decide import RetryPolicy
from services.publisher.platform_call import PlatformCaller
from services.publisher.ratelimit import RateLimits
from services.publisher.reconciler import Reconciler
from shared.events import Content, Media, OutcomeStatus, Poll, PublishOutcome
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox
from tests.integration.test_contract_shared import build, target

MakeContent = Callable[[FakeEnv], Content]


def _text(env: FakeEnv) -> Content:
    return Content(text="Pengumuman resmi")


def _photo(env: FakeEnv) -> Content:
    return Content(text="Foto resmi", media=(Media(url=env.media_url("f.jpg"), type="image/jpeg"),))


def _photos(env: FakeEnv) -> Content:
    media = tuple(Media(url=env.media_url(f"f{i}.jpg"), type="image/jpeg") for i in range(2))
    return Content(text="Foto resmi", media=media)


def _video(env: FakeEnv) -> Content:
    return Content(
        text="Video resmi", media=(Media(url=env.media_url("v.mp4") + "?size=4096", type="video/mp4"),)
    )


def _poll(env: FakeEnv) -> Content:
    return Content(poll=Poll(question="Layanan favorit?", options=("KTP", "SIM"), duration_minutes=10))


@dataclass(frozen=True)
class Call:
    platform: str
    content: MakeContent
    path: str  # a fragment of the call's path; the first request that matches loses its reply
    method: str = "POST"

    @property
    def id(self) -> str:
        return f"{self.platform}-{self.content.__name__.lstrip('_')}-{self.method}{self.path}"


CREATING = [
    Call("bluesky", _text, "com.atproto.repo.createRecord"),
    Call("facebook", _text, "/feed"),
    Call("facebook", _photo, "/photos"),  # one photo is posted by /photos itself
    Call("facebook", _photos, "/feed"),
    Call("instagram", _photo, "/media_publish"),
    Call("linkedin", _text, "/rest/posts"),
    Call("mastodon", _text, "/api/v1/statuses"),
    Call("telegram", _text, "/sendMessage"),
    Call("telegram", _photo, "/sendPhoto"),
    Call("telegram", _poll, "/sendPoll"),
    Call("threads", _text, "/threads_publish"),
    Call("tiktok", _video, "/upload/", "PUT"),  # the last chunk makes the post
    Call("webhook", _text, "/webhook/inbox"),
    Call("whatsapp", _text, "/messages"),
    Call("wordpress", _text, "/wp/v2/posts"),
    Call("x", _text, "/2/tweets"),
    Call("youtube", _video, "/upload/youtube/v3/videos", "PUT"),  # the last chunk makes the video
]

HARMLESS = [
    Call("bluesky", _photo, "com.atproto.repo.uploadBlob"),
    Call("bluesky", _text, "com.atproto.server.createSession"),
    Call("facebook", _photos, "/photos"),  # unpublished: invisible until the feed post names it
    Call("instagram", _photo, "/1784/media"),  # a container
    Call("linkedin", _photo, "/rest/images"),
    Call("mastodon", _photo, "/api/v2/media"),
    Call("threads", _text, "/7001/threads"),  # a container
    Call("tiktok", _video, "/post/publish/video/init/"),
    Call("wordpress", _photo, "/wp/v2/media"),
    Call("x", _photo, "/2/media/upload"),
    Call("youtube", _video, "/upload/youtube/v3/videos", "POST"),  # the upload session
]


def test_every_platform_has_its_post_creating_calls_listed() -> None:
    assert {call.platform for call in CREATING} == set(PLATFORM_ADAPTERS)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


# How the fake hides the answer after acting on the request: it hangs up, or a gateway answers
# 503 (a Graph envelope where Meta's front end words it so, a bare one elsewhere).
LOST = {"mode": "drop_after_processing"}
GATEWAY_5XX = {"mode": "answer_after_processing", "status": 503, "body": {"error": "Service Unavailable"}}
HIDDEN: dict[str, dict[str, Any]] = {"lost": LOST, "5xx": GATEWAY_5XX}
_GRAPH_5XX = {"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}}
GRAPH = {"facebook", "instagram", "threads", "whatsapp"}


def _hide(call: Call, how: dict[str, Any]) -> dict[str, Any]:
    fault: dict[str, Any] = {"path_contains": call.path, "method": call.method, **how}
    if "status" in how and call.platform in GRAPH:
        fault["body"] = _GRAPH_5XX
    return fault


async def _lose_reply(env: FakeEnv, tmp_path: Path, call: Call, how: dict[str, Any] = LOST) -> None:
    await env.admin(call.platform, "faults", _hide(call, how))
    adapter = build(call.platform, env, tmp_path)
    request = publish_request(call.content(env), job_id=f"job-{call.platform}")
    await adapter.publish(target(call.platform, env), request)


@pytest.mark.parametrize("how", HIDDEN)
@pytest.mark.parametrize("call", CREATING, ids=lambda call: call.id)
async def test_a_lost_reply_to_a_post_creating_call_is_ambiguous(
    env: FakeEnv, tmp_path: Path, call: Call, how: str
) -> None:
    with pytest.raises(Ambiguous):
        await _lose_reply(env, tmp_path, call, HIDDEN[how])
    assert any(call.path in seen for seen in (await env.admin(call.platform, "requests"))), (
        "the call was made"
    )


@pytest.mark.parametrize("how", HIDDEN)
@pytest.mark.parametrize("call", HARMLESS, ids=lambda call: call.id)
async def test_a_lost_reply_to_a_call_that_posts_nothing_is_temporary(
    env: FakeEnv, tmp_path: Path, call: Call, how: str
) -> None:
    with pytest.raises(Temporary) as info:
        await _lose_reply(env, tmp_path, call, HIDDEN[how])
    if how == "lost":
        assert info.value.code == "read_failed"


# Where the platform cannot be asked whether the post went out: the job ends unconfirmed.
CANNOT_TELL = {"telegram", "whatsapp"}


def _caller(call: Call, env: FakeEnv, tmp_path: Path) -> PlatformCaller:
    adapter = build(call.platform, env, tmp_path)
    rng = random.Random(1)

    def clock() -> datetime:
        return datetime.now(UTC)

    policy = RetryPolicy()
    reconciler = Reconciler(
        adapter,
        call.platform,
        call_timeout_s=10,
        longest_wait=timedelta(seconds=0.2),
        clock=clock,
        retry=policy,
        rng=rng,
    )
    return PlatformCaller(
        adapter,
        RateLimits({}),
        reconciler,
        policy,
        publish_timeout_s=20,
        max_local_wait=timedelta(seconds=1),
        clock=clock,
        rng=rng,
    )


@pytest.mark.parametrize("call", CREATING, ids=lambda call: call.id)
async def test_a_5xx_after_the_post_was_made_is_looked_up_never_sent_again(
    env: FakeEnv, tmp_path: Path, call: Call
) -> None:
    await env.admin(call.platform, "faults", _hide(call, GATEWAY_5XX))
    request = publish_request(call.content(env), job_id=f"job-{call.platform}")
    now = datetime.now(UTC)
    attempted = PublishOutcome(
        event_id="e1",
        occurred_at=now,
        job_id=request.job_id,
        content_id="c1",
        channel="ch",
        platform=call.platform,
        attempt=1,
        status=OutcomeStatus.ATTEMPTED,
        first_attempt_at=now,
    )

    async def before_call() -> PublishOutcome:
        return attempted

    decision = await _caller(call, env, tmp_path).publish(
        "ch", target(call.platform, env), request, before_call=before_call
    )

    expected = OutcomeStatus.UNCONFIRMED if call.platform in CANNOT_TELL else OutcomeStatus.PUBLISHED
    assert decision.status is expected, decision
    assert len(env.states[call.platform].posts) == 1
    if expected is OutcomeStatus.PUBLISHED:
        assert decision.post_id

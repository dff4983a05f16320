"""A lost reply, call by call: ``Ambiguous`` where the call may have made a post, else ``Temporary``.

The fake acts on the request and then drops the connection (``drop_after_processing``), so the
post really exists when the adapter hears nothing. Every call that creates a post, on every
adapter and in every shape of post the adapter sends differently (Telegram's three methods,
Facebook's photo and feed post, the last chunk of a YouTube or TikTok upload), must then be
``Ambiguous``: a re-send would post twice. A call that cannot make anything visible (a media
upload, an upload session, a Meta container) must be ``Temporary``: it is safe to send again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.publisher.adapters.port import Ambiguous, Temporary
from services.publisher.adapters.registry import PLATFORM_ADAPTERS
from shared.events import Content, Media, Poll
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


async def _lose_reply(env: FakeEnv, tmp_path: Path, call: Call) -> None:
    fault: dict[str, Any] = {
        "path_contains": call.path,
        "method": call.method,
        "mode": "drop_after_processing",
    }
    await env.admin(call.platform, "faults", fault)
    adapter = build(call.platform, env, tmp_path)
    request = publish_request(call.content(env), job_id=f"job-{call.platform}")
    await adapter.publish(target(call.platform, env), request)


@pytest.mark.parametrize("call", CREATING, ids=lambda call: call.id)
async def test_a_lost_reply_to_a_post_creating_call_is_ambiguous(
    env: FakeEnv, tmp_path: Path, call: Call
) -> None:
    with pytest.raises(Ambiguous):
        await _lose_reply(env, tmp_path, call)
    assert any(call.path in seen for seen in (await env.admin(call.platform, "requests"))), (
        "the call was made"
    )


@pytest.mark.parametrize("call", HARMLESS, ids=lambda call: call.id)
async def test_a_lost_reply_to_a_call_that_posts_nothing_is_temporary(
    env: FakeEnv, tmp_path: Path, call: Call
) -> None:
    with pytest.raises(Temporary) as info:
        await _lose_reply(env, tmp_path, call)
    assert info.value.code == "read_failed"

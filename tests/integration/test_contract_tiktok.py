"""TikTok adapter against the TikTok fake, over real HTTP: init → chunks → status, resumable."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from sandbox.base import SlidingWindow
from sandbox.sandbox import sample_video
from sandbox.tiktok import TikTokState
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    NotSupported,
    Permanent,
    Published,
    RateLimited,
    Temporary,
    Unknown,
)
from services.publisher.adapters.tiktok import StatusPending, TikTokAdapter, chunk_plan
from services.publisher.adapters.upload_state import UploadLog
from shared.events import Content, Media
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

CHUNK = 64 * 1024
SIZE = 4 * CHUNK + 5000  # four chunks; the last takes the remainder
JOB = "content-1:tiktok-demo"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> TikTokState:
    state = env.states["tiktok"]
    assert isinstance(state, TikTokState)
    state.min_chunk = CHUNK  # the real 5 MB floor, scaled down to keep the tests fast
    return state


def make(env: FakeEnv, state_dir: Path, **kw: object) -> TikTokAdapter:
    return TikTokAdapter(
        env.session,
        state_dir=state_dir,
        chunk_size=CHUNK,
        min_chunk=CHUNK,
        poll_interval=0.01,
        poll_limit=0.1,
        **kw,  # type: ignore[arg-type]
    )


def video(env: FakeEnv, text: str = "Tari Pakarena #budaya") -> Content:
    return Content(
        text=text, media=(Media(url=env.media_url("tari.mp4") + f"?size={SIZE}", type="video/mp4"),)
    )


def assert_no_range_twice(ranges: list[tuple[int, int]]) -> None:
    ordered = sorted(ranges)
    for (_, last), (first, _) in itertools.pairwise(ordered):
        assert first == last + 1, f"bytes overlap or gap: {ordered}"


@pytest.mark.parametrize(
    ("size", "wanted", "plan"),
    [
        (3 * 1024 * 1024, 10 * 1024 * 1024, (3 * 1024 * 1024, 1)),
        (25 * 1024 * 1024, 10 * 1024 * 1024, (10 * 1024 * 1024, 2)),
    ],
)
def test_chunk_plan_follows_the_media_transfer_rules(size: int, wanted: int, plan: tuple[int, int]) -> None:
    assert chunk_plan(size, wanted) == plan


async def test_video_is_initialised_uploaded_and_polled_to_completion(
    env: FakeEnv, state: TikTokState, tmp_path: Path
) -> None:
    published = await make(env, tmp_path).publish(
        env.target("tiktok", options={"username": "pemprov"}), publish_request(video(env), job_id=JOB)
    )
    [post] = state.posts
    assert published.post_id == post.id
    assert published.url == f"https://www.tiktok.com/@pemprov/video/{post.id}"
    assert post.data["post_info"]["privacy_level"] == "SELF_ONLY"
    assert post.data["sha256"] == hashlib.sha256(sample_video(SIZE)).hexdigest()
    [upload] = state.uploads.values()
    assert [r[0] for r in upload.ranges] == [0, CHUNK, 2 * CHUNK, 3 * CHUNK]
    assert UploadLog(tmp_path, "tiktok").get(JOB) is None


@pytest.mark.parametrize("mode", ["drop", "drop_after_processing"])
async def test_crash_at_a_chunk_boundary_resumes_without_a_new_init(
    env: FakeEnv, state: TikTokState, tmp_path: Path, mode: str
) -> None:
    state.interrupt[2 * CHUNK] = mode
    target = env.target("tiktok")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(Temporary):
        await make(env, tmp_path).publish(target, request)
    assert not state.posts

    restarted = make(env, tmp_path)
    assert isinstance(await restarted.find_by_marker(target, request), Absent)  # still uploading: not posted
    published = await restarted.publish(target, request)

    assert len(state.uploads) == 1
    assert state.requests["POST /tiktok/v2/post/publish/video/init/"] == 1
    [upload] = state.uploads.values()
    assert_no_range_twice(upload.ranges)
    assert upload.ranges[-1][1] == SIZE - 1
    assert published.post_id == state.posts[0].id


async def test_lost_reply_to_the_last_chunk_is_settled_by_status(
    env: FakeEnv, state: TikTokState, tmp_path: Path
) -> None:
    state.interrupt[3 * CHUNK] = "drop_after_processing"
    target = env.target("tiktok")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(Ambiguous):
        await make(env, tmp_path).publish(target, request)
    # Every byte arrived and it is processing: the post is coming, so the lookup asks again
    # (a retry without this state dir would make a second one); a publish here only polls.
    found = await make(env, tmp_path).find_by_marker(target, request)
    assert isinstance(found, Unknown)
    assert found.ask_again_at is not None
    published = await make(env, tmp_path).publish(target, request)
    assert published.post_id == state.posts[0].id
    assert len(state.posts) == 1
    assert state.requests["PUT /tiktok/upload/"] == 4
    assert state.requests["POST /tiktok/v2/post/publish/video/init/"] == 1


async def test_completed_post_is_found_by_marker(env: FakeEnv, state: TikTokState, tmp_path: Path) -> None:
    state.processing_polls = 0
    state.interrupt[3 * CHUNK] = "drop_after_processing"
    target = env.target("tiktok")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(Ambiguous):
        await make(env, tmp_path).publish(target, request)
    found = await make(env, tmp_path).find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id


async def test_slow_processing_is_pending_and_repolling_never_republishes(
    env: FakeEnv, state: TikTokState, tmp_path: Path
) -> None:
    state.processing_polls = 1000
    target = env.target("tiktok")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(StatusPending):
        await make(env, tmp_path).publish(target, request)
    with pytest.raises(StatusPending):
        await make(env, tmp_path).publish(target, request)
    next(iter(state.uploads.values())).polls_left = 0
    published = await make(env, tmp_path).publish(target, request)
    assert published.post_id == state.posts[0].id
    assert state.requests["POST /tiktok/v2/post/publish/video/init/"] == 1
    assert state.requests["PUT /tiktok/upload/"] == 4


async def test_without_a_logged_publish_id_reconciliation_is_not_supported(
    env: FakeEnv, state: TikTokState, tmp_path: Path
) -> None:
    with pytest.raises(NotSupported):
        await make(env, tmp_path).find_by_marker(env.target("tiktok"), publish_request(video(env)))


async def test_init_rate_limit_is_rate_limited_with_the_servers_wait(
    env: FakeEnv, state: TikTokState, tmp_path: Path
) -> None:
    state.init_window = SlidingWindow(1, timedelta(minutes=1))
    target = env.target("tiktok")
    await make(env, tmp_path).publish(target, publish_request(video(env), job_id="a"))
    with pytest.raises(RateLimited) as info:
        await make(env, tmp_path).publish(target, publish_request(video(env, "dua"), job_id="b"))
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.retry_after is not None
    assert 55 <= info.value.retry_after <= 60


async def test_daily_cap_is_rate_limited_for_a_day(env: FakeEnv, state: TikTokState, tmp_path: Path) -> None:
    state.posts_per_day = SlidingWindow(1, timedelta(hours=24))
    target = env.target("tiktok")
    await make(env, tmp_path).publish(target, publish_request(video(env), job_id="a"))
    with pytest.raises(RateLimited) as info:
        await make(env, tmp_path).publish(target, publish_request(video(env, "dua"), job_id="b"))
    assert info.value.code == "spam_risk_too_many_posts"
    assert info.value.retry_after == 24 * 3600


async def test_invalid_token_is_auth_expired(env: FakeEnv, state: TikTokState, tmp_path: Path) -> None:
    with pytest.raises(AuthExpired):
        await make(env, tmp_path).publish(env.target("tiktok", token="expired"), publish_request(video(env)))


async def test_internal_error_is_temporary(env: FakeEnv, state: TikTokState, tmp_path: Path) -> None:
    body = {"data": {}, "error": {"code": "internal_error", "message": "Something went wrong", "log_id": "x"}}
    await env.admin("tiktok", "faults", {"path_contains": "/video/init/", "status": 500, "body": body})
    with pytest.raises(Temporary):
        await make(env, tmp_path).publish(env.target("tiktok"), publish_request(video(env)))


@pytest.mark.parametrize(
    "content",
    [
        Content(text="Text only"),
        Content(text="Photo", media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg"),)),
        Content(
            text="Long",
            media=(Media(url="https://example.go.id/v.mp4", type="video/mp4", duration_seconds=900),),
        ),
        Content(text="x" * 2201, media=(Media(url="https://example.go.id/v.mp4", type="video/mp4"),)),
    ],
)
async def test_what_tiktok_cannot_take_is_refused_before_sending(
    env: FakeEnv, state: TikTokState, tmp_path: Path, content: Content
) -> None:
    with pytest.raises(Permanent):
        await make(env, tmp_path).publish(env.target("tiktok"), publish_request(content))
    assert not state.requests


async def test_engagement_reads_video_query(env: FakeEnv, state: TikTokState, tmp_path: Path) -> None:
    adapter = make(env, tmp_path)
    target = env.target("tiktok")
    published = await adapter.publish(target, publish_request(video(env)))
    await env.admin(
        "tiktok",
        "engagement",
        {"post_id": published.post_id, "reactions": 50, "comments": 5, "shares": 8, "reach": 2000},
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert engagement == type(engagement)(reactions=50, comments=5, shares=8, reach=2000)

"""YouTube adapter against the YouTube fake, over real HTTP: resumable uploads that resume."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sandbox.sandbox import sample_video
from sandbox.youtube import YouTubeState
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    AuthExpired,
    Permanent,
    Published,
    RateLimited,
    Temporary,
)
from services.publisher.adapters.upload_state import UploadLog
from services.publisher.adapters.youtube import CHUNK_UNIT, YouTubeAdapter
from services.publisher.safe_fetch import SafeMediaFetcher
from shared.events import Content, Media
from tests.integration.conftest_fakes import FakeEnv, publish_request, running_sandbox

SIZE = 5 * CHUNK_UNIT + 1000  # six chunks of 256 KiB, the last one short
JOB = "content-1:youtube-demo"


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> YouTubeState:
    state = env.states["youtube"]
    assert isinstance(state, YouTubeState)
    return state


def make(env: FakeEnv, state_dir: Path, **kw: object) -> YouTubeAdapter:
    return YouTubeAdapter(env.session, state_dir=state_dir, chunk_size=CHUNK_UNIT, **kw)  # type: ignore[arg-type]


def video(
    env: FakeEnv, text: str = "Pelantikan Gubernur\nSiaran langsung dari Makassar", **kw: object
) -> Content:
    media = Media(url=env.media_url("pelantikan.mp4") + f"?size={SIZE}", type="video/mp4", **kw)
    return Content(text=text, link="https://example.go.id/pelantikan", media=(media,))


def assert_no_range_twice(ranges: list[tuple[int, int]]) -> None:
    ordered = sorted(ranges)
    for (_, last), (first, _) in itertools.pairwise(ordered):
        assert first == last + 1, f"bytes overlap or gap: {ordered}"


async def test_video_is_uploaded_in_chunks_and_published(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    adapter = make(env, tmp_path)
    published = await adapter.publish(env.target("youtube"), publish_request(video(env), job_id=JOB))

    [post] = state.posts
    assert published.post_id == post.id
    assert published.url == f"https://www.youtube.com/watch?v={post.id}"
    assert post.data["snippet"]["title"] == "Pelantikan Gubernur"
    assert "https://example.go.id/pelantikan" in post.text
    assert post.data["sha256"] == hashlib.sha256(sample_video(SIZE)).hexdigest()
    [session] = state.sessions.values()
    assert len(session.ranges) == 6
    assert UploadLog(tmp_path, "youtube").get(JOB) is None  # nothing left to resume


@pytest.mark.parametrize("mode", ["drop", "drop_after_processing"])
async def test_crash_at_a_chunk_boundary_resumes_from_the_servers_offset(
    env: FakeEnv, state: YouTubeState, tmp_path: Path, mode: str
) -> None:
    state.interrupt[3 * CHUNK_UNIT] = mode
    target = env.target("youtube")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(Temporary):  # a lost middle chunk publishes nothing: never ambiguous
        await make(env, tmp_path).publish(target, request)
    assert not state.posts

    # A new process: only the JSON file remembers the session.
    restarted = make(env, tmp_path)
    assert isinstance(await restarted.find_by_marker(target, request), Absent)  # incomplete: no video yet
    published = await restarted.publish(target, request)

    [session] = state.sessions.values()
    assert_no_range_twice(session.ranges)
    assert session.ranges[0] == (0, CHUNK_UNIT - 1)
    assert session.ranges[-1][1] == SIZE - 1
    assert len(state.sessions) == 1  # resumed, not restarted
    assert published.post_id == state.posts[0].id
    assert state.posts[0].data["sha256"] == hashlib.sha256(sample_video(SIZE)).hexdigest()


async def test_lost_reply_to_the_last_chunk_is_ambiguous_and_the_session_tells(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    state.interrupt[5 * CHUNK_UNIT] = "drop_after_processing"
    target = env.target("youtube")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(Ambiguous):
        await make(env, tmp_path).publish(target, request)

    restarted = make(env, tmp_path)
    found = await restarted.find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == state.posts[0].id
    again = await restarted.publish(target, request)  # a retry asks the session; never re-uploads
    assert again.post_id == found.post_id
    assert len(state.posts) == 1
    assert_no_range_twice(next(iter(state.sessions.values())).ranges)


async def test_without_the_state_file_the_uploads_playlist_is_searched(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    target = env.target("youtube")
    request = publish_request(video(env), job_id=JOB)
    published = await make(env, tmp_path).publish(target, request)
    found = await make(env, tmp_path / "lost").find_by_marker(target, request)
    assert isinstance(found, Published)
    assert found.post_id == published.post_id
    other = publish_request(
        video(env, "Another video"),
        job_id="content-2:youtube-demo",
        first_attempt_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    assert isinstance(await make(env, tmp_path / "lost").find_by_marker(target, other), Absent)


async def test_expired_session_starts_a_fresh_upload(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    state.interrupt[2 * CHUNK_UNIT] = "drop"
    target = env.target("youtube")
    request = publish_request(video(env), job_id=JOB)
    with pytest.raises(Temporary):
        await make(env, tmp_path).publish(target, request)
    state.sessions.clear()  # the session expired on the server
    await make(env, tmp_path).publish(target, request)
    assert len(state.posts) == 1


async def test_quota_exceeded_waits_until_pacific_midnight(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    now = datetime(2025, 1, 15, 7, 0, tzinfo=UTC)  # 23:00 PST
    state.quota_left = 0
    adapter = make(env, tmp_path, clock=lambda: now)
    with pytest.raises(RateLimited) as info:
        await adapter.publish(env.target("youtube"), publish_request(video(env), job_id=JOB))
    assert info.value.code == "quotaExceeded"
    assert info.value.retry_after == 3600
    quota = adapter.rate_limit(env.target("youtube"))
    assert quota is not None
    assert quota.reset_at == datetime(2025, 1, 15, 8, 0, tzinfo=UTC)


async def test_channel_upload_limit_is_rate_limited_for_a_day(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    state.channel_uploads_left = 0
    with pytest.raises(RateLimited) as info:
        await make(env, tmp_path).publish(env.target("youtube"), publish_request(video(env), job_id=JOB))
    assert info.value.code == "uploadLimitExceeded"
    assert info.value.retry_after == 24 * 3600


async def test_invalid_credentials_are_auth_expired(env: FakeEnv, tmp_path: Path) -> None:
    with pytest.raises(AuthExpired):
        await make(env, tmp_path).publish(env.target("youtube", token="expired"), publish_request(video(env)))


async def test_backend_error_is_temporary(env: FakeEnv, tmp_path: Path) -> None:
    body = {
        "error": {
            "code": 503,
            "message": "Backend Error",
            "errors": [{"reason": "backendError", "domain": "global"}],
        }
    }
    await env.admin(
        "youtube", "faults", {"path_contains": "/upload/", "method": "POST", "status": 503, "body": body}
    )
    with pytest.raises(Temporary):
        await make(env, tmp_path).publish(env.target("youtube"), publish_request(video(env)))


@pytest.mark.parametrize(
    "content",
    [
        Content(text="Text only"),
        Content(text="Image", media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg"),)),
        Content(
            text="Too long",
            media=(Media(url="https://example.go.id/v.mp4", type="video/mp4", duration_seconds=13 * 3600),),
        ),
        Content(
            text="Too big",
            media=(Media(url="https://example.go.id/v.mp4", type="video/mp4", size_bytes=300 * 10**9),),
        ),
        Content(text="AVI", media=(Media(url="https://example.go.id/v.avi", type="video/x-msvideo"),)),
    ],
)
async def test_what_youtube_cannot_take_is_refused_before_sending(
    env: FakeEnv, state: YouTubeState, tmp_path: Path, content: Content
) -> None:
    with pytest.raises(Permanent):
        await make(env, tmp_path).publish(env.target("youtube"), publish_request(content))
    assert not state.requests


async def test_engagement_reads_statistics(env: FakeEnv, tmp_path: Path) -> None:
    adapter = make(env, tmp_path)
    target = env.target("youtube")
    published = await adapter.publish(target, publish_request(video(env)))
    await env.admin(
        "youtube", "engagement", {"post_id": published.post_id, "reactions": 40, "comments": 6, "reach": 1200}
    )
    engagement = await adapter.engagement(target, published.post_id)
    assert engagement == type(engagement)(reactions=40, comments=6, shares=0, reach=1200)


async def test_a_video_spooled_to_disk_uploads_the_same_bytes(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    media_host = urlsplit(env.media_url("pelantikan.mp4")).netloc
    fetcher = SafeMediaFetcher(
        "youtube", allow_hosts=[media_host], spill_bytes=CHUNK_UNIT, spool_dir=tmp_path / "spool"
    )
    adapter = make(env, tmp_path, fetcher=fetcher)
    await adapter.publish(env.target("youtube"), publish_request(video(env), job_id=JOB))
    [post] = state.posts
    assert post.data["sha256"] == hashlib.sha256(sample_video(SIZE)).hexdigest()
    assert list((tmp_path / "spool").iterdir()) == []

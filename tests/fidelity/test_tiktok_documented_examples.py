"""The TikTok fake and adapter against the examples of TikTok's Content Posting API documentation.

TikTok publishes no client library for the Content Posting API, so the requests and the response
shapes of its documentation are replayed here, each cited:

- Direct Post reference, "Initialize the posting request" (developers.tiktok.com/doc/
  content-posting-api-reference-direct-post): the curl example's body (title, privacy_level,
  disable_*, video_cover_timestamp_ms; FILE_UPLOAD with video_size 50000123, chunk_size
  10000000, total_chunk_count 5) and its response ``{"data":{"publish_id","upload_url"},
  "error":{"code":"ok","message","log_id"}}``.
- Media Transfer Guide, "Chunk upload" (developers.tiktok.com/doc/content-posting-api-media-
  transfer-guide): the same 50,000,123-byte file in five PUTs, the trailing 123 bytes merged into
  the last 10,000,000-byte chunk, ``Content-Range: bytes {first}-{last}/{total}``; 206 for a
  partial upload, 201 when the file is complete.
- Get Post Status (developers.tiktok.com/doc/content-posting-api-reference-get-video-status):
  ``{"publish_id"}`` → ``data.status`` (PROCESSING_UPLOAD, PROCESSING_DOWNLOAD,
  PUBLISH_COMPLETE, FAILED), ``uploaded_bytes``, ``publicaly_available_post_id`` (sic).
- Display API video/query (developers.tiktok.com/doc/tiktok-api-v2-video-query): ``fields`` is
  required in the query string and the videos carry the fields asked for.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandbox.tiktok import TikTokState
from services.publisher.adapters.port import AdapterError, AuthExpired, Permanent, RateLimited, Temporary
from services.publisher.adapters.tiktok import TikTokAdapter, chunk_plan
from shared.capabilities import capabilities_for
from shared.events import Content, Media
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

DOC_SIZE, DOC_CHUNK, DOC_COUNT = 50_000_123, 10_000_000, 5

# Direct Post reference, the init curl example's body.
DOC_INIT_BODY: dict[str, Any] = {
    "post_info": {
        "title": "this will be a funny #cat video on your @tiktok #fyp",
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "disable_duet": False,
        "disable_comment": True,
        "disable_stitch": False,
        "video_cover_timestamp_ms": 1000,
    },
    "source_info": {
        "source": "FILE_UPLOAD",
        "video_size": DOC_SIZE,
        "chunk_size": DOC_CHUNK,
        "total_chunk_count": DOC_COUNT,
    },
}

# Media Transfer Guide, the five requests of the chunk-upload example.
DOC_RANGES = [
    (0, 9_999_999),
    (10_000_000, 19_999_999),
    (20_000_000, 29_999_999),
    (30_000_000, 39_999_999),
    (40_000_000, 50_000_122),
]


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


def headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json; charset=UTF-8"}


def assert_ok_envelope(body: dict[str, Any]) -> None:
    assert body["error"]["code"] == "ok"
    assert set(body["error"]) == {"code", "message", "log_id"}


def test_table_version_is_the_documented_path_prefix() -> None:
    assert capabilities_for("tiktok").api_version == "v2"
    assert DOC_RANGES[-1][1] + 1 == DOC_SIZE


def test_adapter_plans_the_documented_chunks() -> None:
    # Media Transfer Guide: total_chunk_count = video_size // chunk_size; the last takes the rest.
    assert chunk_plan(DOC_SIZE, DOC_CHUNK) == (DOC_CHUNK, DOC_COUNT)
    assert chunk_plan(1_000_000, DOC_CHUNK) == (1_000_000, 1)  # under 5 MB: one whole chunk


async def test_documented_init_upload_and_status(env: FakeEnv) -> None:
    state = env.states["tiktok"]
    assert isinstance(state, TikTokState)
    async with env.session.post(
        env.url("/tiktok/v2/post/publish/video/init/"), json=DOC_INIT_BODY, headers=headers()
    ) as resp:
        assert resp.status == 200
        init = await resp.json()
    assert_ok_envelope(init)
    assert set(init["data"]) == {"publish_id", "upload_url"}
    assert init["data"]["publish_id"].startswith("v_pub_file~v2")
    payload = bytes(DOC_SIZE)
    statuses = []
    for first, last in DOC_RANGES:
        chunk_headers = {"Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{DOC_SIZE}"}
        async with env.session.put(
            init["data"]["upload_url"], data=io.BytesIO(payload[first : last + 1]), headers=chunk_headers
        ) as resp:
            statuses.append(resp.status)
    assert statuses == [206, 206, 206, 206, 201]
    seen = []
    for _ in range(3):
        async with env.session.post(
            env.url("/tiktok/v2/post/publish/status/fetch/"),
            json={"publish_id": init["data"]["publish_id"]},
            headers=headers(),
        ) as resp:
            body = await resp.json()
        assert_ok_envelope(body)
        seen.append(body["data"]["status"])
    assert seen[-1] == "PUBLISH_COMPLETE"
    assert set(seen) <= {"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE"}
    post_ids = body["data"]["publicaly_available_post_id"]
    assert isinstance(post_ids, list)
    assert isinstance(post_ids[0], int)
    # Display API video/query: only the fields asked for; none asked for is invalid_params.
    query = {"filters": {"video_ids": [str(post_ids[0])]}}
    async with env.session.post(
        env.url("/tiktok/v2/video/query/"), params={"fields": "id,view_count"}, json=query, headers=headers()
    ) as resp:
        videos = (await resp.json())["data"]["videos"]
    assert [set(v) for v in videos] == [{"id", "view_count"}]
    async with env.session.post(env.url("/tiktok/v2/video/query/"), json=query, headers=headers()) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_params"


async def test_documented_chunk_rules_are_enforced(env: FakeEnv) -> None:
    # Media Transfer Guide: total_chunk_count must equal video_size // chunk_size.
    wrong = {**DOC_INIT_BODY, "source_info": {**DOC_INIT_BODY["source_info"], "total_chunk_count": 6}}
    async with env.session.post(
        env.url("/tiktok/v2/post/publish/video/init/"), json=wrong, headers=headers()
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "invalid_params"


async def test_adapter_init_body_has_the_documented_shape(env: FakeEnv, tmp_path: Any) -> None:
    adapter = TikTokAdapter(env.session, state_dir=tmp_path, poll_interval=0.01, poll_limit=1.0)
    content = Content(
        text="Kegiatan gubernur", media=(Media(url=env.media_url("clip.mp4"), type="video/mp4"),)
    )
    published = await adapter.publish(env.target("tiktok"), publish_request(content))
    state = env.states["tiktok"]
    assert isinstance(state, TikTokState)
    post = state.find_post(published.post_id)
    assert post is not None
    post_info = post.data["post_info"]
    # Every key the adapter sends is one the Direct Post reference documents under post_info.
    documented = {
        "title",
        "privacy_level",
        "disable_duet",
        "disable_comment",
        "disable_stitch",
        "video_cover_timestamp_ms",
        "brand_content_toggle",
        "brand_organic_toggle",
        "is_aigc",
    }
    assert set(post_info) <= documented
    assert post_info["privacy_level"] in {
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "FOLLOWER_OF_CREATOR",
        "SELF_ONLY",
    }
    engagement = await adapter.engagement(env.target("tiktok"), published.post_id)
    assert engagement.reactions == 0


# Direct Post reference, "Error codes" (HTTP status, error.code, what it means), and what Warta
# must make of each: wait (RateLimited), a human must act (AuthExpired), or refused (Permanent).
DOC_ERRORS: list[tuple[int, str, type[AdapterError], float | None]] = [
    (400, "invalid_params", Permanent, None),
    (401, "access_token_invalid", AuthExpired, None),
    (401, "scope_not_authorized", AuthExpired, None),
    (403, "spam_risk_too_many_posts", RateLimited, 24 * 3600.0),  # the creator's daily post cap
    (403, "spam_risk_user_banned_from_posting", AuthExpired, None),
    # "The daily quota for active publishing users from your client is reached": the app's
    # rolling cap of creators per day; it frees as the window moves, so retry, don't fail.
    (403, "reached_active_user_cap", RateLimited, 3600.0),
    (403, "unaudited_client_can_only_post_to_private_accounts", Permanent, None),
    (403, "privacy_level_option_mismatch", Permanent, None),
    (429, "rate_limit_exceeded", RateLimited, 60.0),
    (500, "internal_error", Temporary, None),
]


@pytest.mark.parametrize(("status", "code", "kind", "wait"), DOC_ERRORS)
async def test_documented_init_errors_are_classified(
    env: FakeEnv, tmp_path: Any, status: int, code: str, kind: type[AdapterError], wait: float | None
) -> None:
    body = {"data": {}, "error": {"code": code, "message": "documented", "log_id": "202601011000"}}
    fault = {"path_contains": "/video/init/", "method": "POST", "status": status, "body": body}
    await env.admin("tiktok", "faults", fault)
    adapter = TikTokAdapter(env.session, state_dir=tmp_path)
    content = Content(text="Kegiatan", media=(Media(url=env.media_url("clip.mp4"), type="video/mp4"),))
    with pytest.raises(kind) as caught:
        await adapter.publish(env.target("tiktok"), publish_request(content))
    assert type(caught.value) is kind
    assert caught.value.code == code
    if wait is not None:
        assert isinstance(caught.value, RateLimited)
        assert caught.value.retry_after == wait

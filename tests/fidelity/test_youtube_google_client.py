"""The YouTube fake driven by google-api-python-client, its responses checked by the discovery document.

The client is built from the YouTube Data API v3 discovery document that ships inside it, with
only ``rootUrl`` moved to the sandbox's mount; it speaks plain httplib2 with an OAuth bearer
token, as it would to Google. Every response, and every request body the adapter sends, is
validated against the document's schemas (``discovery_schema``). Each test names the reference
page (developers.google.com/youtube/v3/docs/...) it exercises.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from sandbox.sandbox import sample_video
from sandbox.youtube import YouTubeState
from services.publisher.adapters.youtube import YouTubeAdapter
from shared.events import Content, Media
from tests.fidelity.discovery_schema import load_document, problems
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

T = TypeVar("T")
DOCUMENT = load_document("youtube.v3")
CHUNK = 256 * 1024
VIDEO = sample_video(4 * CHUNK + 1000)  # four whole chunks and a short last one


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> YouTubeState:
    state = env.states["youtube"]
    assert isinstance(state, YouTubeState)
    return state


def _youtube(env: FakeEnv, token: str = TOKEN) -> Resource:
    document = DOCUMENT | {"rootUrl": env.url("/youtube/")}
    credentials = Credentials(token=token)  # type: ignore[no-untyped-call]  # google-auth: untyped
    return build_from_document(document, credentials=credentials)


@pytest.fixture
def youtube(env: FakeEnv) -> Iterator[Resource]:
    with _youtube(env) as youtube:  # closes httplib2's connections
        yield youtube


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    path = tmp_path / "pidato.mp4"
    path.write_bytes(VIDEO)
    return path


async def _run(call: Callable[..., T], *args: Any, **kw: Any) -> T:
    """The client is synchronous; the fake serves on this loop, so the call runs in a thread."""
    return await asyncio.to_thread(call, *args, **kw)


def _upload(youtube: Resource, video_file: Path, body: dict[str, Any]) -> dict[str, Any]:
    media = MediaFileUpload(str(video_file), mimetype="video/mp4", chunksize=CHUNK, resumable=True)
    request = youtube.videos().insert(part=",".join(body), body=body, media_body=media)
    response = None
    while response is None:  # one chunk per next_chunk(), each answered 308 until the last
        _, response = request.next_chunk()
    result: dict[str, Any] = response
    return result


BODY: dict[str, Any] = {
    "snippet": {"title": "Pidato Gubernur", "description": "Pidato lengkap", "categoryId": "25"},
    "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
}


async def test_resumable_insert_completes_in_chunks_and_answers_a_video(
    youtube: Resource, video_file: Path, state: YouTubeState
) -> None:
    # videos/insert with the resumable upload protocol (guides/using_resumable_upload_protocol);
    # the reply is a Video resource (docs/videos#resource).
    video = await _run(_upload, youtube, video_file, BODY)
    assert problems(DOCUMENT, "Video", video) == []
    assert video["snippet"]["title"] == "Pidato Gubernur"
    [session] = state.sessions.values()
    assert len(session.ranges) == 5
    assert bytes(session.data) == VIDEO


async def test_videos_list_answers_the_parts_asked_for(youtube: Resource, video_file: Path) -> None:
    # videos/list with part=statistics,status (docs/videos/list): a VideoListResponse whose
    # items carry exactly the parts requested.
    video = await _run(_upload, youtube, video_file, BODY)
    listed = await _run(youtube.videos().list(part="statistics,status", id=video["id"]).execute)
    assert problems(DOCUMENT, "VideoListResponse", listed) == []
    [item] = listed["items"]
    assert {"statistics", "status"} <= set(item)
    assert "snippet" not in item
    assert item["statistics"]["viewCount"] == "0"
    assert item["status"]["privacyStatus"] == "public"


async def test_errors_are_google_errors_the_client_reads(
    env: FakeEnv, youtube: Resource, video_file: Path, state: YouTubeState
) -> None:
    # docs/errors: 401 authError, 403 quotaExceeded, 400 invalidTitle, in Google's error shape.
    # On a 401 the client asks google-auth for a new token, which a bare token cannot give.
    with pytest.raises(RefreshError), _youtube(env, "wrong") as stranger:
        await _run(_upload, stranger, video_file, BODY)
    bad_title = {**BODY, "snippet": {**BODY["snippet"], "title": "<b>"}}
    with pytest.raises(HttpError) as caught:
        await _run(_upload, youtube, video_file, bad_title)
    assert (caught.value.status_code, caught.value.error_details[0]["reason"]) == (400, "invalidTitle")
    state.quota_left = 0
    with pytest.raises(HttpError) as caught:
        await _run(_upload, youtube, video_file, BODY)
    assert (caught.value.status_code, caught.value.error_details[0]["reason"]) == (403, "quotaExceeded")


async def test_the_adapters_metadata_and_reads_follow_the_discovery_document(
    env: FakeEnv, state: YouTubeState, tmp_path: Path
) -> None:
    # videos/insert request body (a Video) as the adapter sends it, and videos/list statistics
    # as the adapter reads them for engagement.
    adapter = YouTubeAdapter(env.session, state_dir=tmp_path, chunk_size=CHUNK)
    media = (Media(url=env.media_url("pidato.mp4"), type="video/mp4"),)
    target = env.target("youtube", options={"privacy": "unlisted"})
    published = await adapter.publish(target, publish_request(Content(text="Pidato", media=media)))
    [session] = state.sessions.values()
    assert problems(DOCUMENT, "Video", session.request) == []
    assert set(session.part.split(",")) == set(session.request)
    engagement = await adapter.engagement(target, published.post_id)
    assert engagement.reach == 0


async def test_part_is_required(youtube: Resource, env: FakeEnv) -> None:
    # docs/videos/list and docs/videos/insert: ``part`` is a required parameter.
    async with env.session.get(
        env.url("/youtube/youtube/v3/videos?id=x"), headers={"Authorization": f"Bearer {TOKEN}"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["errors"][0]["reason"] == "required"


def test_the_document_is_youtube_data_api_v3() -> None:
    # The adapter and the fake speak YouTube Data API v3, the version this document describes.
    assert (DOCUMENT["name"], DOCUMENT["version"]) == ("youtube", "v3")


async def test_the_uploads_listing_reconciliation_reads_follows_the_document(
    youtube: Resource, video_file: Path
) -> None:
    # channels/list part=contentDetails mine=true (docs/channels/list) for the uploads playlist,
    # then playlistItems/list part=snippet (docs/playlistItems/list): what find_by_marker reads.
    video = await _run(_upload, youtube, video_file, BODY)
    channels = await _run(youtube.channels().list(part="contentDetails", mine=True).execute)
    assert problems(DOCUMENT, "ChannelListResponse", channels) == []
    uploads = channels["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
    listing = await _run(
        youtube.playlistItems().list(part="snippet", playlistId=uploads, maxResults=50).execute
    )
    assert problems(DOCUMENT, "PlaylistItemListResponse", listing) == []
    [item] = listing["items"]
    assert item["snippet"]["resourceId"]["videoId"] == video["id"]

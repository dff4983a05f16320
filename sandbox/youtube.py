"""YouTube Data API v3, as far as uploading touches it (platforms.md §7), with resumable sessions.

Routes (relative to the mount)::

    POST /upload/youtube/v3/videos?uploadType=resumable   metadata JSON, X-Upload-Content-Length
                                                          → 200, Location: <session URI>
    PUT  /upload/youtube/v3/videos?upload_id=ID           Content-Range: bytes A-B/TOTAL + bytes
                                                          → 308 Range: bytes=0-N | 200 Video resource
                                                          Content-Range: bytes */TOTAL → status query
    GET  /youtube/v3/videos?part=statistics,status&id=ID  the parts asked for (snippet, status,
                                                          statistics; counts as strings)
    GET  /youtube/v3/channels?part=contentDetails&mine=true   relatedPlaylists.uploads
    GET  /youtube/v3/playlistItems?playlistId=UU…         the channel's uploads, newest first
    POST /youtube/v3/comments, GET /youtube/v3/comments?parentId=   replies: see ``youtube_replies``
    GET  /youtube/v3/commentThreads?part=snippet,replies&videoId=ID   citizens' comments
                                                          (``/_fake/comments``), maxResults 1-100
                                                          (20), pageToken; 1 unit of ``read_units_left``

The fake records every byte range each session received (``Session.ranges``) and keeps the
bytes, so tests can check that a resumed upload sent no range twice and that the video is
whole; ``Session.queries`` holds the offset at each status query (``bytes */TOTAL``), so a
resumed upload shows as a query mid-way followed by the rest. ``GET /_fake/uploads`` lists them. ``interrupt`` maps a chunk's first byte to ``drop`` (close the connection, chunk lost)
or ``drop_after_processing`` (keep the chunk, lose the reply): a crash at a chunk boundary.

Quota: ``quota_left`` ``videos.insert`` calls (403 ``quotaExceeded`` at 0) and
``channel_uploads_left`` per channel (400 ``uploadLimitExceeded`` at 0). Titles over 100
characters or with ``<``/``>`` are 400 ``invalidTitle``. Chunks other than the last must be
multiples of 256 KiB. ``part`` is required on ``videos.insert`` and ``videos.list`` (400
``required`` without it), as docs/videos/insert and docs/videos/list say; resources carry only
the parts asked for and the fields of the API's discovery document (checked by tests/fidelity).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sandbox import youtube_replies  # reads this module's names at call time only
from sandbox.base import (
    FakeComment,
    FakePost,
    FakeState,
    Reject,
    bearer_token,
    json_reply,
)
from sandbox.fake_app import new_fake_app
from sandbox.oauth import add_authority

CHUNK_UNIT = 256 * 1024
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_QUERY = re.compile(r"bytes \*/(\d+)")


@dataclass
class Session:
    id: str
    account: str
    metadata: dict[str, Any]
    total: int
    request: dict[str, Any] = field(default_factory=dict)  # the metadata body as it was sent
    part: str = ""  # the ``part`` parameter it was sent with
    data: bytearray = field(default_factory=bytearray)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)  # bytes held at each status query
    video_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "text": str((self.metadata.get("snippet") or {}).get("description") or ""),
            "total": self.total,
            "received": len(self.data),
            "ranges": self.ranges,
            "queries": self.queries,
            "post_id": self.video_id,
        }


@dataclass
class YouTubeState(FakeState):
    quota_left: int = 100  # videos.insert calls left today (platforms.md §7: 100 per day)
    channel_uploads_left: int = 1000
    # Units left today for list calls (docs/determine_quota_cost: commentThreads.list costs 1 of
    # the project's 10,000 a day); 403 quotaExceeded at 0.
    read_units_left: int = 10_000
    sessions: dict[str, Session] = field(default_factory=dict)
    interrupt: dict[int, str] = field(default_factory=dict)  # chunk start → drop | drop_after_processing

    def new_comment_id(self, post_id: str) -> str:
        # Comment ids are opaque base64-like strings ("UgzDE2tasfmrYLyNkGt4AaABAg").
        return "Ugz" + hashlib.sha256(f"{post_id}:{self.next_id()}".encode()).hexdigest()[:20] + "AaABAg"

    def reset(self) -> None:
        super().reset()
        self.sessions.clear()
        self.interrupt.clear()

    @staticmethod
    def channel_id(account: str) -> str:
        return "UC" + hashlib.sha256(account.encode()).hexdigest()[:22]


def google_error(status: int, reason: str, message: str, domain: str = "youtube.video") -> web.Response:
    errors = [{"message": message, "domain": domain, "reason": reason}]
    return json_reply({"error": {"code": status, "message": message, "errors": errors}}, status)


class _YouTube:
    def __init__(self, state: YouTubeState) -> None:
        self.s = state

    def _auth(self, request: web.Request) -> str:
        account = self.s.account_for(bearer_token(request))
        if account is None:
            raise Reject(google_error(401, "authError", "Invalid Credentials", "global"))
        return account

    async def start(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        if request.query.get("uploadType") != "resumable":
            return google_error(400, "invalidParameter", "uploadType must be resumable here", "global")
        part = request.query.get("part", "")
        if not part:
            return _required("part")
        metadata = await _metadata(request)
        if metadata is None:
            return google_error(400, "parseError", "Parse Error", "global")
        snippet = metadata.get("snippet") or {}
        title = str(snippet.get("title") or "")
        if not title or len(title) > 100 or re.search(r"[<>]", title):
            return google_error(
                400, "invalidTitle", "The request metadata specifies an invalid or empty video title."
            )
        if re.search(r"[<>]", str(snippet.get("description") or "")):
            return google_error(
                400, "invalidDescription", "The request metadata specifies an invalid video description."
            )
        try:
            total = int(request.headers.get("X-Upload-Content-Length", ""))
        except ValueError:
            return google_error(400, "mediaBodyRequired", "The request does not include the video content.")
        if self.s.quota_left <= 0:
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                "youtube.quota",
            )
        if self.s.channel_uploads_left <= 0:
            return google_error(
                400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload."
            )
        self.s.quota_left -= 1
        session = Session(
            secrets.token_hex(8),
            account,
            {k: v for k, v in metadata.items() if k in ("snippet", "status")},
            total,
            request=metadata,
            part=part,
        )
        self.s.sessions[session.id] = session
        location = (
            f"{self.s.base(request)}/upload/youtube/v3/videos?uploadType=resumable&upload_id={session.id}"
        )
        return web.Response(status=200, headers={"Location": location})

    async def put(self, request: web.Request) -> web.StreamResponse:
        self._auth(request)
        session = self.s.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return google_error(404, "notFound", "The upload session was not found or has expired.", "global")
        content_range = request.headers.get("Content-Range", "")
        body = await request.read()
        if _QUERY.fullmatch(content_range):
            session.queries.append(len(session.data))
            return self._status(session)
        match = _RANGE.fullmatch(content_range)
        if match is None:
            return google_error(400, "badContentRange", "Invalid Content-Range", "global")
        first, last, total = (int(g) for g in match.groups())
        # A chunk may repeat bytes the session already holds (a client that lost track); it may
        # not leave a gap. Every range is recorded, so a test sees any byte sent twice.
        if total != session.total or last - first + 1 != len(body) or first > len(session.data):
            return google_error(
                400,
                "badContentRange",
                f"Expected bytes from {len(session.data)} of {session.total}",
                "global",
            )
        if last + 1 < total and len(body) % CHUNK_UNIT:
            return google_error(400, "badContentRange", "Chunks must be multiples of 256 KiB", "global")
        mode = self.s.interrupt.pop(first, None)
        if mode == "drop":
            raise _drop(request)
        del session.data[first:]
        session.data.extend(body)
        session.ranges.append((first, last))
        if last + 1 == total:
            self._complete(session)
        if mode == "drop_after_processing":
            raise _drop(request)
        return self._status(session)

    def _status(self, session: Session) -> web.Response:
        if session.video_id is not None:
            post = self.s.find_post(session.video_id)
            assert post is not None
            return json_reply(self._video_json(post), 200)
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return web.Response(status=308, headers=headers)

    def _complete(self, session: Session) -> None:
        if self.s.channel_uploads_left <= 0:
            return
        self.s.channel_uploads_left -= 1
        video_id = secrets.token_urlsafe(8)[:11]
        snippet = session.metadata.get("snippet") or {}
        session.video_id = video_id
        self.s.posts.append(
            FakePost(
                id=video_id,
                account=session.account,
                text=str(snippet.get("description") or ""),
                created_at=self.s.now(),
                url=f"https://www.youtube.com/watch?v={video_id}",
                data={
                    **session.metadata,
                    "channel": self.s.channel_id(session.account),
                    "size": len(session.data),
                    "sha256": hashlib.sha256(session.data).hexdigest(),
                    "session": session.id,
                },
            )
        )

    def _video_json(self, post: FakePost) -> dict[str, Any]:
        snippet = {
            **(post.data.get("snippet") or {}),
            "channelId": post.data["channel"],
            "publishedAt": post.created_at.isoformat().replace("+00:00", "Z"),
        }
        return {
            "kind": "youtube#video",
            "id": post.id,
            "snippet": snippet,
            "status": {**(post.data.get("status") or {}), "uploadStatus": "uploaded"},
        }

    async def videos(self, request: web.Request) -> web.Response:
        self._auth(request)
        parts = {p.strip() for p in request.query.get("part", "").split(",") if p.strip()}
        if not parts:
            return _required("part")
        items = []
        for video_id in request.query.get("id", "").split(","):
            post = self.s.find_post(video_id)
            if post is None:
                continue
            likes, comments, _ = self.s.counts(post)
            stats = {
                "viewCount": str(post.reach or 0),
                "likeCount": str(likes),
                "favoriteCount": "0",
                "commentCount": str(comments),
            }
            full = self._video_json(post) | {"statistics": stats}
            # docs/videos/list: the resource carries the parts requested, and always kind and id.
            items.append({k: v for k, v in full.items() if k in parts or k in ("kind", "id")})
        page = {"totalResults": len(items), "resultsPerPage": len(items)}
        return json_reply({"kind": "youtube#videoListResponse", "items": items, "pageInfo": page})

    async def comment_threads(self, request: web.Request) -> web.Response:
        """docs/commentThreads/list: top-level comments of a video, their replies under ``replies``."""
        self._auth(request)
        parts = {p.strip() for p in request.query.get("part", "").split(",") if p.strip()}
        if not parts:
            return _required("part")
        if self.s.read_units_left <= 0:
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
                "youtube.quota",
            )
        self.s.read_units_left -= 1
        video_id = request.query.get("videoId", "")
        post = self.s.find_post(video_id)
        if post is None:
            return google_error(
                404,
                "videoNotFound",
                "The video identified by the videoId parameter could not be found.",
                "youtube.commentThread",
            )
        try:
            size = int(request.query.get("maxResults", "20"))
            start = int(request.query.get("pageToken") or "0")
        except ValueError:
            return google_error(400, "invalidParameter", "maxResults or pageToken is invalid", "global")
        if not 1 <= size <= 100:
            return google_error(400, "invalidParameter", "maxResults must be between 1 and 100", "global")
        channel = self.s.channel_id(post.account)
        # A comment held for review or rejected is not public: the listing leaves it out.
        comments = [c for c in self.s.comments_on(video_id) if not c.hidden]
        # order=time (the default): newest first.
        tops = sorted((c for c in comments if c.parent_id is None), key=lambda c: c.created_at, reverse=True)
        items = []
        for top in tops[start : start + size]:
            replies = [c for c in comments if c.parent_id == top.id]
            item: dict[str, Any] = {"kind": "youtube#commentThread", "etag": _etag(top.id), "id": top.id}
            if "snippet" in parts:
                item["snippet"] = {
                    "channelId": channel,
                    "videoId": video_id,
                    "topLevelComment": _comment_json(self.s, channel, top),
                    "canReply": True,
                    "totalReplyCount": len(replies),
                    "isPublic": True,
                }
            if "replies" in parts and replies:
                item["replies"] = {"comments": [_comment_json(self.s, channel, r) for r in replies]}
            items.append(item)
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "etag": _etag(f"{video_id}:{start}:{len(comments)}"),
            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
            "items": items,
        }
        if start + size < len(tops):
            body["nextPageToken"] = str(start + size)
        return json_reply(body)

    async def uploads(self, request: web.Request) -> web.Response:
        return json_reply([session.to_json() for session in self.s.sessions.values()])

    async def channels(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        channel = self.s.channel_id(account)
        details = {"relatedPlaylists": {"likes": "", "uploads": "UU" + channel[2:]}}
        return json_reply({"items": [{"kind": "youtube#channel", "id": channel, "contentDetails": details}]})

    async def playlist_items(self, request: web.Request) -> web.Response:
        self._auth(request)
        playlist = request.query.get("playlistId", "")
        limit = int(request.query.get("maxResults", "5"))
        mine = [
            p for p in reversed(self.s.posts) if "UU" + p.data["channel"][2:] == playlist and self.s.listed(p)
        ][:limit]
        items = [
            {
                "kind": "youtube#playlistItem",
                "snippet": {
                    "title": (p.data.get("snippet") or {}).get("title"),
                    "description": p.text,
                    "publishedAt": p.created_at.isoformat().replace("+00:00", "Z"),
                    "resourceId": {"kind": "youtube#video", "videoId": p.id},
                },
            }
            for p in mine
        ]
        return json_reply({"items": items})


async def _metadata(request: web.Request) -> dict[str, Any] | None:
    """The Video resource in the body of a resumable session's first request (JSON, or none)."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _comment_json(state: YouTubeState, channel: str, comment: FakeComment) -> dict[str, Any]:
    """A ``youtube#comment`` resource (docs/comments#resource)."""
    author_channel = state.channel_id(comment.author)
    when = comment.created_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    snippet: dict[str, Any] = {
        "channelId": channel,
        "videoId": comment.post_id,
        "textDisplay": comment.text,
        "textOriginal": comment.text,
        "authorDisplayName": "@" + comment.author,
        "authorProfileImageUrl": "https://yt3.ggpht.com/ytc/default-user=s48-c-k-c0x00ffffff-no-rj",
        "authorChannelUrl": "http://www.youtube.com/@" + comment.author,
        "authorChannelId": {"value": author_channel},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": when,
        "updatedAt": when,
    }
    if comment.parent_id is not None:
        snippet["parentId"] = comment.parent_id
    return {"kind": "youtube#comment", "etag": _etag(comment.id), "id": comment.id, "snippet": snippet}


def _etag(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:27]


def _required(parameter: str) -> web.Response:
    return google_error(400, "required", f"Required parameter: {parameter}", "global")


def _drop(request: web.Request) -> web.HTTPException:
    if request.transport is not None:
        request.transport.abort()
    return web.HTTPInternalServerError()


# The public names the reply routes (``youtube_replies``) build their answers with.
comment_json = _comment_json
etag = _etag


def create_app(state: YouTubeState | None = None) -> web.Application:
    state = state or YouTubeState()
    fake = _YouTube(state)
    app = new_fake_app(state)
    add_authority(app, state, "youtube")
    app.router.add_post("/upload/youtube/v3/videos", fake.start)
    app.router.add_put("/upload/youtube/v3/videos", fake.put)
    app.router.add_get("/youtube/v3/videos", fake.videos)
    app.router.add_get("/youtube/v3/channels", fake.channels)
    app.router.add_get("/youtube/v3/playlistItems", fake.playlist_items)
    app.router.add_get("/youtube/v3/commentThreads", fake.comment_threads)
    for method, path, handler in youtube_replies.routes(state):
        app.router.add_route(method, path, handler)
    app.router.add_get("/_fake/uploads", fake.uploads)
    return app

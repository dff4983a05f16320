"""TikTok Content Posting API, as far as posting a video touches it (platforms.md §8).

Routes (relative to the mount)::

    POST /v2/post/publish/video/init/      post_info, source_info (FILE_UPLOAD) → publish_id, upload_url
    PUT  /upload/?upload_id=ID             Content-Range: bytes A-B/TOTAL → 206, or 201 for the last chunk
    POST /v2/post/publish/status/fetch/    {"publish_id"} → status, uploaded_bytes, publicaly_available_post_id
    POST /v2/video/query/?fields=...       {"filters":{"video_ids":[...]}} → the fields asked for

Every JSON reply carries ``"error":{"code","message","log_id"}`` (``"ok"`` on success). Chunk
rules are checked: ``chunk_size`` between ``min_chunk`` and 64 MB (a video under ``min_chunk`` is
one chunk), ``total_chunk_count == video_size // chunk_size``, chunks in order, each
``chunk_size`` except the last, which takes the remainder. Every received range is recorded
(``Upload.ranges``) with the bytes, and ``Upload.queries`` the bytes held at each status fetch
before the upload completed (a resumed upload asks, then sends the rest); ``GET /_fake/uploads``
lists them. ``interrupt`` (chunk start → ``drop`` or ``drop_after_processing``) simulates a crash
at a chunk boundary.

After the last chunk the post is created and the status reads PROCESSING_DOWNLOAD for
``processing_polls`` fetches, then PUBLISH_COMPLETE. Limits: ``init_per_minute`` init calls per
token (429 ``rate_limit_exceeded``) and ``posts_per_day`` per creator (403
``spam_risk_too_many_posts``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from sandbox.base import (
    FakePost,
    FakeState,
    Reject,
    SlidingWindow,
    bearer_token,
    json_reply,
    read_fields,
)
from sandbox.fake_app import new_fake_app
from sandbox.oauth import add_authority

MB = 1024 * 1024
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class Upload:
    publish_id: str
    account: str
    post_info: dict[str, Any]
    size: int
    chunk: int
    count: int
    data: bytearray = field(default_factory=bytearray)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)  # bytes held at each status fetch mid-upload
    post_id: str | None = None
    polls_left: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.publish_id,
            "account": self.account,
            "text": str(self.post_info.get("title") or ""),
            "total": self.size,
            "received": len(self.data),
            "ranges": self.ranges,
            "queries": self.queries,
            "post_id": self.post_id,
        }


@dataclass
class TikTokState(FakeState):
    min_chunk: int = 5 * MB
    max_chunk: int = 64 * MB
    processing_polls: int = 1
    init_window: SlidingWindow = field(default_factory=lambda: SlidingWindow(6, timedelta(minutes=1)))
    posts_per_day: SlidingWindow = field(default_factory=lambda: SlidingWindow(15, timedelta(hours=24)))
    uploads: dict[str, Upload] = field(default_factory=dict)  # upload id → upload
    interrupt: dict[int, str] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.init_window.clear()
        self.posts_per_day.clear()
        self.uploads.clear()
        self.interrupt.clear()

    def by_publish_id(self, publish_id: str) -> Upload | None:
        return next((u for u in self.uploads.values() if u.publish_id == publish_id), None)


def tt_reply(
    data: Any = None,
    code: str = "ok",
    message: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {
        "data": data if data is not None else {},
        "error": {"code": code, "message": message, "log_id": secrets.token_hex(8)},
    }
    return json_reply(body, status, headers)


class _TikTok:
    def __init__(self, state: TikTokState) -> None:
        self.s = state

    def _auth(self, request: web.Request) -> str:
        account = self.s.account_for(bearer_token(request))
        if account is None:
            raise Reject(
                tt_reply(
                    code="access_token_invalid",
                    message="The access token is invalid or not found in the request.",
                    status=401,
                )
            )
        return account

    async def user_info(self, request: web.Request) -> web.Response:
        """``GET /v2/user/info/?fields=open_id,display_name``: who the token belongs to."""
        account = self._auth(request)
        return tt_reply({"user": {"open_id": f"open-{account}", "display_name": account}})

    async def init(self, request: web.Request) -> web.Response:
        account = self._auth(request)
        fields = await read_fields(request)
        source = fields.get("source_info") or {}
        post_info = fields.get("post_info") or {}
        if source.get("source") != "FILE_UPLOAD":
            return tt_reply(
                code="invalid_params", message="Only FILE_UPLOAD is supported by this fake", status=400
            )
        size, chunk, count = (
            int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count")
        )
        single = size < self.s.min_chunk and chunk == size and count == 1
        # media-transfer-guide: 5-64 MB chunks, count = size // chunk, between 1 and 1000 chunks.
        if size <= 0 or not (
            single
            or (self.s.min_chunk <= chunk <= self.s.max_chunk and count == size // chunk and count <= 1000)
        ):
            return tt_reply(
                code="invalid_params", message="The chunk size or total chunk count is invalid", status=400
            )
        if len(str(post_info.get("title") or "")) > 2200:
            return tt_reply(code="invalid_params", message="title is too long", status=400)
        token = bearer_token(request) or ""
        window = self.s.init_window.take(token, self.s.now())
        if not window.allowed:
            wait = max(1, int((window.reset_at - self.s.now()).total_seconds()))
            return tt_reply(
                code="rate_limit_exceeded",
                message="API rate limit exceeded",
                status=429,
                headers={"Retry-After": str(wait)},
            )
        if not self.s.posts_per_day.peek(account, self.s.now()).allowed:
            return tt_reply(
                code="spam_risk_too_many_posts",
                message="The daily post cap from the API is reached",
                status=403,
            )
        upload_id = secrets.token_hex(8)
        upload = Upload(f"v_pub_file~v2-1.{self.s.next_id()}", account, post_info, size, chunk, count)
        self.s.uploads[upload_id] = upload
        upload_url = (
            f"{self.s.base(request)}/upload/?upload_id={upload_id}&upload_token={secrets.token_hex(8)}"
        )
        return tt_reply({"publish_id": upload.publish_id, "upload_url": upload_url})

    async def put(self, request: web.Request) -> web.StreamResponse:
        upload = self.s.uploads.get(request.query.get("upload_id", ""))
        if upload is None:
            return tt_reply(
                code="invalid_file_upload", message="upload_url is invalid or expired", status=404
            )
        body = await request.read()
        match = _RANGE.fullmatch(request.headers.get("Content-Range", ""))
        if match is None:
            return tt_reply(code="invalid_file_upload", message="Content-Range is required", status=400)
        first, last, total = (int(g) for g in match.groups())
        index = first // upload.chunk
        expected_end = upload.size if index == upload.count - 1 else first + upload.chunk
        if (
            total != upload.size
            or first % upload.chunk
            or index >= upload.count
            or last + 1 != expected_end
            or len(body) != last - first + 1
            or first > len(upload.data)
        ):
            return tt_reply(
                code="invalid_file_upload",
                message="The chunk does not follow the declared chunks",
                status=400,
            )
        mode = self.s.interrupt.pop(first, None)
        if mode == "drop":
            raise _drop(request)
        del upload.data[first:]
        upload.data.extend(body)
        upload.ranges.append((first, last))
        complete = len(upload.data) == upload.size
        if complete and upload.post_id is None:
            self._post(upload)
        if mode == "drop_after_processing":
            raise _drop(request)
        return web.Response(status=201 if complete else 206)

    def _post(self, upload: Upload) -> None:
        self.s.posts_per_day.take(upload.account, self.s.now())
        upload.post_id = str(7_300_000_000_000_000_000 + self.s.next_id())
        upload.polls_left = self.s.processing_polls
        self.s.posts.append(
            FakePost(
                id=upload.post_id,
                account=upload.account,
                text=str(upload.post_info.get("title") or ""),
                created_at=self.s.now(),
                url=f"https://www.tiktok.com/@{upload.account}/video/{upload.post_id}",
                data={
                    "publish_id": upload.publish_id,
                    "post_info": upload.post_info,
                    "size": len(upload.data),
                    "sha256": hashlib.sha256(upload.data).hexdigest(),
                },
            )
        )

    async def status(self, request: web.Request) -> web.Response:
        self._auth(request)
        fields = await read_fields(request)
        upload = self.s.by_publish_id(str(fields.get("publish_id") or ""))
        if upload is None:
            return tt_reply(code="invalid_params", message="publish_id not found", status=400)
        data: dict[str, Any] = {"uploaded_bytes": len(upload.data), "fail_reason": ""}
        if upload.post_id is None:
            upload.queries.append(len(upload.data))
            data["status"] = "PROCESSING_UPLOAD"
        elif upload.polls_left > 0:
            upload.polls_left -= 1
            data["status"] = "PROCESSING_DOWNLOAD"
        else:
            data["status"] = "PUBLISH_COMPLETE"
            data["publicaly_available_post_id"] = [int(upload.post_id)]
        return tt_reply(data)

    async def uploads(self, request: web.Request) -> web.Response:
        return json_reply([upload.to_json() for upload in self.s.uploads.values()])

    async def query(self, request: web.Request) -> web.Response:
        self._auth(request)
        # display-api video/query: ``fields`` (query string) is required and the answer holds
        # exactly the fields asked for.
        wanted = [f for f in request.query.get("fields", "").split(",") if f]
        if not wanted:
            return tt_reply(code="invalid_params", message="fields is required", status=400)
        fields = await read_fields(request)
        videos = []
        for video_id in (fields.get("filters") or {}).get("video_ids") or []:
            post = self.s.find_post(str(video_id))
            if post is None:
                continue
            likes, comments, shares = self.s.counts(post)
            video = {
                "id": post.id,
                "like_count": likes,
                "comment_count": comments,
                "share_count": shares,
                "view_count": post.reach or 0,
            }
            videos.append({k: v for k, v in video.items() if k in wanted})
        return tt_reply({"videos": videos, "cursor": 0, "has_more": False})


def _drop(request: web.Request) -> web.HTTPException:
    if request.transport is not None:
        request.transport.abort()
    return web.HTTPInternalServerError()


def create_app(state: TikTokState | None = None) -> web.Application:
    state = state or TikTokState()
    fake = _TikTok(state)
    app = new_fake_app(state)
    add_authority(app, state, "tiktok")
    app.router.add_post("/v2/post/publish/video/init/", fake.init)
    app.router.add_get("/v2/user/info/", fake.user_info)
    app.router.add_put("/upload/", fake.put)
    app.router.add_post("/v2/post/publish/status/fetch/", fake.status)
    app.router.add_post("/v2/video/query/", fake.query)
    app.router.add_get("/_fake/uploads", fake.uploads)
    return app

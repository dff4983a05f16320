"""TikTok Content Posting API: init → upload in chunks → status (platforms.md §8).

Contract (developers.tiktok.com: content-posting-api-reference-direct-post, media transfer guide,
get-video-status, tiktok-api-v2-error-handling):

1. ``POST /v2/post/publish/video/init/`` with ``post_info`` (title, privacy_level…) and
   ``source_info`` ``{"source":"FILE_UPLOAD","video_size","chunk_size","total_chunk_count"}``
   answers ``publish_id`` and ``upload_url``. Nothing is posted yet.
2. ``PUT upload_url`` per chunk, in order, with ``Content-Range: bytes A-B/TOTAL``: 206 until the
   last, 201 then. Chunks are 5-64 MB; ``total_chunk_count`` is ``video_size // chunk_size``
   and the last chunk takes the remainder (so it may reach 128 MB). A video under 5 MB is one
   chunk.
3. ``POST /v2/post/publish/status/fetch/`` ``{"publish_id"}``: PROCESSING_UPLOAD (with
   ``uploaded_bytes``), PROCESSING_DOWNLOAD, SEND_TO_USER_INBOX, PUBLISH_COMPLETE (with
   ``publicaly_available_post_id``, sic, once moderation is done), FAILED (``fail_reason``).

Every reply has ``"error":{"code","message","log_id"}``, ``"ok"`` on success. Codes:
``access_token_invalid``/``scope_not_authorized`` (401) → ``AuthExpired``;
``rate_limit_exceeded`` (429; per-token minute windows, init 6/min) → ``RateLimited`` for
``Retry-After`` or a minute; ``spam_risk_too_many_posts`` (the creator's undocumented daily cap)
→ ``RateLimited`` for a day; ``spam_risk_too_many_pending_share`` and ``reached_active_user_cap``
(the app's daily cap of publishing creators) → ``RateLimited`` for an hour;
``spam_risk_user_banned_from_posting`` → ``AuthExpired`` (a person must act); other 4xx codes
(``invalid_params``, ``*_check_failed``, ``privacy_level_option_mismatch``…) → ``Permanent``;
``internal_error``/5xx → ``Temporary``, except a 5xx to the last chunk, which may have made
the post: ``Ambiguous`` (``_http.send``), settled by the recorded ``publish_id``'s status.

Publishing and polling are separate steps. The job's ``publish_id``, ``upload_url``, chunk size
and total are written to the upload log (``upload_state.UploadLog``) right after init. A retry
with a log entry never calls init again: it asks ``status/fetch`` and, if the upload stopped,
sends only the chunks after ``uploaded_bytes``; if it is processing, it only polls. Polling
that outlasts ``poll_limit`` raises ``StatusPending`` (``Temporary``); the next attempt polls
again. ``find_by_marker`` is the same status read: complete → published; an upload still
missing bytes → absent (``publish`` resumes it); every byte sent but still processing →
unknown, asked again (the post is coming, and a retry without this log would make another).
Without a log entry TikTok gives us no way to search (the Display API needs another scope), so
it is ``NotSupported`` and the job becomes unconfirmed rather than risking a second post.

Target options: ``privacy_level`` (default ``SELF_ONLY``: unaudited clients may post only
privately), ``username`` (for the post URL).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Unpack

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content, check_media, is_video
from services.publisher.adapters.common import ChunkedOptions, ChunkedUploadAdapter, until_processed
from services.publisher.adapters.media import MediaFetcher
from services.publisher.adapters.upload_state import chunk_body
from shared.capabilities import capabilities_for, post_text
from shared.json_values import as_int, as_object
from shared.platform_throttles import retry_after as retry_after_header

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
DEFAULT_CHUNK = 10 * MB
_AUTH = frozenset(
    {
        "access_token_invalid",
        "scope_not_authorized",
        "scope_permission_missed",
        "spam_risk_user_banned_from_posting",
    }
)
_WAITS = {
    "rate_limit_exceeded": 60.0,
    "spam_risk_too_many_posts": 24 * 3600.0,
    "spam_risk_too_many_pending_share": 3600.0,
    # The app's daily cap of publishing creators: a rolling window that frees as it moves, so a
    # later try may pass; it is no reason to fail the post for good.
    "reached_active_user_cap": 3600.0,
}
_PROCESSING = frozenset({"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX"})


class StatusPending(port.Temporary):
    """Uploaded, still processing; the next attempt only polls (``publish_id`` is logged)."""

    def __init__(self, message: str, *, publish_id: str, retry_after: float | None = None) -> None:
        super().__init__(message, code="status_pending", retry_after=retry_after)
        self.publish_id = publish_id


def chunk_plan(size: int, wanted: int, minimum: int = MIN_CHUNK) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) by TikTok's rule: the last chunk takes the remainder."""
    if size < minimum:
        return size, 1
    chunk = max(minimum, min(wanted, size))
    return chunk, size // chunk


class TikTokAdapter(ChunkedUploadAdapter):
    platform = "tiktok"
    default_chunk = DEFAULT_CHUNK

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,
        *,
        min_chunk: int = MIN_CHUNK,
        poll_interval: float = 3.0,
        poll_limit: float = 30.0,
        **options: Unpack[ChunkedOptions],
    ) -> None:
        super().__init__(session, fetcher, **options)
        self._min_chunk = min_chunk
        self._poll_interval, self._poll_limit = poll_interval, poll_limit

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        caps = check_content(self.platform, request.content)
        entry = self._log.get(request.job_id)
        status: dict[str, Any] = {}
        if entry is not None:
            status = await self._status(target, str(entry["publish_id"]))
            if (
                status.get("status") != "PROCESSING_UPLOAD"
                or (as_int(status.get("uploaded_bytes")) or 0) >= entry["total"]
            ):
                return await self._settle(target, request, entry, status)
        video = next(m for m in request.content.media if is_video(m))
        fetched = await self._fetcher.fetch(video)
        check_media(caps, video, len(fetched.data))
        data = memoryview(fetched.data)
        if entry is None or entry.get("total") != len(data):
            entry = await self._init(target, request, fetched.content_type, len(data))
            offset = 0
        else:
            offset = as_int(status.get("uploaded_bytes")) or 0
        await self._upload(target, request.job_id, entry, data, offset, fetched.content_type)
        return await self._settle(
            target, request, entry, await self._status(target, str(entry["publish_id"]))
        )

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        entry = self._log.get(request.job_id)
        if entry is None:
            raise port.NotSupported(
                "tiktok: no publish_id recorded for this job, and TikTok posts can't be searched",
                code="no_publish_id",
            )
        status = await self._status(target, str(entry["publish_id"]))
        state = status.get("status")
        if state == "PUBLISH_COMPLETE":
            self._log.drop(request.job_id)
            return self._published(target, entry, status)
        if state == "FAILED":
            self._log.drop(request.job_id)
            return port.Absent("tiktok: the recorded upload failed; nothing was posted")
        if state == "PROCESSING_UPLOAD" and (as_int(status.get("uploaded_bytes")) or 0) < entry["total"]:
            # Bytes missing: no post can come of it until ``publish`` sends them into the same
            # publish_id. One publish_id is one post at most, so even beside a worker still
            # uploading into it no second post can come of it (a clash of chunks fails an
            # attempt, it never duplicates).
            return port.Absent(f"tiktok: the recorded upload is {state}", safe_while_live=True)
        # Every byte is there: the post is on its way. Only this state dir can follow it, so it
        # is no absence a retry elsewhere may act on; asked again, it becomes the post.
        return port.Unknown(
            f"tiktok: the upload is complete and {state or 'processing'}; the post is on its way",
            ask_again_at=self._clock() + timedelta(seconds=self._poll_interval),
        )

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self.call(
            target,
            "POST",
            "/v2/video/query/",
            creates_post=False,
            params={"fields": "id,like_count,comment_count,share_count,view_count"},
            json={"filters": {"video_ids": [post_id]}},
        )
        videos = as_object(self._ok(target, reply)).get("videos")
        if not isinstance(videos, list) or not videos:
            raise port.Permanent(f"tiktok: video {post_id} not found", code="not_found")
        video = as_object(videos[0])
        return port.Engagement(
            reactions=as_int(video.get("like_count")) or 0,
            comments=as_int(video.get("comment_count")) or 0,
            shares=as_int(video.get("share_count")) or 0,
            reach=as_int(video.get("view_count")),
        )

    # ---- steps -------------------------------------------------------------------------------
    async def _init(
        self, target: port.Target, request: port.PublishRequest, content_type: str, size: int
    ) -> dict[str, Any]:
        chunk, count = chunk_plan(size, self._chunk, self._min_chunk)
        body = {
            "post_info": {
                "title": post_text(capabilities_for(self.platform), request.content),
                "privacy_level": target.options.get("privacy_level", "SELF_ONLY"),
                "disable_comment": False,
                "disable_duet": False,
                "disable_stitch": False,
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": count,
            },
        }
        # init reserves an upload; only its last chunk makes the post.
        data = self._ok(
            target,
            await self.call(target, "POST", "/v2/post/publish/video/init/", creates_post=False, json=body),
        )
        publish_id, upload_url = data.get("publish_id"), data.get("upload_url")
        if not isinstance(publish_id, str) or not isinstance(upload_url, str):
            raise port.Temporary(
                "tiktok: init answered without publish_id or upload_url", code="malformed_reply"
            )
        entry = {
            "publish_id": publish_id,
            "upload_url": upload_url,
            "total": size,
            "chunk": chunk,
            "count": count,
            "type": content_type,
        }
        self._log.put(request.job_id, entry)
        return entry

    async def _upload(
        self,
        target: port.Target,
        job_id: str,
        entry: dict[str, Any],
        data: memoryview,
        offset: int,
        content_type: str,
    ) -> None:
        total, chunk, count = int(entry["total"]), int(entry["chunk"]), int(entry["count"])
        index = offset // chunk
        while index < count:
            start = index * chunk
            end = total if index == count - 1 else start + chunk
            stream, length = chunk_body(bytes(data[start:end]))
            reply = await self.call(
                target,
                "PUT",
                url=str(entry["upload_url"]),
                # The last chunk makes TikTok post the video; the log's publish_id settles it.
                creates_post=index == count - 1,
                authorise=False,  # the upload URL is pre-signed
                headers={
                    "Content-Type": content_type,
                    "Content-Range": f"bytes {start}-{end - 1}/{total}",
                    **length,
                },
                data=stream,
            )
            if reply.status not in (200, 201, 206):
                raise self.classify_error(target, reply)
            index += 1
            self._log.update(job_id, uploaded=end)

    async def _settle(
        self, target: port.Target, request: port.PublishRequest, entry: dict[str, Any], status: dict[str, Any]
    ) -> port.Published:
        publish_id = str(entry["publish_id"])

        def pending(found: dict[str, Any], waited: float) -> port.Temporary:
            return StatusPending(
                f"tiktok: {publish_id} still {found.get('status')} after {waited:.0f}s",
                publish_id=publish_id,
                retry_after=self._poll_limit,
            )

        status = await until_processed(
            status,
            lambda: self._status(target, publish_id),
            lambda found: found.get("status") not in _PROCESSING,
            interval=self._poll_interval,
            limit=self._poll_limit,
            pending=pending,
        )
        if status.get("status") == "PUBLISH_COMPLETE":
            self._log.drop(request.job_id)
            return self._published(target, entry, status)
        self._log.drop(request.job_id)  # FAILED: the next attempt starts over with a new init
        reason = str(status.get("fail_reason") or status.get("status") or "unknown")
        if reason.endswith("_check_failed"):  # the video itself was refused (format, duration…)
            raise port.Permanent(f"tiktok: the post failed: {reason}", code=reason)
        raise port.Temporary(f"tiktok: the post failed: {reason}", code=reason)

    def _published(
        self, target: port.Target, entry: dict[str, Any], status: dict[str, Any]
    ) -> port.Published:
        ids = status.get("publicaly_available_post_id")
        post_id = str(ids[0]) if isinstance(ids, list) and ids else None
        username = target.options.get("username")
        url = f"https://www.tiktok.com/@{username}/video/{post_id}" if post_id and username else None
        # Private (SELF_ONLY) posts never get a public id: the publish_id is what we can keep.
        return port.Published(post_id or str(entry["publish_id"]), url)

    async def _status(self, target: port.Target, publish_id: str) -> dict[str, Any]:
        reply = await self.call(
            target,
            "POST",
            "/v2/post/publish/status/fetch/",
            creates_post=False,
            json={"publish_id": publish_id},
        )
        return self._ok(target, reply)

    # ---- HTTP --------------------------------------------------------------------------------
    def _ok(self, target: port.Target, reply: Reply) -> dict[str, Any]:
        body = reply.json_object()
        if reply.status == 200 and as_object(body.get("error")).get("code") == "ok":
            return as_object(body.get("data"))
        raise self.classify_error(target, reply)

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        error = as_object(reply.json_object().get("error"))
        code = str(error.get("code") or f"http_{reply.status}")
        status = reply.status
        message = f"tiktok: {code}: {str(error.get('message') or f'HTTP {status}')[:1000]}"
        if code in _AUTH or status == 401:
            return port.AuthExpired(message, code=code, http_status=status)
        if code in _WAITS or status == 429:
            wait = retry_after_header(reply.headers, self._clock()) or _WAITS.get(code, 60.0)
            self._quota.record(target, port.RateLimitInfo(remaining=0))
            return port.RateLimited(message, code=code, http_status=status, retry_after=wait)
        if status >= 500 or code == "internal_error" or status == 200:
            return port.Temporary(
                message, code=code if status != 200 else "malformed_reply", http_status=status
            )
        return port.Permanent(message, code=code, http_status=status)

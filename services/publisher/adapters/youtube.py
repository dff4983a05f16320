"""YouTube Data API v3: a post is a video, uploaded with a resumable ``videos.insert``.

Contract (platforms.md §7; developers.google.com/youtube/v3/guides/using_resumable_upload_protocol,
docs/videos/insert, docs/errors, determine_quota_cost):

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video's
   metadata as JSON and ``X-Upload-Content-Type``/``X-Upload-Content-Length``: the ``Location``
   header is the session URI. Nothing is published by this call.
2. ``PUT <session URI>`` with ``Content-Range: bytes FIRST-LAST/TOTAL`` for each chunk (a
   multiple of 256 KiB except the last). ``308 Resume Incomplete`` with ``Range: bytes=0-N``
   says what the server holds; the chunk that completes the upload answers 200/201 with the
   Video resource (``id``), and only then does the video exist.
3. After an interruption, ``PUT <session URI>`` with ``Content-Range: bytes */TOTAL`` and no
   body asks how far it got (308 + ``Range``), or answers the Video if it completed.

Resuming, not restarting. Each job's session URI, total size and confirmed offset are kept in a
small JSON file (``upload_state.UploadLog``, under the publisher's state dir) before the first byte is
sent and after every chunk. A publisher that crashed mid-upload asks the session for its offset
and sends only the bytes after it: no byte range is uploaded twice (the server's ``Range`` is the
truth, not our note). A lost file costs a fresh upload, never a duplicate: an incomplete
session publishes nothing. Only the completing chunk can be ``Ambiguous``; ``find_by_marker``
asks the session (complete → published; incomplete → absent, and the next ``publish`` resumes
it: one session can never make two videos), and without a recorded
session it reads the channel's uploads playlist for a video with this request's title and
description (``lookup.judge_listing``: a video of another worker still uploading is not listed,
so that answer waits for the attempt's lease to pass).

Errors ``{"error":{"code","message","errors":[{"reason","domain"}]}}``:
- 401 ``authError`` → ``AuthExpired``; 403 ``forbidden`` (scope missing) → ``AuthExpired``;
- 403 ``quotaExceeded``/``dailyLimitExceeded`` → ``RateLimited`` until the next midnight
  Pacific, when the project quota resets; 403 ``rateLimitExceeded``/``userRateLimitExceeded``
  → ``RateLimited`` (short: honours ``Retry-After``);
- 400 ``uploadLimitExceeded`` (the channel's own daily upload cap) → ``RateLimited`` for 24 h,
  as platforms.md says ("retry after 24 h");
- other 4xx (``invalidTitle``, ``invalidDescription``…) → ``Permanent``; 5xx → ``Temporary``,
  except to the completing chunk, whose 5xx may hide a video made: ``Ambiguous``
  (``_http.send``), settled by asking the session.

Target options: ``privacy`` (public | unlisted | private, default public), ``category_id``
(default 25, News & Politics), ``made_for_kids`` ("true"/"false", default false).
"""

from __future__ import annotations

import re

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply, parse_iso
from services.publisher.adapters.checks import check_content, check_media, is_video
from services.publisher.adapters.common import ChunkedUploadAdapter
from services.publisher.adapters.lookup import (
    Listed,
    Verdict,
    verdict,
)
from services.publisher.adapters.resets import PACIFIC, next_midnight
from services.publisher.adapters.upload_state import chunk_body
from shared.capabilities import capabilities_for, post_text
from shared.events import Content
from shared.json_values import as_int, as_list, as_object
from shared.platform_throttles import YOUTUBE_QUOTA_DAY, YOUTUBE_SHORT_THROTTLE, youtube_reason
from shared.platform_throttles import retry_after as retry_after_header

CHUNK_UNIT = 256 * 1024  # resumable chunks are multiples of 256 KiB (except the last)
DEFAULT_CHUNK = 32 * CHUNK_UNIT  # 8 MiB
TITLE_MAX = 100
LOOKUP_LIMIT = 50  # playlistItems' largest page
_RANGE = re.compile(r"bytes=0-(\d+)")
_AUTH = frozenset({"authError", "forbidden", "insufficientPermissions", "youtubeSignupRequired"})


def title_and_description(content: Content) -> tuple[str, str]:
    """The title is the text's first line, the description all of it (with the link).

    YouTube refuses ``<`` and ``>`` in both (``invalidTitle``/``invalidDescription``) and titles
    over 100 characters, so those are dropped and the title cut rather than the post failed.
    """
    description = post_text(capabilities_for("youtube"), content)
    first = next((line.strip() for line in (content.text or "").splitlines() if line.strip()), "")
    title = re.sub(r"[<>]", "", first)[:TITLE_MAX].strip() or "Video"
    return title, re.sub(r"[<>]", "", description)


class YouTubeAdapter(ChunkedUploadAdapter):
    platform = "youtube"
    default_chunk = DEFAULT_CHUNK
    chunk_unit = CHUNK_UNIT

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        content = request.content
        caps = check_content(self.platform, content)
        video = next(m for m in content.media if is_video(m))
        fetched = await self._fetcher.fetch(video)
        check_media(caps, video, len(fetched.data))
        data = memoryview(fetched.data)
        total = len(data)
        entry = self._log.get(request.job_id)
        session_uri: str | None = None
        offset = 0
        if entry is not None and entry.get("total") == total and isinstance(entry.get("session"), str):
            state = await self._query(target, entry["session"], total)
            if isinstance(state, port.Published):
                self._log.drop(request.job_id)
                return state
            if state is not None:
                session_uri, offset = entry["session"], state
        if session_uri is None:
            session_uri = await self._open(target, content, fetched.content_type, total)
            self._log.put(request.job_id, {"session": session_uri, "total": total, "offset": 0})
        return await self._upload(target, request.job_id, session_uri, data, offset)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        entry = self._log.get(request.job_id)
        if (
            entry is not None
            and isinstance(entry.get("session"), str)
            and isinstance(entry.get("total"), int)
        ):
            state = await self._query(target, entry["session"], entry["total"])
            if isinstance(state, port.Published):
                return state
            if state is not None:
                # publish resumes it. One session is one video at most, so even beside a worker
                # still sending chunks into it no second video can come of it (the server's Range
                # realigns both; at worst a range goes up twice), and a crashed upload resumes at
                # once instead of waiting out a 30-minute lease.
                return port.Absent(
                    "youtube: the upload session is incomplete; publish resumes it", safe_while_live=True
                )
            # The session expired: no video came of it, but another may be under way elsewhere.
            return port.Absent("youtube: the upload session expired without a video")
        return await self._find_in_uploads(target, request)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self.call(
            target, "GET", "/youtube/v3/videos", params={"part": "statistics", "id": post_id}
        )
        if reply.status != 200:
            raise self.classify_error(target, reply)
        items = reply.json_object().get("items")
        if not isinstance(items, list) or not items:
            raise port.Permanent(f"youtube: video {post_id} not found", code="not_found")
        stats = as_object(as_object(items[0]).get("statistics"))
        return port.Engagement(
            reactions=as_int(stats.get("likeCount")) or 0,
            comments=as_int(stats.get("commentCount")) or 0,
            shares=0,  # the Data API has no share count
            reach=as_int(stats.get("viewCount")),
        )

    # ---- the resumable protocol --------------------------------------------------------------
    async def _open(self, target: port.Target, content: Content, content_type: str, total: int) -> str:
        title, description = title_and_description(content)
        metadata = {
            "snippet": {
                "title": title,
                "description": description,
                "categoryId": target.options.get("category_id", "25"),
            },
            "status": {
                "privacyStatus": target.options.get("privacy", "public"),
                "selfDeclaredMadeForKids": target.options.get("made_for_kids", "false") == "true",
            },
        }
        reply = await self.call(
            target,
            "POST",
            "/upload/youtube/v3/videos",
            creates_post=False,  # an upload session holds no video until its last byte arrives
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=metadata,
            headers={"X-Upload-Content-Type": content_type, "X-Upload-Content-Length": str(total)},
        )
        location = reply.headers.get("Location")
        if reply.status != 200 or not location:
            if reply.status == 200:
                raise port.Temporary("youtube: the upload session has no Location", code="malformed_reply")
            raise self.classify_error(target, reply)
        return location

    async def _query(self, target: port.Target, session_uri: str, total: int) -> port.Published | int | None:
        """The session's state: the Video if complete, the next offset if not, None if gone."""
        reply = await self._put(target, session_uri, b"", f"bytes */{total}", creates_post=False)
        if reply.status in (200, 201):
            return self._video(reply)
        if reply.status == 308:
            return _next_offset(reply)
        if reply.status in (404, 410):
            return None  # the session expired (about a week): its bytes are gone, start afresh
        raise self.classify_error(target, reply)

    async def _upload(
        self, target: port.Target, job_id: str, session_uri: str, data: memoryview, offset: int
    ) -> port.Published:
        total = len(data)
        while True:
            end = min(offset + self._chunk, total)
            last = end == total
            reply = await self._put(
                target,
                session_uri,
                bytes(data[offset:end]),
                f"bytes {offset}-{end - 1}/{total}",
                creates_post=last,  # the last byte makes the video
            )
            if reply.status in (200, 201):
                self._log.drop(job_id)
                return self._video(reply)
            if reply.status != 308:
                raise self.classify_error(target, reply)
            offset = _next_offset(reply)
            self._log.update(job_id, offset=offset)
            if offset >= total:  # the server holds everything yet says incomplete: ask again later
                raise port.Temporary(
                    "youtube: upload complete but not acknowledged", code="upload_unacknowledged"
                )

    async def _put(
        self, target: port.Target, url: str, body: bytes, content_range: str, *, creates_post: bool
    ) -> Reply:
        stream, length = chunk_body(body)
        return await self.call(
            target,
            "PUT",
            url=url,
            creates_post=creates_post,
            headers={"Content-Range": content_range, **length},
            data=stream,
            expect=frozenset({308}),  # 308 here is "Resume Incomplete", not a redirect
        )

    def _video(self, reply: Reply) -> port.Published:
        body = reply.json_object()
        video_id = body.get("id")
        if not isinstance(video_id, str) or not video_id:
            raise port.Ambiguous("youtube: upload completed, but the reply has no video id", code="no_id")
        published = parse_iso(str(as_object(body.get("snippet")).get("publishedAt") or ""))
        return port.Published(video_id, f"https://www.youtube.com/watch?v={video_id}", published)

    async def _find_in_uploads(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        reply = await self.call(
            target, "GET", "/youtube/v3/channels", params={"part": "contentDetails", "mine": "true"}
        )
        if reply.status != 200:
            raise self.classify_error(target, reply)
        items = reply.json_object().get("items")
        details = (
            as_object(as_object(items[0]).get("contentDetails")) if isinstance(items, list) and items else {}
        )
        uploads = as_object(details.get("relatedPlaylists")).get("uploads")
        if not isinstance(uploads, str):
            raise port.Temporary(
                "youtube: the channel has no uploads playlist in the reply", code="malformed_reply"
            )
        params = {"part": "snippet", "playlistId": uploads, "maxResults": str(LOOKUP_LIMIT)}
        reply = await self.call(target, "GET", "/youtube/v3/playlistItems", params=params)
        if reply.status != 200:
            raise self.classify_error(target, reply)
        title, description = title_and_description(request.content)
        listed: list[Listed] = []
        for item in as_list(reply.json_object().get("items")):
            snippet = as_object(as_object(item).get("snippet"))
            created = parse_iso(str(snippet.get("publishedAt") or ""))
            judged = (
                verdict(
                    description,
                    str(snippet.get("description") or ""),
                    our_link=request.content.link,
                    their_links=[],
                )
                if snippet.get("title") == title
                else Verdict.NOT_OURS
            )
            video_id = str(as_object(snippet.get("resourceId")).get("videoId") or "")
            found = port.Published(video_id, f"https://www.youtube.com/watch?v={video_id}", created)
            listed.append(Listed(created, judged, found if video_id else None))
        return self.judge(listed, request, page_full=len(listed) >= LOOKUP_LIMIT)

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        err = as_object(reply.json_object().get("error"))
        errors = err.get("errors")
        first = as_object(errors[0]) if isinstance(errors, list) and errors else {}
        reason = youtube_reason(reply.json_object()) or f"http_{reply.status}"
        status = reply.status
        message = (
            f"youtube: {reason}: {str(err.get('message') or first.get('message') or f'HTTP {status}')[:1000]}"
        )
        now = self._clock()
        if status == 401 or reason in _AUTH:
            return port.AuthExpired(message, code=reason, http_status=status)
        if reason in YOUTUBE_QUOTA_DAY:
            reset = next_midnight(now, PACIFIC)
            self._quota.record(target, port.RateLimitInfo(remaining=0, reset_at=reset))
            return port.RateLimited(
                message, code=reason, http_status=status, retry_after=(reset - now).total_seconds()
            )
        if reason == "uploadLimitExceeded":
            return port.RateLimited(message, code=reason, http_status=status, retry_after=24 * 3600.0)
        if reason in YOUTUBE_SHORT_THROTTLE or status == 429:
            return port.RateLimited(
                message, code=reason, http_status=status, retry_after=retry_after_header(reply.headers, now)
            )
        if status >= 500:
            return port.Temporary(message, code=reason, http_status=status)
        return port.Permanent(message, code=reason, http_status=status)


def _next_offset(reply: Reply) -> int:
    """From a 308's ``Range: bytes=0-N``: the next byte to send (0 when the header is absent)."""
    match = _RANGE.fullmatch(reply.headers.get("Range", "").strip())
    return int(match.group(1)) + 1 if match else 0

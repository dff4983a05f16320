"""Reading one page of a post's comments from its platform (the inbox's outbound port).

``CommentReader.read(channel, post, page)`` sends the platform's documented listing request and
returns its decoded JSON; ``services.inbox.parsing`` makes comments of it. Statuses become the
errors of ``services.inbox.errors``: 401/403/404 ``ReadRefused``; 429, 5xx and what
``shared.platform_throttles`` calls a throttle (Graph's usage codes, YouTube's quota reasons)
``ReadThrottled`` with the platform's ``Retry-After`` (or a minute); an answer that is not JSON
``Unreadable``. Every call goes through ``shared.outbound_http.exchange`` (no redirects, capped
bodies). Bluesky sessions are kept per channel, as ``createSession`` is itself limited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from services.inbox.errors import ReadRefused, ReadThrottled, Unreadable
from services.inbox.watched import WatchedPost
from services.inbox.x_conversation import x_search_params
from shared.capabilities import capabilities_for
from shared.channels import Channel
from shared.linkedin_paging import PAGE_SIZE
from shared.outbound_http import OutboundRefused, Reply, exchange
from shared.platform_throttles import retry_after, throttled

MAX_REPLY_BYTES = 4 * 1024 * 1024  # a page of 100 comments with their authors, with a margin
DEFAULT_RETRY_S = 60.0
THREADS_FIELDS = "id,text,username,timestamp,permalink,replied_to,root_post,has_replies"
_IG_FIELDS = "id,text,timestamp,username,from,parent_id,replies{id,text,timestamp,username,from,parent_id}"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]


class CommentReader:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: Mapping[str, str],
        timeout_s: float = 15.0,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._clock = clock
        self.tokens = tokens  # secret name → token; never logged
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._bluesky_jwt: dict[str, str] = {}

    async def read(self, channel: Channel, post: WatchedPost, page: str | None) -> Any:
        token = self.tokens.get(channel.secret or "", "")
        if channel.platform == "bluesky":
            return await self._bluesky(channel, post, token)
        reply = await self._send(channel, listing_request(channel, post, token, page))
        return _decoded(channel, reply)

    async def fetch(self, channel: Channel, request: Request) -> Any:
        """Any documented read of ``channel``'s platform (Telegram's updates), decoded, with the
        same errors as ``read``."""
        return _decoded(channel, await self._send(channel, request))

    async def _bluesky(self, channel: Channel, post: WatchedPost, password: str) -> Any:
        for fresh in (False, True):
            jwt = self._bluesky_jwt.get(channel.id) if not fresh else None
            if jwt is None:
                jwt = await self._bluesky_login(channel, password)
            request = Request(
                "GET",
                f"{_base(channel)}/xrpc/app.bsky.feed.getPostThread",
                {"uri": post.post_id, "depth": "6"},
                {"Authorization": f"Bearer {jwt}"},
            )
            reply = await self._send(channel, request, expected=(200, 400))
            body = reply.json_object()
            if reply.status == 400 and body.get("error") in ("ExpiredToken", "InvalidToken") and not fresh:
                self._bluesky_jwt.pop(channel.id, None)
                continue
            return _decoded(channel, reply)
        raise ReadRefused(f"{channel.id}: Bluesky refused a fresh session", 401)

    async def _bluesky_login(self, channel: Channel, password: str) -> str:
        request = Request("POST", f"{_base(channel)}/xrpc/com.atproto.server.createSession", {}, {})
        reply = await self._send(channel, request, json={"identifier": channel.account, "password": password})
        jwt = _decoded(channel, reply).get("accessJwt")
        if not isinstance(jwt, str):
            raise Unreadable(f"{channel.id}: createSession answered without accessJwt")
        self._bluesky_jwt[channel.id] = jwt
        return jwt

    async def _send(
        self, channel: Channel, request: Request, *, expected: tuple[int, ...] = (200,), **kw: Any
    ) -> Reply:
        try:
            reply = await exchange(
                self._session,
                request.method,
                request.url,
                max_body=MAX_REPLY_BYTES,
                params=request.params,
                headers=request.headers,
                timeout=self._timeout,
                **kw,
            )
        except OutboundRefused as exc:
            raise Unreadable(f"{channel.id}: {exc.message}") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ReadThrottled(
                f"{channel.id}: {type(exc).__name__} reading comments", DEFAULT_RETRY_S
            ) from exc
        if reply.status in expected:
            return reply
        raise classify(channel, reply, self._clock())


def classify(channel: Channel, reply: Reply, now: datetime) -> Exception:
    """The error a non-success answer means (one rule for every platform the inbox reads)."""
    where = f"{channel.id} ({channel.platform}) answered {reply.status}"
    if throttled(reply.status, reply.json()):
        wait = retry_after(reply.headers, now)
        return ReadThrottled(where, DEFAULT_RETRY_S if wait is None else max(1.0, wait))
    if reply.status in (401, 403, 404, 400):
        return ReadRefused(where, reply.status)
    return Unreadable(where)


def _decoded(channel: Channel, reply: Reply) -> Any:
    body = reply.json()
    if not isinstance(body, dict):
        raise Unreadable(f"{channel.id}: the answer is not a JSON object")
    return body


def _base(channel: Channel) -> str:
    return (channel.base_url or "").rstrip("/")


# How many comments a resumed LinkedIn listing reads again before where the last poll stopped:
# comments deleted meanwhile move the later ones forward, and re-reading costs nothing but a key
# already written.
RESUME_OVERLAP = 20


def resume_page(platform: str, last_read: str | None) -> str | None:
    """Where the next poll of a post starts, given the page the last poll read last (pure).

    LinkedIn's Comments API lists a post's comments oldest first (``start``/``count``, at most 100
    a page), so on a busy post the new comments lie past the few pages a poll reads: starting
    again at ``start=0`` would never reach them. Its next poll starts at the last page read, a
    little before. The other polled listings run newest first (Facebook's reverse_chronological,
    YouTube's and X's order, Threads' ``reverse``) or come whole (Mastodon's context, Bluesky's
    thread), so their first page is where new comments are."""
    if platform != "linkedin" or last_read is None:
        return None
    return str(max(0, int(last_read) - RESUME_OVERLAP))


def listing_request(channel: Channel, post: WatchedPost, token: str, page: str | None) -> Request:
    """The documented request for one page of ``post``'s comments (pure; bluesky aside)."""
    base, auth = _base(channel), {"Authorization": f"Bearer {token}"}
    if channel.platform == "mastodon":
        return Request("GET", f"{base}/api/v1/statuses/{post.post_id}/context", {}, auth)
    if channel.platform == "youtube":
        params = {
            "part": "snippet,replies",
            "videoId": post.post_id,
            "maxResults": "100",
            "textFormat": "plainText",
        }
        if page:
            params["pageToken"] = page
        return Request("GET", f"{base}/youtube/v3/commentThreads", params, auth)
    if channel.platform in ("facebook", "instagram"):
        version = capabilities_for(channel.platform).api_version
        if channel.platform == "facebook":
            fields = "id,message,created_time,from,parent,permalink_url"
            # Newest first: a poll reads at most a few pages, and new comments must be on them.
            params = {"filter": "stream", "order": "reverse_chronological", "fields": fields, "limit": "100"}
        else:
            params = {"fields": _IG_FIELDS, "limit": "50"}
        if page:
            params["after"] = page
        return Request("GET", f"{base}/{version}/{post.post_id}/comments", params, auth)
    if channel.platform == "threads":
        version = capabilities_for("threads").api_version
        params = {"fields": THREADS_FIELDS, "reverse": "true"}
        if page:
            params["after"] = page
        return Request("GET", f"{base}/{version}/{post.post_id}/replies", params, auth)
    if channel.platform == "x":
        return Request("GET", f"{base}/2/tweets/search/recent", x_search_params(post.post_id, page), auth)
    if channel.platform == "linkedin":
        # Comments API: the post's URN in the path, URL-encoded (it holds colons); 100 a page.
        headers = {
            **auth,
            "LinkedIn-Version": capabilities_for("linkedin").api_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        params = {"start": page or "0", "count": str(PAGE_SIZE)}
        return Request(
            "GET", f"{base}/rest/socialActions/{quote(post.post_id, safe='')}/comments", params, headers
        )
    raise ValueError(f"the inbox does not poll {channel.platform}")

"""Threads: create a container, wait for it, publish it (platforms.md §12).

Contract (developers.facebook.com/documentation/threads/posts, create-posts/polls, overview):

1. ``POST /{threads-user-id}/threads`` with ``media_type`` TEXT (``text``, optional
   ``link_attachment`` or ``poll_attachment``), IMAGE (``image_url``, public: Meta fetches it) or
   CAROUSEL (``children`` made with ``is_carousel_item=true``). Answers a container id.
2. ``GET /{container-id}?fields=status,error_message``: IN_PROGRESS, FINISHED, ERROR, EXPIRED,
   PUBLISHED.
3. ``POST /{threads-user-id}/threads_publish`` with ``creation_id``: answers the post id.
   Capped at 250 per rolling 24 h; ``GET /{user}/threads_publishing_limit`` reports
   ``quota_usage`` and ``config.quota_total``/``quota_duration``.

Errors are the Graph envelope (``graph.py``): 190 auth, 4/17/32/613 throttling with usage
headers. The code for "publishing limit reached" is unconfirmed; the fake answers 9/2207042 as
Instagram does, which ``graph_error`` maps to ``RateLimited``.

Rate limit: before publishing we read ``threads_publishing_limit``; when the quota is used up we
don't call ``threads_publish`` at all. Either way, a used-up quota is ``RateLimited`` with
``retry_after`` = when the oldest post of the window leaves it, read from the account's own
recent posts (``GET /{user}/threads?since=…``).

Exactly once: as on Instagram, only ``threads_publish`` can be ``Ambiguous``; the container is
remembered per job in memory, and ``resume`` never creates another. ``find_by_marker`` reads the
account's latest posts for this request's text, no older than the first attempt.

Target options: ``threads_user_id`` (defaults to the account).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import orjson

from services.publisher.adapters._http import Reply, send, utcnow
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import (
    HttpAdapter,
    account_key,
    as_int,
    as_list,
    as_object,
    compose_text,
)
from services.publisher.adapters.graph import (
    auth_header,
    graph_error,
    graph_url,
    parse_graph_time,
    usage_info,
)
from services.publisher.adapters.lookup import (
    LISTING_SETTLE,
    Listed,
    judge_listing,
    not_before,
    verdict,
)
from services.publisher.adapters.media import MediaFetcher
from services.publisher.adapters.port import (
    Ambiguous,
    Engagement,
    Lookup,
    Permanent,
    Published,
    PublishRequest,
    RateLimited,
    RateLimitInfo,
    Target,
    Temporary,
)
from shared.events import Content

LOOKUP_LIMIT = 25
QUOTA_PAGE = 100
_POLL_KEYS = ("option_a", "option_b", "option_c", "option_d")


class ContainerPending(Temporary):
    """The container is still processing; ``resume`` with ``container_id`` later."""

    def __init__(self, message: str, *, container_id: str, retry_after: float | None = None) -> None:
        super().__init__(message, code="container_pending", retry_after=retry_after)
        self.container_id = container_id


class ThreadsAdapter(HttpAdapter):
    platform = "threads"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,  # unused: Meta fetches images from their public URL
        *,
        timeout: aiohttp.ClientTimeout | None = None,
        poll_interval: float = 1.0,
        poll_limit: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
        listing_settle: timedelta = LISTING_SETTLE,
    ) -> None:
        super().__init__(session, fetcher, timeout=timeout, clock=clock, listing_settle=listing_settle)
        self._poll_interval = poll_interval
        self._poll_limit = poll_limit
        self._containers: dict[tuple[str, str, str], str] = {}

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        text = compose_text(request.content)
        check_content(self.platform, request.content, text=text)
        key = (*account_key(target), request.marker)
        container = self._containers.get(key)
        if container is None:
            await self._check_quota(target)
            container = await self._create(target, request.content, text)
            self._containers[key] = container
        return await self.resume(target, request, container)

    async def resume(self, target: Target, request: PublishRequest, container_id: str) -> Published:
        """Wait for ``container_id`` and publish it, unless it already was. Never creates one."""
        key = (*account_key(target), request.marker)
        if await self._await(target, container_id) == "PUBLISHED":
            found = await self.find_by_marker(target, request)
            if not isinstance(found, Published):
                raise Ambiguous("threads: container published but the post isn't listed yet")
            self._containers.pop(key, None)
            return found
        await self._check_quota(target)
        reply = await self._call(
            target,
            "POST",
            f"/{_user(target)}/threads_publish",
            ambiguous=True,
            data={"creation_id": container_id},
        )
        body = reply.json() if reply.status == 200 else await self._ok(target, reply)
        post_id = str(body.get("id") or "") if isinstance(body, dict) else ""
        self._containers.pop(key, None)
        if not post_id:
            raise Ambiguous("threads: published, but the reply has no id", code="no_id")
        return await self._permalink(target, post_id)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        earliest = not_before(request.first_attempt_at)
        params = {"limit": str(LOOKUP_LIMIT)}
        if earliest is not None:
            # Only posts since the attempt: a page that is not full is then the whole window.
            params["since"] = str(int(earliest.timestamp()))
        posts = await self._recent(target, params)
        ours = compose_text(request.content)
        listed: list[Listed] = []
        for post in posts:
            created = parse_graph_time(post.get("timestamp"))
            links = [str(post["link_attachment_url"])] if post.get("link_attachment_url") else []
            judged = verdict(
                ours, str(post.get("text") or ""), our_link=request.content.link, their_links=links
            )
            found = Published(str(post.get("id") or ""), post.get("permalink"), created)
            listed.append(Listed(created, judged, found if found.post_id else None))
        return judge_listing(
            self.platform,
            listed,
            page_full=len(listed) >= LOOKUP_LIMIT,
            request=request,
            now=self._clock(),
            settle=self._listing_settle,
        )

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        params = {"metric": "views,likes,replies,reposts,quotes,shares"}
        body = await self._ok(target, await self._call(target, "GET", f"/{post_id}/insights", params=params))
        values: dict[str, int] = {}
        for metric in as_list(body.get("data")):
            if not isinstance(metric, dict):
                continue
            total = metric.get("total_value") or (as_list(metric.get("values")) or [{}])[-1]
            values[str(metric.get("name"))] = as_int(as_object(total).get("value")) or 0
        return Engagement(
            reactions=values.get("likes", 0),
            comments=values.get("replies", 0),
            shares=values.get("reposts", 0) + values.get("quotes", 0) + values.get("shares", 0),
            reach=values.get("views"),
        )

    # ---- steps -------------------------------------------------------------------------------
    async def _create(self, target: Target, content: Content, text: str) -> str:
        if len(content.media) > 1:
            children = [
                await self._container(
                    target, {"media_type": "IMAGE", "image_url": m.url, "is_carousel_item": "true"}
                )
                for m in content.media
            ]
            fields = {"media_type": "CAROUSEL", "children": ",".join(children), "text": text}
        elif content.media:
            fields = {"media_type": "IMAGE", "image_url": content.media[0].url, "text": text}
            if content.media[0].alt:
                fields["alt_text"] = content.media[0].alt
        else:
            fields = {"media_type": "TEXT", "text": text}
            if content.poll is not None:
                options = dict(zip(_POLL_KEYS, content.poll.options, strict=False))
                fields["poll_attachment"] = orjson.dumps(options).decode()
            elif content.link:
                fields["link_attachment"] = content.link  # text posts only (§12 (c))
        return await self._container(target, fields)

    async def _container(self, target: Target, fields: dict[str, str]) -> str:
        reply = await self._call(target, "POST", f"/{_user(target)}/threads", data=fields)
        container = str((await self._ok(target, reply)).get("id") or "")
        if not container:
            raise Temporary("threads: container created without an id", code="no_id")
        return container

    async def _await(self, target: Target, container_id: str) -> str:
        waited = 0.0
        while True:
            reply = await self._call(
                target, "GET", f"/{container_id}", params={"fields": "status,error_message"}
            )
            body = await self._ok(target, reply)
            status = str(body.get("status") or "")
            if status == "ERROR":
                self._forget(container_id)
                raise Permanent(
                    f"threads: container failed: {body.get('error_message')}", code="container_error"
                )
            if status == "EXPIRED":
                self._forget(container_id)
                raise Temporary("threads: container expired before publishing", code="container_expired")
            if status in ("FINISHED", "PUBLISHED"):
                return status
            if waited >= self._poll_limit:
                raise ContainerPending(
                    f"threads: container still {status or 'processing'} after {waited:.0f}s",
                    container_id=container_id,
                    retry_after=self._poll_limit,
                )
            await asyncio.sleep(self._poll_interval)
            waited += self._poll_interval

    async def _check_quota(self, target: Target) -> None:
        """``RateLimited`` without publishing when ``threads_publishing_limit`` is used up."""
        params = {"fields": "quota_usage,config"}
        reply = await self._call(target, "GET", f"/{_user(target)}/threads_publishing_limit", params=params)
        body = await self._ok(target, reply)
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        config = as_object(entry.get("config"))
        total, used = config.get("quota_total"), entry.get("quota_usage")
        if not isinstance(total, int) or not isinstance(used, int):
            return  # no usable answer: let threads_publish decide
        info = RateLimitInfo(limit=total, remaining=max(0, total - used))
        if used >= total:
            period = timedelta(seconds=int(config.get("quota_duration") or 86400))
            wait = await self._window_wait(target, period)
            reset = self._clock() + timedelta(seconds=wait) if wait is not None else None
            self._quota.record(target, RateLimitInfo(limit=total, remaining=0, reset_at=reset))
            raise RateLimited(
                f"threads: {used} of {total} posts used in the rolling {period}",
                code="threads_publishing_limit",
                retry_after=wait,
            )
        self._quota.record(target, info)

    async def _window_wait(self, target: Target, period: timedelta) -> float | None:
        """Seconds until the oldest post of the rolling window leaves it, if we can see it."""
        now = self._clock()
        try:
            posts = await self._recent(
                target, {"since": str(int((now - period).timestamp())), "limit": str(QUOTA_PAGE)}
            )
        except (Temporary, Permanent):
            return None
        times = [t for p in posts if (t := parse_graph_time(p.get("timestamp"))) is not None]
        if not times or len(posts) >= QUOTA_PAGE:
            return None  # the window holds more than one page: we can't see its oldest post
        return max(0.0, (min(times) + period - now).total_seconds())

    async def _recent(self, target: Target, params: dict[str, str]) -> list[dict[str, Any]]:
        params = {"fields": "id,text,permalink,timestamp,link_attachment_url", **params}
        body = await self._ok(
            target, await self._call(target, "GET", f"/{_user(target)}/threads", params=params)
        )
        data = body.get("data")
        return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []

    async def _permalink(self, target: Target, post_id: str) -> Published:
        """The post's link; a failed read must not turn a success into an error."""
        try:
            reply = await self._call(target, "GET", f"/{post_id}", params={"fields": "permalink,timestamp"})
            body = await self._ok(target, reply)
        except (Temporary, Permanent):
            return Published(post_id, None)
        return Published(post_id, body.get("permalink"), parse_graph_time(body.get("timestamp")))

    # ---- HTTP --------------------------------------------------------------------------------
    async def _call(
        self, target: Target, method: str, path: str, *, ambiguous: bool = False, **kw: Any
    ) -> Reply:
        reply = await send(
            self._session,
            self.platform,
            method,
            graph_url(self.platform, target, path),
            ambiguous_if_lost=ambiguous,
            timeout=self._timeout,
            headers=auth_header(target.credentials.token),
            **kw,
        )
        self._quota.record(target, usage_info(reply.headers, self._clock()))
        return reply

    async def _ok(self, target: Target, reply: Reply) -> dict[str, Any]:
        if reply.status == 200:
            body = reply.json()
            if not isinstance(body, dict):
                raise Temporary("threads: the reply is not a JSON object", code="malformed_reply")
            return body
        error = graph_error(self.platform, reply, self._clock())
        if isinstance(error, RateLimited) and error.retry_after is None and error.code == "graph_9_2207042":
            error.retry_after = await self._window_wait(target, timedelta(hours=24))
            self._quota.record(target, RateLimitInfo(remaining=0))
        raise error

    def _forget(self, container_id: str) -> None:
        for key, value in list(self._containers.items()):
            if value == container_id:
                del self._containers[key]


def _user(target: Target) -> str:
    return target.options.get("threads_user_id") or target.account

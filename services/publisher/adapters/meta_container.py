"""Meta's container flow, shared by Instagram and Threads: create a container, wait, publish it.

1. ``POST /{user}/{container edge}`` with the post's fields answers a container id (several
   media become ``is_carousel_item`` children of one ``CAROUSEL`` parent).
2. ``GET /{container}?fields=…`` until the status is FINISHED (or PUBLISHED); ERROR and EXPIRED
   end the wait.
3. ``POST /{user}/{publish edge}`` with ``creation_id`` answers the post id.

Why the steps stay separate: creating a container is harmless (an unpublished container is
invisible and expires), so only the publish call can be ``Ambiguous``. A container still
processing raises ``ContainerPending``, an uncertain publish ``PublishAmbiguous``, both carrying
``container_id``; ``resume`` continues from a known container, never creates another, and reads
the container's status first, so a container already PUBLISHED is never published again. Each
job's container is remembered in memory, so a retry in the same process resumes too.

The publishing quota, one rule for both: so many posts per rolling window (Instagram 50 or 100,
Threads 250, a day each). Before a container is made or published, ``GET /{user}/{limit edge}``
(``content_publishing_limit``, ``threads_publishing_limit``) reads ``quota_usage`` and
``config.quota_total``/``quota_duration``; a used-up quota is refused at once, without
publishing. That, or the publish call's own refusal (9/2207042), waits until the oldest post of
the window leaves it, read from the account's own recent posts; when they can't show it, an hour
(``QUOTA_FALLBACK``). Either way the error is a ``PublishingQuota``: the wait spends no attempt.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Unpack

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.common import HttpOptions, account_key, until_processed
from services.publisher.adapters.graph import GraphAdapter, parse_graph_time
from services.publisher.adapters.media import MediaFetcher
from shared.events import Content
from shared.json_values import as_int, as_object

Fields = dict[str, str]

QUOTA_PAGE = 100
# The documented window (content_publishing_limit, threads_publishing_limit: quota_duration 86400).
QUOTA_WINDOW = timedelta(hours=24)
# How long a used-up quota waits when the window's oldest post can't be seen: long enough for
# a rolling day to move on without asking every few seconds, short enough to take the first
# slot it frees within the hour. The wait spends no attempt, so a guess too short costs one call.
QUOTA_FALLBACK = timedelta(hours=1)
_WEEK = timedelta(days=7)


class ContainerPending(port.Temporary):
    """The container is still processing; ``resume`` with ``container_id`` later."""

    def __init__(self, message: str, *, container_id: str, retry_after: float | None = None) -> None:
        super().__init__(message, code="container_pending", retry_after=retry_after)
        self.container_id = container_id


class PublishAmbiguous(port.Ambiguous):
    """The publish call may have happened; the container's status will tell (``resume``)."""

    def __init__(self, message: str, *, container_id: str, code: str = "ambiguous") -> None:
        super().__init__(message, code=code)
        self.container_id = container_id


class ContainerAdapter(GraphAdapter):
    """The flow above; a platform names its edges, its status fields and a post's fields."""

    container_edge: str  # "media", "threads"
    publish_edge: str  # "media_publish", "threads_publish"
    status_field: str  # where the container's state is: "status_code", "status"
    error_field: str  # where the reason of an ERROR is: "status", "error_message"
    user_option: str  # the target option naming the user: "ig_user_id", "threads_user_id"
    limit_edge: str  # the publishing quota: "content_publishing_limit", "threads_publishing_limit"
    # How often and how long one attempt waits for a container before ``ContainerPending``.
    default_poll_interval = 2.0
    default_poll_limit = 60.0

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,  # unused: Meta fetches media from its public URL
        *,
        poll_interval: float | None = None,
        poll_limit: float | None = None,
        **options: Unpack[HttpOptions],
    ) -> None:
        super().__init__(session, fetcher, **options)
        self._poll_interval = self.default_poll_interval if poll_interval is None else poll_interval
        self._poll_limit = self.default_poll_limit if poll_limit is None else poll_limit
        self._containers: dict[tuple[str, str, str], str] = {}  # (base, account, marker) → container

    # ---- what each platform says ---------------------------------------------------------------
    def container_fields(self, content: Content, text: str) -> tuple[list[Fields], Fields]:
        """The carousel children's fields (none for a single item) and the parent's fields."""
        raise NotImplementedError

    async def _ok(self, target: port.Target, reply: Reply) -> dict[str, Any]:
        """The reply's JSON object, or the platform's error raised."""
        raise NotImplementedError

    async def _find_published(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        """The published post, looked up in the account's listing."""
        raise NotImplementedError

    async def _recent(self, target: port.Target, params: dict[str, str]) -> list[dict[str, Any]]:
        """The account's posts, newest first, each with its ``timestamp``."""
        raise NotImplementedError

    # ---- the flow ------------------------------------------------------------------------------
    async def publish_container(
        self, target: port.Target, request: port.PublishRequest, text: str
    ) -> port.Published:
        """Create this job's container (unless this process already has one) and publish it."""
        key = (*account_key(target), request.marker)
        container = self._containers.get(key)
        try:
            if container is None:
                await self._check_quota(target)
                children, parent = self.container_fields(request.content, text)
                if children:
                    ids = [await self._create(target, child) for child in children]
                    parent = {**parent, "children": ",".join(ids)}
                container = await self._create(target, parent)
                self._containers[key] = container
            return await self.resume(target, request, container)
        except port.PublishingQuota as exc:
            if exc.retry_after is None:  # the platform's own refusal, which doesn't say when
                exc.retry_after = await self._quota_wait(target, QUOTA_WINDOW)
            raise

    async def resume(
        self, target: port.Target, request: port.PublishRequest, container_id: str
    ) -> port.Published:
        """Wait for ``container_id`` and publish it, unless it already was. Never creates one."""
        key = (*account_key(target), request.marker)
        if await self._await(target, container_id) == "PUBLISHED":
            found = await self._find_published(target, request)
            if not isinstance(found, port.Published):
                message = f"{self.platform}: container published but the post isn't listed yet"
                raise PublishAmbiguous(message, container_id=container_id)
            self._containers.pop(key, None)
            return found
        # No second quota read here: publish_container read it before making the container, and a
        # quota filled since is refused by the publish call itself (PublishingQuota).
        try:
            reply = await self.call(
                target,
                "POST",
                f"/{self._user(target)}/{self.publish_edge}",
                creates_post=True,
                data={"creation_id": container_id},
            )
        except port.Ambiguous as exc:
            raise PublishAmbiguous(exc.message, container_id=container_id) from exc
        # A 200 whose body we can't read still published: it is ambiguous, not an error.
        body = reply.json_object() if reply.status == 200 else await self._ok(target, reply)
        post_id = str(body.get("id") or "")
        self._containers.pop(key, None)
        if not post_id:
            message = f"{self.platform}: published, but the reply has no id"
            raise PublishAmbiguous(message, container_id=container_id, code="no_id")
        return await self._permalink(target, post_id)

    async def container_status(self, target: port.Target, container_id: str) -> str:
        fields = f"{self.status_field},{self.error_field}"
        body = await self._ok(
            target, await self.call(target, "GET", f"/{container_id}", params={"fields": fields})
        )
        status = str(body.get(self.status_field) or "")
        if status == "ERROR":
            self._forget(container_id)
            message = f"{self.platform}: container failed: {body.get(self.error_field)}"
            raise port.Permanent(message, code="container_error")
        return status

    def known_container(self, target: port.Target, request: port.PublishRequest) -> str | None:
        return self._containers.get((*account_key(target), request.marker))

    async def _create(self, target: port.Target, fields: Fields) -> str:
        # An unpublished container is invisible and expires: a lost reply costs nothing.
        path = f"/{self._user(target)}/{self.container_edge}"
        reply = await self.call(target, "POST", path, creates_post=False, data=fields)
        container = str((await self._ok(target, reply)).get("id") or "")
        if not container:
            raise port.Temporary(f"{self.platform}: container created without an id", code="no_id")
        return container

    async def _await(self, target: port.Target, container_id: str) -> str:
        async def status() -> str:
            found = await self.container_status(target, container_id)
            if found == "EXPIRED":
                self._forget(container_id)
                message = f"{self.platform}: container expired before publishing"
                raise port.Temporary(message, code="container_expired")
            return found

        def pending(found: str, waited: float) -> port.Temporary:
            return ContainerPending(
                f"{self.platform}: container still {found or 'processing'} after {waited:.0f}s",
                container_id=container_id,
                retry_after=self._poll_limit,
            )

        return await until_processed(
            await status(),
            status,
            lambda found: found in ("FINISHED", "PUBLISHED"),
            interval=self._poll_interval,
            limit=self._poll_limit,
            pending=pending,
        )

    async def _permalink(self, target: port.Target, post_id: str) -> port.Published:
        """The post's link; a failed read must not turn a success into an error."""
        try:
            reply = await self.call(target, "GET", f"/{post_id}", params={"fields": "permalink,timestamp"})
            body = await self._ok(target, reply)
        except (port.Temporary, port.Permanent):
            return port.Published(post_id, None)
        return port.Published(post_id, body.get("permalink"), parse_graph_time(body.get("timestamp")))

    # ---- the publishing quota (module docstring) ----------------------------------------------
    async def _check_quota(self, target: port.Target) -> None:
        """``PublishingQuota`` without publishing when the quota reads used up."""
        params = {"fields": "quota_usage,config"}
        reply = await self.call(target, "GET", f"/{self._user(target)}/{self.limit_edge}", params=params)
        data = (await self._ok(target, reply)).get("data")
        entry = as_object(data[0]) if isinstance(data, list) and data else {}
        config = as_object(entry.get("config"))
        total, used = config.get("quota_total"), entry.get("quota_usage")
        if not isinstance(total, int) or not isinstance(used, int):
            return  # no usable answer: let the publish call decide
        if used < total:
            self._quota.record(target, port.RateLimitInfo(limit=total, remaining=total - used))
            return
        period = _quota_period(config.get("quota_duration"))
        raise port.PublishingQuota(
            f"{self.platform}: {used} of {total} posts used in the rolling {period}",
            code=self.limit_edge,
            retry_after=await self._quota_wait(target, period, total),
        )

    async def _quota_wait(self, target: port.Target, period: timedelta, total: int | None = None) -> float:
        """Seconds until the used-up window frees a post (or ``QUOTA_FALLBACK``), recorded."""
        wait = await self._window_wait(target, period)
        seconds = (wait if wait is not None else QUOTA_FALLBACK).total_seconds()
        reset = self._clock() + timedelta(seconds=seconds)
        self._quota.record(target, port.RateLimitInfo(limit=total, remaining=0, reset_at=reset))
        return seconds

    async def _window_wait(self, target: port.Target, period: timedelta) -> timedelta | None:
        """Until the oldest post of the rolling window leaves it; None when we can't see it."""
        now = self._clock()
        start = now - period
        params = {"since": str(int(start.timestamp())), "limit": str(QUOTA_PAGE)}
        try:
            posts = await self._recent(target, params)
        except (port.Temporary, port.Permanent):
            return None
        times = [t for p in posts if (t := parse_graph_time(p.get("timestamp"))) is not None]
        inside = [t for t in times if t > start]  # a listing that ignores ``since`` reads the same
        if not inside or (len(posts) >= QUOTA_PAGE and len(inside) == len(times)):
            return None  # the window holds more than one page: we can't see its oldest post
        return max(timedelta(0), min(inside) + period - now)

    def _user(self, target: port.Target) -> str:
        return target.options.get(self.user_option) or target.account

    def _forget(self, container_id: str) -> None:
        for key, value in list(self._containers.items()):
            if value == container_id:
                del self._containers[key]


def _quota_period(value: object) -> timedelta:
    """The publishing window: ``quota_duration`` seconds (documented 86400); a value that is not a
    number of seconds up to a week is read as the documented day rather than trusted."""
    seconds = as_int(value)
    if seconds is None or not 0 < seconds <= _WEEK.total_seconds():
        return QUOTA_WINDOW
    return timedelta(seconds=seconds)

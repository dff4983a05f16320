"""Instagram content publishing: create a container, wait for it, publish it.

Contract (developers.facebook.com/docs/instagram-platform/content-publishing, ig-user/media,
ig-container, ig-user/media_publish, ig-user/content_publishing_limit, error-codes):

1. ``POST /{ig-user-id}/media`` with ``image_url`` (JPEG on a public URL: Meta fetches it),
   ``caption``, ``alt_text``; or ``media_type=REELS`` + ``video_url``; several images become
   ``is_carousel_item`` children of a ``media_type=CAROUSEL`` parent. Answers a container id.
2. ``GET /{container-id}?fields=status_code,status``: IN_PROGRESS, FINISHED, PUBLISHED, ERROR,
   EXPIRED (not published within 24 h).
3. ``POST /{ig-user-id}/media_publish`` with ``creation_id``: answers the media id. Publishing
   is capped per rolling 24 h (50 in the reference pages); past it, error 9 / 2207042.

Text-only posts and polls don't exist on Instagram: refused as ``Permanent`` before sending.

The steps are separate on purpose. Creating a container is harmless (unpublished containers
are invisible and expire), so only ``media_publish`` can be ``Ambiguous``. A container still
processing raises ``ContainerPending`` and an uncertain publish raises ``PublishAmbiguous``,
both carrying ``container_id``; ``resume`` continues from a known container and never creates
another, and it checks the container's status first, so a container already PUBLISHED is never
published again. The adapter also remembers each job's container in memory, so a retry of the
same job in the same process resumes instead of starting over.

Target options: ``ig_user_id`` (defaults to the account).

Reconciliation: the container's status says whether it was published; without it (after a
restart) ``find_by_marker`` reads the account's latest media and looks for this request's exact
caption, created no earlier than the first attempt when known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from services.publisher.adapters._http import Reply, send, utcnow
from services.publisher.adapters.common import (
    HttpAdapter,
    account_key,
    as_int,
    as_list,
    as_object,
    compose_text,
)
from services.publisher.adapters.graph import (
    IG_PUBLISH_LIMIT,
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
    verdict,
)
from services.publisher.adapters.media import MediaFetcher
from services.publisher.adapters.port import (
    Absent,
    Ambiguous,
    Engagement,
    Lookup,
    Permanent,
    Published,
    PublishRequest,
    RateLimitInfo,
    Target,
    Temporary,
)
from shared.capabilities import capabilities_for
from shared.events import Content, Media

# From the one capability table (shared/capabilities.py), so ingest and the adapter agree.
MAX_CAPTION = capabilities_for("instagram").text_max or 2200
MAX_CAROUSEL = capabilities_for("instagram").max_media
VIDEO_TYPES = ("video/mp4", "video/quicktime")
LOOKUP_LIMIT = 25


class ContainerPending(Temporary):
    """The container is still processing; ``resume`` with ``container_id`` later."""

    def __init__(self, message: str, *, container_id: str, retry_after: float | None = None) -> None:
        super().__init__(message, code="container_pending", retry_after=retry_after)
        self.container_id = container_id


class PublishAmbiguous(Ambiguous):
    """``media_publish`` may have happened; the container's status will tell (``resume``)."""

    def __init__(self, message: str, *, container_id: str) -> None:
        super().__init__(message, code="ambiguous")
        self.container_id = container_id


class InstagramAdapter(HttpAdapter):
    platform = "instagram"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,  # unused: Meta fetches media from its public URL
        *,
        timeout: aiohttp.ClientTimeout | None = None,
        poll_interval: float = 2.0,
        poll_limit: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
        listing_settle: timedelta = LISTING_SETTLE,
    ) -> None:
        super().__init__(session, fetcher, timeout=timeout, clock=clock, listing_settle=listing_settle)
        self._poll_interval = poll_interval
        self._poll_limit = poll_limit
        self._containers: dict[tuple[str, str, str], str] = {}  # (base, account, marker) → container

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        caption = _check(request.content)
        key = (*account_key(target), request.marker)
        container = self._containers.get(key)
        if container is None:
            container = await self._create_container(target, request.content, caption)
            self._containers[key] = container
        return await self.resume(target, request, container)

    async def resume(self, target: Target, request: PublishRequest, container_id: str) -> Published:
        """Wait for ``container_id`` and publish it, unless it already was. Never creates one."""
        key = (*account_key(target), request.marker)
        status = await self._await_container(target, container_id)
        if status == "PUBLISHED":
            found = await self._find_by_caption(target, request)
            if not isinstance(found, Published):
                raise PublishAmbiguous(
                    "instagram: container published but the media isn't listed yet", container_id=container_id
                )
            self._containers.pop(key, None)
            return found
        reply = await self._call(
            target,
            "POST",
            f"/{_ig_user(target)}/media_publish",
            data={"creation_id": container_id},
            ambiguous=True,
            container_id=container_id,
        )
        media_id = str(self._ok(target, reply).get("id") or "")
        self._containers.pop(key, None)
        if not media_id:
            raise PublishAmbiguous("instagram: published, but the reply has no id", container_id=container_id)
        return await self._permalink(target, media_id)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        container = self._containers.get((*account_key(target), request.marker))
        if container is not None and await self._container_status(target, container) != "PUBLISHED":
            # Our container exists and was never published; publishing is this process's next
            # step, and a container publishes once at most.
            return Absent("instagram: our container is not published", safe_while_live=True)
        return await self._find_by_caption(target, request)

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        reply = await self._call(
            target, "GET", f"/{post_id}/insights", params={"metric": "reach,likes,comments,shares"}
        )
        values: dict[str, int] = {}
        for metric in as_list(self._ok(target, reply).get("data")):
            metric = as_object(metric)
            points = as_list(metric.get("values")) or [{}]
            values[str(metric.get("name"))] = as_int(as_object(points[-1]).get("value")) or 0
        return Engagement(
            reactions=values.get("likes", 0),
            comments=values.get("comments", 0),
            shares=values.get("shares", 0),
            reach=values.get("reach"),
        )

    async def _create_container(self, target: Target, content: Content, caption: str) -> str:
        if len(content.media) == 1:
            return await self._container(target, {**_media_fields(content.media[0]), "caption": caption})
        children = [
            await self._container(target, {**_media_fields(m, child=True), "is_carousel_item": "true"})
            for m in content.media
        ]
        fields = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
        return await self._container(target, fields)

    async def _container(self, target: Target, fields: dict[str, str]) -> str:
        reply = await self._call(target, "POST", f"/{_ig_user(target)}/media", data=fields)
        container = str(self._ok(target, reply).get("id") or "")
        if not container:
            raise Temporary("instagram: container created without an id", code="no_id")
        return container

    async def _container_status(self, target: Target, container_id: str) -> str:
        reply = await self._call(target, "GET", f"/{container_id}", params={"fields": "status_code,status"})
        body = self._ok(target, reply)
        status = str(body.get("status_code") or "")
        if status == "ERROR":
            raise Permanent(f"instagram: container failed: {body.get('status')}", code="container_error")
        return status

    async def _await_container(self, target: Target, container_id: str) -> str:
        waited = 0.0
        while True:
            status = await self._container_status(target, container_id)
            if status == "EXPIRED":
                self._forget(container_id)
                raise Temporary("instagram: container expired before publishing", code="container_expired")
            if status in ("FINISHED", "PUBLISHED"):
                return status
            if waited >= self._poll_limit:
                raise ContainerPending(
                    f"instagram: container still {status or 'processing'} after {waited:.0f}s",
                    container_id=container_id,
                    retry_after=self._poll_limit,
                )
            await asyncio.sleep(self._poll_interval)
            waited += self._poll_interval

    async def _find_by_caption(self, target: Target, request: PublishRequest) -> Lookup:
        reply = await self._call(
            target,
            "GET",
            f"/{_ig_user(target)}/media",
            params={"fields": "id,caption,permalink,timestamp", "limit": str(LOOKUP_LIMIT)},
        )
        ours = compose_text(request.content)
        listed: list[Listed] = []
        for media in self._ok(target, reply).get("data") or []:
            if not isinstance(media, dict):
                continue
            created = parse_graph_time(media.get("timestamp"))
            # An image without a caption can't be told from ours when ours has none: MAYBE.
            judged = verdict(
                ours, str(media.get("caption") or ""), our_link=request.content.link, their_links=[]
            )
            found = Published(str(media.get("id") or ""), media.get("permalink"), created)
            listed.append(Listed(created, judged, found if found.post_id else None))
        return judge_listing(
            self.platform,
            listed,
            page_full=len(listed) >= LOOKUP_LIMIT,
            request=request,
            now=self._clock(),
            settle=self._listing_settle,
        )

    async def _permalink(self, target: Target, media_id: str) -> Published:
        """The published media's link; a failed read must not turn a success into an error."""
        try:
            reply = await self._call(target, "GET", f"/{media_id}", params={"fields": "permalink,timestamp"})
            body = self._ok(target, reply)
        except (Temporary, Permanent):
            return Published(media_id, None)
        return Published(media_id, body.get("permalink"), parse_graph_time(body.get("timestamp")))

    async def _call(
        self,
        target: Target,
        method: str,
        path: str,
        *,
        ambiguous: bool = False,
        container_id: str | None = None,
        **kw: Any,
    ) -> Reply:
        try:
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
        except Ambiguous as exc:
            raise PublishAmbiguous(exc.message, container_id=container_id or "") from exc
        self._quota.record(target, usage_info(reply.headers, self._clock()))
        return reply

    def _ok(self, target: Target, reply: Reply) -> dict[str, Any]:
        if reply.status == 200:
            return reply.json_object()
        error = graph_error(self.platform, reply, self._clock())
        err = as_object(reply.json_object().get("error"))  # a proxy may put a string there
        if (err.get("code"), err.get("error_subcode")) == IG_PUBLISH_LIMIT:
            self._quota.record(target, RateLimitInfo(remaining=0))
        raise error

    def _forget(self, container_id: str) -> None:
        for key, value in list(self._containers.items()):
            if value == container_id:
                del self._containers[key]


def _check(content: Content) -> str:
    """The caption, or ``Permanent`` for what Instagram can't publish."""
    if not content.media:
        raise Permanent(
            "instagram: a post needs an image or a video; text-only isn't supported", code="no_media"
        )
    if content.poll is not None:
        raise Permanent("instagram: polls can't be published through the API", code="poll_unsupported")
    if len(content.media) > MAX_CAROUSEL:
        raise Permanent(f"instagram: a carousel holds at most {MAX_CAROUSEL} items", code="too_many_media")
    for media in content.media:
        if media.type != "image/jpeg" and media.type not in VIDEO_TYPES:
            raise Permanent(f"instagram: images must be JPEG (got {media.type})", code="unsupported_media")
    caption = compose_text(content)  # links aren't clickable in captions, but the text stays whole
    if len(caption) > MAX_CAPTION:
        raise Permanent(f"instagram: caption exceeds {MAX_CAPTION} characters", code="caption_length")
    return caption


def _media_fields(media: Media, *, child: bool = False) -> dict[str, str]:
    if media.type in VIDEO_TYPES:
        return {"media_type": "VIDEO" if child else "REELS", "video_url": media.url}
    fields = {"image_url": media.url}
    if media.alt:
        fields["alt_text"] = media.alt
    return fields


def _ig_user(target: Target) -> str:
    return target.options.get("ig_user_id") or target.account

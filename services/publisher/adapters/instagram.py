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
   ``GET /{ig-user-id}/content_publishing_limit`` reports ``quota_usage`` and
   ``config.quota_total``/``quota_duration``: read before publishing, and a used-up quota waits
   for the window to free a post, as Threads' does (``meta_container``), from the account's
   own recent media.

Text-only posts and polls don't exist on Instagram: refused as ``Permanent`` before sending,
by the capability rule (``checks``).

The steps and why only ``media_publish`` can be ``Ambiguous``: ``meta_container``, shared with
Threads.

Target options: ``ig_user_id`` (defaults to the account).

Reconciliation: the container's status says whether it was published; without it (after a
restart) ``find_by_marker`` reads the account's latest media and looks for this request's exact
caption, created no earlier than the first attempt when known.
"""

from __future__ import annotations

from typing import Any

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import compose_text
from services.publisher.adapters.graph import parse_graph_time
from services.publisher.adapters.lookup import Listed, verdict
from services.publisher.adapters.meta_container import (
    ContainerAdapter,
    ContainerPending,
    Fields,
    PublishAmbiguous,
)
from shared.events import Content, Media
from shared.json_values import as_int, as_list, as_object

__all__ = ["ContainerPending", "InstagramAdapter", "PublishAmbiguous"]

LOOKUP_LIMIT = 25


class InstagramAdapter(ContainerAdapter):
    platform = "instagram"
    container_edge = "media"
    publish_edge = "media_publish"
    status_field = "status_code"
    error_field = "status"
    user_option = "ig_user_id"
    limit_edge = "content_publishing_limit"

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        caption = compose_text(request.content)  # links aren't clickable in captions, but stay whole
        check_content(self.platform, request.content, text=caption)
        return await self.publish_container(target, request, caption)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        container = self.known_container(target, request)
        if container is not None and await self.container_status(target, container) != "PUBLISHED":
            # Our container exists and was never published; publishing is this process's next
            # step, and a container publishes once at most.
            return port.Absent("instagram: our container is not published", safe_while_live=True)
        return await self._find_published(target, request)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self.call(
            target, "GET", f"/{post_id}/insights", params={"metric": "reach,likes,comments,shares"}
        )
        values: dict[str, int] = {}
        for metric in as_list((await self._ok(target, reply)).get("data")):
            metric = as_object(metric)
            points = as_list(metric.get("values")) or [{}]
            values[str(metric.get("name"))] = as_int(as_object(points[-1]).get("value")) or 0
        return port.Engagement(
            reactions=values.get("likes", 0),
            comments=values.get("comments", 0),
            shares=values.get("shares", 0),
            reach=values.get("reach"),
        )

    def container_fields(self, content: Content, text: str) -> tuple[list[Fields], Fields]:
        if len(content.media) == 1:
            return [], {**_media_fields(content.media[0]), "caption": text}
        children = [{**_media_fields(m, child=True), "is_carousel_item": "true"} for m in content.media]
        return children, {"media_type": "CAROUSEL", "caption": text}

    async def _find_published(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        """The account's latest media with this request's exact caption (see module doc)."""
        ours = compose_text(request.content)
        listed: list[Listed] = []
        for media in await self._recent(target, {"limit": str(LOOKUP_LIMIT)}):
            created = parse_graph_time(media.get("timestamp"))
            # An image without a caption can't be told from ours when ours has none: MAYBE.
            judged = verdict(
                ours, str(media.get("caption") or ""), our_link=request.content.link, their_links=[]
            )
            found = port.Published(str(media.get("id") or ""), media.get("permalink"), created)
            listed.append(Listed(created, judged, found if found.post_id else None))
        return self.judge(listed, request, page_full=len(listed) >= LOOKUP_LIMIT)

    async def _recent(self, target: port.Target, params: dict[str, str]) -> list[dict[str, Any]]:
        params = {"fields": "id,caption,permalink,timestamp", **params}
        reply = await self.call(target, "GET", f"/{self._user(target)}/media", params=params)
        return [m for m in as_list((await self._ok(target, reply)).get("data")) if isinstance(m, dict)]

    async def _ok(self, target: port.Target, reply: Reply) -> dict[str, Any]:
        if reply.status == 200:
            return reply.json_object()
        raise self.classify_error(target, reply)


def _media_fields(media: Media, *, child: bool = False) -> Fields:
    if media.type.lower().startswith("video/"):
        return {"media_type": "VIDEO" if child else "REELS", "video_url": media.url}
    fields = {"image_url": media.url}
    if media.alt:
        fields["alt_text"] = media.alt
    return fields

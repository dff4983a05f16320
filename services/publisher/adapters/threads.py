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
Instagram does, which ``graph_error`` maps to ``PublishingQuota``.

Rate limit: the publishing quota (``threads_publishing_limit``) is read before publishing, and a
used-up one waits for the rolling window to free a post, as Instagram's does (``meta_container``),
from the account's own recent posts (``GET /{user}/threads?since=…``).

Exactly once: the container flow is Instagram's (``meta_container``): only ``threads_publish``
can be ``Ambiguous``, the container is remembered per job in memory, and ``resume`` never creates
another. ``find_by_marker`` reads the account's latest posts for this request's text, no older
than the first attempt.

Poll results: the post read with ``fields=poll_attachment{...}`` (create-posts/polls, "Media
retrieval"); ``poll_tally.threads_tally`` turns its shares and total into votes.

Target options: ``threads_user_id`` (defaults to the account).
"""

from __future__ import annotations

from typing import Any

import orjson

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import compose_text
from services.publisher.adapters.graph import parse_graph_time
from services.publisher.adapters.lookup import Listed, not_before, verdict
from services.publisher.adapters.meta_container import (
    ContainerAdapter,
    ContainerPending,
    Fields,
    PublishAmbiguous,
)
from services.publisher.adapters.poll_tally import threads_tally
from shared.events import Content
from shared.json_values import as_int, as_list, as_object

__all__ = ["ContainerPending", "PublishAmbiguous", "ThreadsAdapter"]

LOOKUP_LIMIT = 25
_POLL_KEYS = ("option_a", "option_b", "option_c", "option_d")
_POLL_READ = [
    *_POLL_KEYS,
    *(f"{k}_votes_percentage" for k in _POLL_KEYS),
    "total_votes",
    "expiration_timestamp",
]
_POLL_FIELDS = "poll_attachment{" + ",".join(_POLL_READ) + "}"


class ThreadsAdapter(ContainerAdapter):
    platform = "threads"
    container_edge = "threads"
    publish_edge = "threads_publish"
    status_field = "status"
    error_field = "error_message"
    user_option = "threads_user_id"
    limit_edge = "threads_publishing_limit"
    default_poll_interval = 1.0
    default_poll_limit = 30.0

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        text = compose_text(request.content)
        check_content(self.platform, request.content, text=text)
        return await self.publish_container(target, request, text)

    async def _find_published(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        return await self.find_by_marker(target, request)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
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
            found = port.Published(str(post.get("id") or ""), post.get("permalink"), created)
            listed.append(Listed(created, judged, found if found.post_id else None))
        return self.judge(listed, request, page_full=len(listed) >= LOOKUP_LIMIT)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        params = {"metric": "views,likes,replies,reposts,quotes,shares"}
        body = await self._ok(target, await self.call(target, "GET", f"/{post_id}/insights", params=params))
        values: dict[str, int] = {}
        for metric in as_list(body.get("data")):
            if not isinstance(metric, dict):
                continue
            total = metric.get("total_value") or (as_list(metric.get("values")) or [{}])[-1]
            values[str(metric.get("name"))] = as_int(as_object(total).get("value")) or 0
        return port.Engagement(
            reactions=values.get("likes", 0),
            comments=values.get("replies", 0),
            shares=values.get("reposts", 0) + values.get("quotes", 0) + values.get("shares", 0),
            reach=values.get("views"),
        )

    async def poll_results(self, target: port.Target, post_id: str) -> port.PollTally:
        reply = await self.call(target, "GET", f"/{post_id}", params={"fields": _POLL_FIELDS})
        return threads_tally(await self._ok(target, reply), post_id, self._clock())

    # ---- steps -------------------------------------------------------------------------------
    def container_fields(self, content: Content, text: str) -> tuple[list[Fields], Fields]:
        if len(content.media) > 1:
            children = [
                {"media_type": "IMAGE", "image_url": m.url, "is_carousel_item": "true"} for m in content.media
            ]
            return children, {"media_type": "CAROUSEL", "text": text}
        if content.media:
            fields = {"media_type": "IMAGE", "image_url": content.media[0].url, "text": text}
            if content.media[0].alt:
                fields["alt_text"] = content.media[0].alt
            return [], fields
        fields = {"media_type": "TEXT", "text": text}
        if content.poll is not None:
            options = dict(zip(_POLL_KEYS, content.poll.options, strict=False))
            fields["poll_attachment"] = orjson.dumps(options).decode()
        elif content.link:
            fields["link_attachment"] = content.link  # text posts only (§12 (c))
        return [], fields

    async def _recent(self, target: port.Target, params: dict[str, str]) -> list[dict[str, Any]]:
        params = {"fields": "id,text,permalink,timestamp,link_attachment_url", **params}
        body = await self._ok(
            target, await self.call(target, "GET", f"/{self._user(target)}/threads", params=params)
        )
        data = body.get("data")
        return [p for p in data if isinstance(p, dict)] if isinstance(data, list) else []

    async def _ok(self, target: port.Target, reply: Reply) -> dict[str, Any]:
        if reply.status == 200:
            body = reply.json()
            if not isinstance(body, dict):
                raise port.Temporary("threads: the reply is not a JSON object", code="malformed_reply")
            return body
        raise self.classify_error(target, reply)

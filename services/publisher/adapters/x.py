"""X API v2: ``POST /2/tweets``, images through ``POST /2/media/upload``.

Contract (docs.x.com: posts/creation-of-a-post, media/image-or-subtitle-media-upload,
fundamentals/rate-limits; duplicate body from iembot#163 and node-twitter-api-v2#469):

- OAuth 2.0 user token as ``Authorization: Bearer``; 401 when it expired (2 h without
  ``offline.access``) or was revoked.
- Success is 201 ``{"data": {"id": "...", "text": "..."}}``.
- Media and poll are mutually exclusive; at most 4 images; a poll has 2-4 options and lasts
  5-10080 minutes. The post text is the poll's question.
- A repeat of an earlier post's text is refused with 403 "duplicate content".
- Every response carries ``x-rate-limit-limit/-remaining/-reset`` (reset in epoch seconds, no
  ``Retry-After``); post creation also carries ``x-user-limit-24hour-*`` and
  ``x-app-limit-24hour-*``. Throttled: 429.
- No idempotency key.

Target options: ``username`` (for the post URL; without it ``x.com/i/web/status/<id>``).

Reconciliation: ``find_by_marker`` reads the account's latest posts
(``GET /2/users/me`` then ``/2/users/:id/tweets`` with ``created_at`` and ``entities``) and
judges them with ``lookup.judge_listing``: our text, URLs aside (X rewrites them to t.co); for a
link-only post, the link (``entities.urls[].expanded_url``); a media-only post can't be told
apart, so any text-less post since the attempt makes the answer ``Unknown``. Videos (chunked
upload) are not handled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply, parse_int, parse_iso
from services.publisher.adapters.checks import check_content
from services.publisher.adapters.common import HttpAdapter, compose_text
from services.publisher.adapters.lookup import Listed, verdict
from services.publisher.adapters.poll_tally import x_tally
from shared.events import Media
from shared.json_values import as_id, as_int, as_list, as_object, epoch_time
from shared.x_text import x_text

LOOKUP_LIMIT = 100  # the endpoint's largest page


class XAdapter(HttpAdapter):
    platform = "x"

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        content = request.content
        text = compose_text(content)
        check_content(self.platform, content, text=text)
        body: dict[str, Any] = {"text": text}
        if content.media:
            body["media"] = {"media_ids": [await self._upload(target, m) for m in content.media]}
        if content.poll is not None:
            body["poll"] = {
                "options": list(content.poll.options),
                "duration_minutes": content.poll.duration_minutes,
            }
        reply = await self.call(target, "POST", "/2/tweets", creates_post=True, json=body)
        if not 200 <= reply.status < 300:  # any 2xx took the post: without its id, Ambiguous
            raise self.classify_error(target, reply)
        post_id = as_id(as_object(reply.json_object().get("data")).get("id"))
        if not post_id:
            raise port.Ambiguous("x: created, but the reply has no id", code="no_id")
        return port.Published(post_id, _post_url(target, post_id))

    async def _upload(self, target: port.Target, media: Media) -> str:
        fetched = await self._fetcher.fetch(media)
        form = aiohttp.FormData()
        form.add_field("media", fetched.data, content_type=fetched.content_type, filename=fetched.filename)
        form.add_field("media_category", "tweet_image")
        # Uploaded media nobody posts expires on its own (expires_after_secs): never ambiguous.
        reply = await self.call(target, "POST", "/2/media/upload", creates_post=False, data=form)
        if reply.status not in (200, 201):
            raise self.classify_error(target, reply)
        media_id = as_id(as_object(reply.json_object().get("data")).get("id"))
        if not media_id:
            raise port.Temporary("x: media upload answered without an id", code="no_id")
        return media_id

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        me = await self._read(target, "/2/users/me")
        user_id = as_id(as_object(me.get("data")).get("id"))
        if not user_id:
            raise port.Temporary("x: users/me answered without an id", code="malformed_reply")
        tweets = await self._read(
            target,
            f"/2/users/{user_id}/tweets",
            params={"max_results": str(LOOKUP_LIMIT), "tweet.fields": "created_at,entities"},
        )
        ours = compose_text(request.content)
        listed: list[Listed] = []
        for tweet in as_list(tweets.get("data")):
            if not isinstance(tweet, dict):
                continue
            created = parse_iso(tweet.get("created_at"))
            links = [
                str(u.get("expanded_url") or u.get("url") or "")
                for u in as_list(as_object(tweet.get("entities")).get("urls"))
                if isinstance(u, dict)
            ]
            judged = verdict(
                ours, x_text(str(tweet.get("text") or "")), our_link=request.content.link, their_links=links
            )
            post_id = as_id(tweet.get("id"))
            found = port.Published(post_id, _post_url(target, post_id), created) if post_id else None
            listed.append(Listed(created, judged, found))
        return self.judge(listed, request, page_full=len(listed) >= LOOKUP_LIMIT)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        body = await self._read(target, f"/2/tweets/{post_id}", params={"tweet.fields": "public_metrics"})
        data = body.get("data")
        if not isinstance(data, dict):
            raise port.Permanent(f"x: post {post_id} not found", code="not_found")
        metrics = as_object(data.get("public_metrics"))
        return port.Engagement(
            reactions=as_int(metrics.get("like_count")) or 0,
            comments=as_int(metrics.get("reply_count")) or 0,
            shares=_reposts(metrics) + (as_int(metrics.get("quote_count")) or 0),
            reach=as_int(metrics.get("impression_count")),
        )

    async def poll_results(self, target: port.Target, post_id: str) -> port.PollTally:
        params = {"expansions": "attachments.poll_ids", "poll.fields": "options,voting_status"}
        return x_tally(await self._read(target, f"/2/tweets/{post_id}", params=params), post_id)

    async def _read(self, target: port.Target, path: str, **kw: Any) -> dict[str, Any]:
        reply = await self.call(target, "GET", path, **kw)
        if reply.status != 200:
            raise self.classify_error(target, reply)
        return reply.json_object()

    def _observe(self, target: port.Target, reply: Reply) -> None:
        limit = parse_int(reply.headers.get("x-rate-limit-limit"))
        if limit is not None:
            self._quota.record(
                target,
                port.RateLimitInfo(
                    limit=limit,
                    remaining=parse_int(reply.headers.get("x-rate-limit-remaining")),
                    reset_at=epoch_time(reply.headers.get("x-rate-limit-reset")),
                ),
            )

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        body = reply.json_object()
        first = as_object((as_list(body.get("errors")) or [None])[0])
        detail = str(body.get("detail") or first.get("message") or f"HTTP {reply.status}")
        message = f"x: {detail[:1000]}"
        status = reply.status
        if status == 401:
            return port.AuthExpired(message, code="unauthorized", http_status=status)
        if status == 403 and "duplicate" in detail.lower():
            return port.Duplicate(message, code="duplicate", http_status=status)
        if status == 403:
            # Read-only app, missing tweet.write scope or a suspended account: a human must act.
            return port.AuthExpired(message, code="forbidden", http_status=status)
        if status == 429:
            return port.RateLimited(
                message, code="rate_limited", http_status=status, retry_after=self._wait(reply.headers)
            )
        if status >= 500:
            return port.Temporary(message, code="server_error", http_status=status)
        return port.Permanent(message, code=f"http_{status}", http_status=status)

    def _wait(self, headers: Mapping[str, str]) -> float | None:
        """Seconds until the latest exhausted window (15-min, user 24 h, app 24 h) resets."""
        exhausted = [
            epoch_time(headers.get(f"{prefix}-reset"))
            for prefix in ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")
            if headers.get(f"{prefix}-remaining") == "0"
        ]
        resets = [r for r in exhausted if r is not None]
        fallback = epoch_time(headers.get("x-rate-limit-reset"))
        latest = max(resets) if resets else fallback
        return max(0.0, (latest - self._clock()).total_seconds()) if latest else None


def _reposts(metrics: Mapping[str, Any]) -> int:
    """Reposts under either name: X's OpenAPI description says ``repost_count``, the v2 reference
    pages ``retweet_count``; whichever the answer carries is read, the newer name first."""
    value = as_int(metrics.get("repost_count"))
    if value is None:
        value = as_int(metrics.get("retweet_count"))
    return value or 0


def _post_url(target: port.Target, post_id: str) -> str:
    username = target.options.get("username")
    return (
        f"https://x.com/{username}/status/{post_id}" if username else f"https://x.com/i/web/status/{post_id}"
    )

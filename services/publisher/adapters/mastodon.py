"""Mastodon: ``POST /api/v1/statuses`` with an ``Idempotency-Key``, media through ``/api/v2/media``.

Contract (mastodon/documentation ``methods/statuses.md``, ``methods/media.md``,
``api/rate-limits.md``):

- ``Authorization: Bearer <user token>``; 401 means the token is invalid or revoked.
- ``Idempotency-Key`` "prevents duplicate submissions of the same status… keys are stored for up
  to 1 hour": a repeat returns the original status. We send ``request.marker``, so a retry of
  the same job within the hour can never post twice.
- Media: ``POST /api/v2/media`` (multipart ``file``) answers 200, or 202 with ``url: null``
  while processing; ``GET /api/v1/media/:id`` answers 206 until done. ``media_ids`` and ``poll``
  are mutually exclusive.
- Errors are ``{"error": "..."}``: 422 validation, 429 throttled. Quota headers
  ``X-RateLimit-Limit/Remaining/Reset`` (reset is ISO-8601) describe the bucket nearest
  exhaustion; status creation is limited to 300 per 3 h per account.

Reconciliation (``find_by_marker``): a status carries no hidden field we could search for, so
we rely on the Idempotency-Key. Within the key's hour, re-sending the same request is the
documented safe way to learn the outcome: Mastodon returns the original status if the first
attempt landed, and creates it now if it never arrived, so the call may publish. Past the hour
(or when we can't tell when the job was first sent) a re-send could duplicate the post, so we
raise ``NotSupported`` and the job becomes unconfirmed.

Limits: each instance states its own (characters, attachments, media sizes and types, polls) in
``/api/v2/instance``; ``mastodon_instance`` reads and caches them, and the content is checked
against them before any upload, and each fetched file again before it is sent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Unpack

import aiohttp

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply, parse_int, parse_iso
from services.publisher.adapters.checks import check_content, check_media
from services.publisher.adapters.common import HttpAdapter, HttpOptions, compose_text
from services.publisher.adapters.key_window import KeyWindow
from services.publisher.adapters.mastodon_instance import INSTANCE_LIMITS_TTL, InstanceLimitsCache
from services.publisher.adapters.media import MediaFetcher
from services.publisher.adapters.poll_tally import PollUnreadable, mastodon_tally
from shared.capabilities import PlatformCapabilities
from shared.events import Media
from shared.json_values import as_int, as_object

# Mastodon keeps keys "up to 1 hour"; we stop trusting a re-send 5 minutes before that.
IDEMPOTENCY_WINDOW = timedelta(minutes=55)


class MastodonAdapter(HttpAdapter):
    platform = "mastodon"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,
        *,
        media_poll_interval: float = 1.0,
        media_poll_limit: float = 60.0,
        idempotency_window: timedelta = IDEMPOTENCY_WINDOW,
        instance_limits_ttl: timedelta = INSTANCE_LIMITS_TTL,
        **options: Unpack[HttpOptions],
    ) -> None:
        super().__init__(session, fetcher, **options)
        self._instances = InstanceLimitsCache(
            session, self._clock, self.classify_error, timeout=self._timeout, ttl=instance_limits_ttl
        )
        self._poll_interval = media_poll_interval
        self._poll_limit = media_poll_limit
        self._window = idempotency_window
        self._keys = KeyWindow(self.platform, "Mastodon keeps a key 1 h")

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        content = request.content
        caps = await self._instances.capabilities(target)
        text = compose_text(content)
        check_content(self.platform, content, text=text, caps=caps)
        body: dict[str, Any] = {
            "status": text,
            "visibility": target.options.get("visibility", "public"),
        }
        if "language" in target.options:
            body["language"] = target.options["language"]
        if content.media:
            body["media_ids"] = [await self._upload(target, caps, media) for media in content.media]
        if content.poll is not None:
            body["poll"] = {
                "options": list(content.poll.options),
                "expires_in": content.poll.duration_minutes * 60,
            }
        self._keys.sent(target, request.marker, self._clock())
        reply = await self.call(
            target,
            "POST",
            "/api/v1/statuses",
            creates_post=True,
            json=body,
            headers={"Idempotency-Key": request.marker},
        )
        if reply.status == 200:
            return _published(reply.json_object())
        raise self.classify_error(target, reply)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        """Re-send under the same Idempotency-Key while Mastodon still keeps it (see module doc)."""
        return await self._keys.resend(target, request, self._clock(), self._window, self.publish)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        reply = await self._get(target, f"/api/v1/statuses/{post_id}")
        status = reply.json_object()
        return port.Engagement(
            reactions=as_int(status.get("favourites_count")) or 0,
            comments=as_int(status.get("replies_count")) or 0,
            shares=as_int(status.get("reblogs_count")) or 0,
        )

    async def poll_results(self, target: port.Target, post_id: str) -> port.PollTally:
        # The status names its poll; the poll's own endpoint is the one documented for results.
        status = (await self._get(target, f"/api/v1/statuses/{post_id}")).json_object()
        poll_id = as_object(status.get("poll")).get("id")
        if not poll_id:
            raise PollUnreadable(f"mastodon: status {post_id} carries no poll", code="poll_unreadable")
        return mastodon_tally((await self._get(target, f"/api/v1/polls/{poll_id}")).json_object())

    async def _upload(self, target: port.Target, caps: PlatformCapabilities, media: Media) -> str:
        fetched = await self._fetcher.fetch(media)
        check_media(caps, media, len(fetched.data))
        form = aiohttp.FormData()
        form.add_field("file", fetched.data, content_type=fetched.content_type, filename=fetched.filename)
        if media.alt:
            form.add_field("description", media.alt)
        # Not ambiguous: an upload nobody attaches is invisible and Mastodon removes it.
        reply = await self.call(target, "POST", "/api/v2/media", creates_post=False, data=form)
        if reply.status not in (200, 202):
            raise self.classify_error(target, reply)
        attachment = reply.json_object()
        media_id = str(attachment.get("id", ""))
        if not media_id:
            raise port.Temporary("mastodon: media upload answered without an id", code="media_no_id")
        if reply.status == 202:
            await self._await_processed(target, media_id)
        return media_id

    async def _await_processed(self, target: port.Target, media_id: str) -> None:
        """Poll ``GET /api/v1/media/:id`` until 200; 206 means still processing."""
        waited = 0.0
        while waited <= self._poll_limit:
            reply = await self._get(target, f"/api/v1/media/{media_id}", expect=(200, 206))
            if reply.status == 200:
                return
            await asyncio.sleep(self._poll_interval)
            waited += self._poll_interval
        raise port.Temporary(
            f"mastodon: media {media_id} still processing after {self._poll_limit:.0f}s",
            code="media_processing",
            retry_after=self._poll_limit,
        )

    async def _get(self, target: port.Target, path: str, *, expect: tuple[int, ...] = (200,)) -> Reply:
        reply = await self.call(target, "GET", path)
        if reply.status not in expect:
            raise self.classify_error(target, reply)
        return reply

    def _observe(self, target: port.Target, reply: Reply) -> None:
        self._quota.record(
            target,
            port.RateLimitInfo(
                limit=parse_int(reply.headers.get("X-RateLimit-Limit")),
                remaining=parse_int(reply.headers.get("X-RateLimit-Remaining")),
                reset_at=parse_iso(reply.headers.get("X-RateLimit-Reset")),
            ),
        )

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        status = reply.status
        detail = str(reply.json_object().get("error") or f"HTTP {status}")[:1000]
        message = f"mastodon: {detail}"
        if status in (401, 403):
            # 403 is a token without the write scopes or a suspended account: a human must act.
            return port.AuthExpired(message, code="unauthorized", http_status=status)
        if status == 429:
            reset = parse_iso(reply.headers.get("X-RateLimit-Reset"))
            wait = max(0.0, (reset - self._clock()).total_seconds()) if reset else None
            return port.RateLimited(message, code="rate_limited", http_status=status, retry_after=wait)
        if status >= 500:
            return port.Temporary(message, code="server_error", http_status=status)
        code = "validation_failed" if status == 422 else f"http_{status}"
        return port.Permanent(message, code=code, http_status=status)


def _published(status: dict[str, Any]) -> port.Published:
    post_id = str(status.get("id") or "")
    if not post_id:
        # Mastodon answered 200 but we can't tell which status: the post probably exists.
        raise port.Ambiguous("mastodon: status created but the reply has no id", code="no_id")
    url = status.get("url") or status.get("uri")
    return port.Published(post_id, str(url) if url else None, parse_iso(status.get("created_at")))

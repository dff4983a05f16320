"""A partner's webhook: the content item POSTed as signed JSON.

Warta's own contract (receivers implement it):

- ``POST <base_url>`` with ``Content-Type: application/json`` and the body
  ``{"id": <marker>, "job_id", "attempt", "sent_at", "content": {...}}``.
- Signed by the Standard Webhooks scheme (``shared.webhook_signature``): ``webhook-id`` (the
  marker), ``webhook-timestamp`` and ``webhook-signature``, keyed by the channel's token, so a
  receiver verifies with an off-the-shelf Standard Webhooks library. Receivers refuse a timestamp
  more than 5 minutes away from their clock, which bounds replays.
- ``Idempotency-Key: <marker>``: a receiver keeps keys at least 24 h and answers a repeat with
  the original result, so a retry of one job is delivered once.
- 2xx means accepted; the body may carry ``{"id": ..., "url": ...}``. 401/403 refuse the
  signature, 429 asks to wait (``Retry-After``), 5xx is the receiver's trouble: it may have
  taken the delivery all the same, so it is ``Ambiguous`` and settled by the re-send below.

Target options: ``idempotency_window_s`` (how long the receiver keeps keys; default 86400).

Reconciliation works like Mastodon's: within the receiver's key window, re-sending under the
same Idempotency-Key returns the original result (or delivers now if it never arrived); past it,
or when the first attempt's time is unknown, ``NotSupported``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

import orjson

from services.publisher.adapters import port
from services.publisher.adapters._http import Reply
from services.publisher.adapters.common import HttpAdapter
from services.publisher.adapters.key_window import KeyWindow
from shared.platform_throttles import retry_after as retry_after_header
from shared.webhook_signature import WebhookSecretError, signed_headers

DEFAULT_WINDOW_S = 86400
WINDOW_MARGIN = timedelta(minutes=5)


class WebhookAdapter(HttpAdapter):
    """Media travel as URLs in the content: the media fetcher is never used."""

    platform = "webhook"

    @cached_property
    def _keys(self) -> KeyWindow:
        return KeyWindow(self.platform, "receivers keep a key idempotency_window_s")

    async def publish(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        now = self._clock()
        body = orjson.dumps(
            {
                "id": request.marker,
                "job_id": request.job_id,
                "attempt": request.attempt,
                "sent_at": now.isoformat(),
                "content": request.content.model_dump(mode="json"),
            }
        )
        try:
            signed = signed_headers(target.credentials.token, request.marker, int(now.timestamp()), body)
        except WebhookSecretError as exc:
            raise port.Permanent(
                f"webhook: the channel's secret is unusable: {exc}", code="bad_secret"
            ) from exc
        headers = {"Content-Type": "application/json", "Idempotency-Key": request.marker, **signed}
        self._keys.sent(target, request.marker, now)
        # The signature is the authorisation: no bearer header; the base URL is the receiver's.
        reply = await self.call(
            target,
            "POST",
            url=target.base_url,
            creates_post=True,
            authorise=False,
            data=body,
            headers=headers,
        )
        if 200 <= reply.status < 300:
            answer = reply.json_object()
            url = answer.get("url")
            return port.Published(str(answer.get("id") or request.marker), str(url) if url else None, now)
        raise self.classify_error(target, reply)

    async def find_by_marker(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        """Re-send under the same Idempotency-Key while the receiver keeps it (see module doc)."""
        window = timedelta(seconds=float(target.options.get("idempotency_window_s", DEFAULT_WINDOW_S)))
        return await self._keys.resend(target, request, self._clock(), window - WINDOW_MARGIN, self.publish)

    async def engagement(self, target: port.Target, post_id: str) -> port.Engagement:
        raise port.NotSupported("webhook: receivers report no engagement", code="no_metrics")

    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        body = reply.json_object()
        detail = str(body.get("error") or body.get("message") or f"HTTP {reply.status}")[:1000]
        message = f"webhook: {detail}"
        status = reply.status
        if status in (401, 403):
            return port.AuthExpired(message, code="signature_refused", http_status=status)
        if status == 429:
            wait = retry_after_header(reply.headers, self._clock())
            return port.RateLimited(message, code="rate_limited", http_status=status, retry_after=wait)
        if status >= 500 or status in (408, 409):
            # 409: a request with this key is still being processed; it settles shortly.
            return port.Temporary(message, code=f"http_{status}", http_status=status)
        return port.Permanent(message, code=f"http_{status}", http_status=status)

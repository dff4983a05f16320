"""A webhook receiver honouring Warta's webhook contract (see ``adapters.webhook``).

Accepts ``POST`` on any path under its mount. It verifies the Standard Webhooks signature
(``shared.webhook_signature``) against every token it knows (each is a shared secret), refuses
timestamps more than ``tolerance`` away from its clock and signatures it has already seen
(replays), and keeps ``Idempotency-Key``s for
``idempotency_ttl``: a repeat answers the original delivery with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from aiohttp import web

from sandbox.base import FakePost, FakeState, json_reply
from sandbox.developer_portal import add_mint_route
from sandbox.fake_app import new_fake_app
from shared.json_values import digits
from shared.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class WebhookState(FakeState):
    tolerance: timedelta = timedelta(minutes=5)
    idempotency_ttl: timedelta = timedelta(hours=24)
    keys: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # key → (delivery id, when)
    seen_signatures: dict[str, datetime] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.keys.clear()
        self.seen_signatures.clear()


class _Webhook:
    def __init__(self, state: WebhookState) -> None:
        self.s = state

    def _signer(self, request: web.Request, timestamp: int, body: bytes) -> str | None:
        # Verified at the message's own timestamp: staleness is told apart (below).
        for secret, account in self.s.tokens.items():
            if verify(secret, request.headers, body, now=timestamp):
                return account
        return None

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        mac = request.headers.get(SIGNATURE_HEADER, "")
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not mac or not digits(stamp) or len(stamp) > 12:
            return json_reply({"error": "missing or malformed signature"}, 401)
        timestamp = int(stamp)
        account = self._signer(request, timestamp, body)
        if account is None:
            return json_reply({"error": "invalid signature"}, 401)
        now = self.s.now()
        if abs(now.timestamp() - timestamp) > self.s.tolerance.total_seconds():
            return json_reply({"error": "stale signature"}, 401)
        key = request.headers.get("Idempotency-Key")
        if key and key in self.s.keys and now - self.s.keys[key][1] < self.s.idempotency_ttl:
            original = self.s.find_post(self.s.keys[key][0])
            if original is not None:
                return json_reply(self._answer(original), 200, {"Idempotent-Replayed": "true"})
        if mac in self.s.seen_signatures:
            return json_reply({"error": "replayed signature"}, 401)
        self.s.seen_signatures[mac] = now
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return json_reply({"error": "body is not JSON"}, 400)
        content = payload.get("content") if isinstance(payload, dict) else None
        if not isinstance(content, dict):
            return json_reply({"error": "content is required"}, 422)
        delivery = FakePost(
            id=f"dlv-{self.s.next_id()}",
            account=account,
            text=str(content.get("text") or ""),
            created_at=now,
            data=payload,
            key=key,
        )
        self.s.posts.append(delivery)
        if key:
            self.s.keys[key] = (delivery.id, now)
        return json_reply(self._answer(delivery), 201)

    def _answer(self, delivery: FakePost) -> dict[str, str]:
        return {"id": delivery.id, "received_at": delivery.created_at.isoformat()}


def create_app(state: WebhookState | None = None) -> web.Application:
    state = state or WebhookState()
    fake = _Webhook(state)
    app = new_fake_app(state)
    add_mint_route(app, state, "webhook")  # the developer portal's "generate token"
    app.router.add_post("/{tail:.*}", fake.receive)
    return app

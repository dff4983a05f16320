"""The partner-webhook adapter and its receiver fake, judged by the Standard Webhooks reference
library (``standardwebhooks``, pinned in dev), as a partner's receiver would use it.

The webhook "platform" is Warta's own contract (``adapters/webhook.py``); what outside code
decides is the signature: the Standard Webhooks specification (standardwebhooks.com,
spec/standard-webhooks.md: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``;
the id is the same on every retry of one message). ``tests/unit/test_webhook_signature.py``
checks the signer alone against the library and the spec's worked example; here the adapter's
real deliveries of each content kind, over HTTP, are verified by the library, and the fake
receiver is shown to accept what the library signs and refuse what it does not.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.publisher.adapters.port import AuthExpired, Credentials, Target
from services.publisher.adapters.webhook import WebhookAdapter
from shared.events import Content, Media, Poll
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

pytestmark = pytest.mark.fidelity

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the specification's example secret
CONTENTS = {
    "text": Content(text="Siaran pers", link="https://example.go.id/siaran"),
    "image": Content(text="Foto", media=(Media(url="https://example.go.id/a.jpg", type="image/jpeg"),)),
    "video": Content(text="Video", media=(Media(url="https://example.go.id/v.mp4", type="video/mp4"),)),
    "poll": Content(
        text="Setuju?", poll=Poll(question="Setuju?", options=("Ya", "Tidak"), duration_minutes=60)
    ),
}


class Receiver:
    """A partner's endpoint written from the library's README: verify, then accept."""

    def __init__(self, key: str | bytes) -> None:
        self.webhook = Webhook(key)
        self.accepted: list[tuple[dict[str, str], object]] = []
        self.refused = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = self.webhook.verify(body, headers)
        except WebhookVerificationError:
            self.refused += 1
            return web.Response(status=401)
        self.accepted.append((headers, payload))
        return web.json_response({"id": headers["webhook-id"]})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def deliver(session: aiohttp.ClientSession, receiver: Receiver, secret: str, content: Content) -> None:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with TestServer(app) as server:
        target = Target(
            channel="webhook-partner",
            account="partner",
            base_url=str(server.make_url("/hook")),
            credentials=Credentials(token=secret),
            options={},
        )
        await WebhookAdapter(session).publish(target, publish_request(content, job_id=content.text))


@pytest.mark.parametrize("kind", sorted(CONTENTS))
async def test_each_content_kind_is_verified_by_the_reference_library(
    session: aiohttp.ClientSession, kind: str
) -> None:
    receiver = Receiver(WHSEC)
    await deliver(session, receiver, WHSEC, CONTENTS[kind])
    [(headers, payload)] = receiver.accepted
    assert headers["webhook-id"] == "wmarker0001"
    assert headers["content-type"].startswith("application/json")
    assert isinstance(payload, dict)
    assert payload["id"] == "wmarker0001"
    assert payload["content"]["text"] == CONTENTS[kind].text


async def test_a_plain_secret_verifies_as_its_utf8_bytes(session: aiohttp.ClientSession) -> None:
    receiver = Receiver(b"a-plain-shared-secret")
    await deliver(session, receiver, "a-plain-shared-secret", CONTENTS["text"])
    assert len(receiver.accepted) == 1


async def test_a_retry_keeps_the_message_id_and_verifies_again(session: aiohttp.ClientSession) -> None:
    # spec: "webhook-id … the same when the same webhook is being resent (e.g. due to an earlier failure)"
    receiver = Receiver(WHSEC)
    await deliver(session, receiver, WHSEC, CONTENTS["text"])
    await deliver(session, receiver, WHSEC, CONTENTS["text"])
    ids = {headers["webhook-id"] for headers, _ in receiver.accepted}
    assert ids == {"wmarker0001"}
    assert len(receiver.accepted) == 2


async def test_the_library_refuses_a_delivery_under_another_secret(session: aiohttp.ClientSession) -> None:
    receiver = Receiver(WHSEC)
    with pytest.raises(AuthExpired):  # the receiver's 401: a human must fix the secret
        await deliver(session, receiver, "whsec_" + "A" * 43 + "=", CONTENTS["text"])
    assert receiver.refused == 1
    assert receiver.accepted == []


async def test_the_fake_receiver_accepts_what_the_library_signs() -> None:
    async with running_sandbox() as env:
        await _the_fake_judges_library_signatures(env)


async def _the_fake_judges_library_signatures(env: FakeEnv) -> None:
    body = orjson.dumps(
        {"id": "msg_lib_1", "job_id": "j:1", "attempt": 1, "content": {"text": "Dari pustaka"}}
    )
    at = datetime.fromtimestamp(int(time.time()), UTC)
    signed = Webhook(TOKEN.encode()).sign("msg_lib_1", at, body.decode())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_lib_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signed,
        "Idempotency-Key": "msg_lib_1",
    }
    url = env.url("/webhook/inbox")
    async with env.session.post(url, data=body, headers=headers) as reply:
        assert reply.status < 300, await reply.text()
    tampered = {**headers, "webhook-id": "msg_lib_2", "Idempotency-Key": "msg_lib_2"}
    async with env.session.post(url, data=body, headers=tampered) as reply:
        assert reply.status in (401, 403)

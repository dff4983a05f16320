"""The WhatsApp fake driven by pywa 4.5.0 (pinned in dev), the most used Cloud API client.

pywa has no base-URL setting (``GraphAPI`` writes ``https://graph.facebook.com/v{version}`` onto
its httpx client), so the client gets an httpx transport that moves that origin to the sandbox's
``/whatsapp`` mount, path and version untouched; pywa itself is unchanged and speaks the capability
table's Graph version. pywa is synchronous here: each call runs in a thread.

Documents: developers.facebook.com/docs/whatsapp/cloud-api/reference/messages (send, reply shape),
cloud-api/guides/send-message-templates, cloud-api/support/error-codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from pywa import WhatsApp  # type: ignore[attr-defined]  # as pywa documents it; the root does not re-export for mypy
from pywa.errors import (
    ExpiredAccessToken,
    RateLimitHit,
    RecipientNotInAllowedList,
    ReEngagementMessage,
    TemplateNotExists,
    TooManyMessages,
    WhatsAppError,
)
from pywa.types.sent_update import SentTemplateStatus
from pywa.types.templates import BodyText, TemplateLanguage
from pywa.utils import Version

from sandbox.whatsapp import WhatsAppState
from services.publisher.adapters.whatsapp import WhatsAppAdapter
from shared.capabilities import capabilities_for
from tests.integration.conftest_fakes import TOKEN, FakeEnv, publish_request, running_sandbox

T = TypeVar("T")
PHONE_ID = "5550001"
CITIZEN = "6281234567890"


class MovedGraph(httpx.HTTPTransport):
    """Sends what pywa addresses to graph.facebook.com to ``base`` instead (a base-URL move)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self._base = httpx.URL(base)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "graph.facebook.com"
        request.url = request.url.copy_with(
            scheme=self._base.scheme,
            host=self._base.host,
            port=self._base.port,
            raw_path=self._base.raw_path.rstrip(b"/") + request.url.raw_path,
        )
        return super().handle_request(request)


@pytest.fixture
async def env() -> AsyncIterator[FakeEnv]:
    async with running_sandbox() as env:
        yield env


@pytest.fixture
def state(env: FakeEnv) -> WhatsAppState:
    state = env.states["whatsapp"]
    assert isinstance(state, WhatsAppState)
    state.open_windows.add(CITIZEN)
    return state


@pytest.fixture
def client(env: FakeEnv) -> Iterator[WhatsApp]:
    with httpx.Client(transport=MovedGraph(env.url("/whatsapp"))) as session:
        yield wa(session)


def wa(session: httpx.Client, token: str = TOKEN) -> WhatsApp:
    version = capabilities_for("whatsapp").api_version.removeprefix("v")
    return WhatsApp(phone_id=PHONE_ID, token=token, api_version=version, session=session)


async def in_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


def test_pywa_supports_the_table_version() -> None:
    lowest, latest = Version.GRAPH_API.min, Version.GRAPH_API.value
    version = float(capabilities_for("whatsapp").api_version.removeprefix("v"))
    assert float(lowest) <= version <= float(latest)


async def test_text_message_inside_the_service_window(state: WhatsAppState, client: WhatsApp) -> None:
    # cloud-api/reference/messages: POST /{phone-number-id}/messages type=text
    sent = await in_thread(lambda: client.send_message(to=CITIZEN, text="Halo warga"))
    assert sent.id.startswith("wamid.")
    assert sent.chat.id == CITIZEN
    assert state.posts[-1].text == "Halo warga"


async def test_template_is_accepted(state: WhatsAppState, client: WhatsApp) -> None:
    # guides/send-message-templates: type=template with a body parameter; the reply's
    # messages[0].message_status says accepted (or held_for_quality_assessment under pacing).
    sent = await in_thread(
        lambda: client.send_template(
            to="6281234567891",
            name="warta_update",
            language=TemplateLanguage.INDONESIAN,
            # pywa writes params without self, called on the class as its send_template example does;
            # mypy takes the first argument for self.
            params=[BodyText.params("Ringkasan kegiatan")],  # type: ignore[arg-type]
        )
    )
    assert sent.status is SentTemplateStatus.ACCEPTED
    assert state.posts[-1].text == "Ringkasan kegiatan"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        # support/error-codes: 131047 re-engagement (free-form text outside the 24 h window)
        (lambda c: c.send_message(to="6289999999999", text="x"), ReEngagementMessage),
        # 132001 template does not exist
        (
            lambda c: c.send_template(to=CITIZEN, name="nope", language=TemplateLanguage.INDONESIAN),
            TemplateNotExists,
        ),
    ],
)
async def test_fake_errors_are_the_ones_pywa_names(
    state: WhatsAppState, client: WhatsApp, call: Callable[[WhatsApp], object], error: type[WhatsAppError]
) -> None:
    with pytest.raises(error):
        await in_thread(lambda: call(client))


async def test_not_opted_in_is_131030(state: WhatsAppState, client: WhatsApp) -> None:
    state.opted_in = {"620000000000"}
    with pytest.raises(RecipientNotInAllowedList):
        await in_thread(lambda: client.send_message(to=CITIZEN, text="x"))


async def test_pair_rate_limit_is_131056(state: WhatsAppState, client: WhatsApp) -> None:
    await in_thread(lambda: client.send_message(to=CITIZEN, text="one"))
    with pytest.raises(TooManyMessages):
        await in_thread(lambda: client.send_message(to=CITIZEN, text="two"))


async def test_throughput_is_130429(state: WhatsAppState, client: WhatsApp) -> None:
    state.per_second.limit = 0
    with pytest.raises(RateLimitHit):
        await in_thread(lambda: client.send_message(to=CITIZEN, text="x"))


async def test_bad_token_is_190(env: FakeEnv, state: WhatsAppState) -> None:
    with httpx.Client(transport=MovedGraph(env.url("/whatsapp"))) as session:
        client = wa(session, token="revoked")
        with pytest.raises(ExpiredAccessToken):
            await in_thread(lambda: client.send_message(to=CITIZEN, text="x"))


def _shape(value: object) -> object:
    """The keys and JSON types of ``value``, not its text: what two clients must agree on."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


async def test_adapter_template_has_the_shape_pywa_sends(
    env: FakeEnv, state: WhatsAppState, client: WhatsApp, tmp_path: Path
) -> None:
    # guides/send-message-templates: the request pywa builds is the reference for Warta's.
    await in_thread(
        lambda: client.send_template(
            to="6281234567891",
            name="warta_update",
            language=TemplateLanguage.INDONESIAN,
            params=[BodyText.params("Ringkasan")],  # type: ignore[arg-type]
        )
    )
    theirs = dict(state.posts[-1].data)
    options = {"phone_number_id": PHONE_ID, "template": "warta_update", "subscribers": "6281234567892"}
    adapter = WhatsAppAdapter(env.session, state_dir=tmp_path)
    await adapter.publish(env.target("whatsapp", options=options), publish_request(job_id="c-1:whatsapp"))
    ours = dict(state.posts[-1].data)
    for fields in (theirs, ours):
        for local in ("phone", "to", "recipient_type", "biz_opaque_callback_data"):
            fields.pop(local, None)  # the fake's own bookkeeping and optional envelope fields
    assert _shape(ours["template"]) == _shape(theirs["template"])
    assert ours["template"]["language"] == theirs["template"]["language"]
    assert ours["messaging_product"] == theirs["messaging_product"] == "whatsapp"

"""WhatsApp Cloud API messages, as far as sending touches it (platforms.md §10).

Routes (relative to the mount)::

    POST /{phone-number-id}/messages   text | image | template → {"messaging_product","contacts","messages":[{"id"}]}

There is no Channels endpoint, because WhatsApp has no public API for Channels. Rules modelled:
``opted_in`` (None = anyone) lists who may be messaged (else 131030 "not in allowed list");
``templates`` are the approved template names (else 132001); free-form ``text``/``image``
reaches only numbers in ``open_windows``, who wrote in the last 24 h (else 131047
re-engagement); one message per 6 s to the same number (131056 pair rate limit); ``per_second``
messages per second per phone number (130429 throughput). Errors use the Graph envelope with
``error_data.details``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from sandbox import meta_comments
from sandbox.base import FakePost, SlidingWindow, json_reply, read_fields
from sandbox.developer_portal import add_mint_route
from sandbox.fake_app import new_fake_app
from sandbox.graph import GRAPH_VERSION, GraphState, add_graph_routes, authorise, graph_error
from shared.json_values import digits

PAIR_GAP = timedelta(seconds=6)


@dataclass
class WhatsAppState(GraphState):
    opted_in: set[str] | None = None
    templates: set[str] = field(default_factory=lambda: {"warta_update"})
    open_windows: set[str] = field(default_factory=set)
    per_second: SlidingWindow = field(default_factory=lambda: SlidingWindow(80, timedelta(seconds=1)))
    last_to: dict[str, datetime] = field(default_factory=dict)
    # phone-number id → the account (business) that owns it; a number not listed is the asker's.
    phone_owners: dict[str, str] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.per_second.clear()
        self.last_to.clear()


def wa_error(code: int, title: str, details: str, status: int = 400) -> web.Response:
    error = {
        "message": f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "AFakeTraceId",
    }
    return json_reply({"error": error}, status)


class _WhatsApp:
    def __init__(self, state: WhatsAppState) -> None:
        self.s = state

    async def send(self, request: web.Request) -> web.Response:
        phone = request.match_info["phone"]
        account, headers = authorise(self.s, request, phone)
        body = await read_fields(request)
        to = str(body.get("to") or "")
        kind = body.get("type")
        if body.get("messaging_product") != "whatsapp" or not re.fullmatch(r"\+?[1-9]\d{6,14}", to):
            return wa_error(
                100, "Invalid parameter", "messaging_product must be whatsapp and to a phone number"
            )
        number = to.lstrip("+")
        if self.s.opted_in is not None and number not in {n.lstrip("+") for n in self.s.opted_in}:
            return wa_error(
                131030, "Recipient phone number not in allowed list", "Add the number to the allowed list"
            )
        problem = self._check_type(body, kind, number)
        if problem is not None:
            return problem
        now = self.s.now()
        if not self.s.per_second.take(phone, now).allowed:
            return wa_error(130429, "Rate limit hit", "Cloud API message throughput has been reached.")
        last = self.s.last_to.get(f"{phone}:{number}")
        if last is not None and now - last < PAIR_GAP:
            return wa_error(
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                "Too many messages sent to this number",
            )
        self.s.last_to[f"{phone}:{number}"] = now
        wamid = f"wamid.HBgL{self.s.next_id():012d}"
        text = self._text(body, kind)
        self.s.posts.append(
            FakePost(
                id=wamid,
                account=account,
                text=text,
                created_at=now,
                data={**body, "phone": phone, "to": number},
            )
        )
        message: dict[str, str] = {"id": wamid}
        if kind == "template":
            # cloud-api/reference/messages: a template's answer says whether it was accepted or
            # held by template pacing; pywa reads it into ``SentTemplate.status``.
            message["message_status"] = "accepted"
        reply = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": number}],
            "messages": [message],
        }
        return json_reply(reply, 200, headers)

    def _check_type(self, body: dict[str, Any], kind: object, number: str) -> web.Response | None:
        if kind == "template":
            name = (body.get("template") or {}).get("name")
            if name not in self.s.templates:
                return wa_error(
                    132001,
                    "Template name does not exist in the translation",
                    f"template name ({name}) does not exist",
                )
            for component in (body.get("template") or {}).get("components") or []:
                for parameter in component.get("parameters") or []:
                    value = str(parameter.get("text") or "")
                    if re.search(r"[\n\t]| {5,}", value):
                        return wa_error(
                            132018,
                            "There was an issue with the parameters in your template.",
                            "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
                        )
            return None
        if kind not in ("text", "image"):
            return wa_error(100, "Invalid parameter", f"type {kind} is not supported by this fake")
        if number not in {n.lstrip("+") for n in self.s.open_windows}:
            return wa_error(
                131047,
                "Re-engagement message",
                "More than 24 hours have passed since the recipient last replied to the sender number.",
            )
        return None

    @staticmethod
    def _text(body: dict[str, Any], kind: object) -> str:
        if kind == "text":
            return str((body.get("text") or {}).get("body") or "")
        if kind == "image":
            return str((body.get("image") or {}).get("caption") or "")
        params = [
            p.get("text", "")
            for c in (body.get("template") or {}).get("components") or []
            for p in c.get("parameters") or []
            if p.get("type") == "text"
        ]
        return " ".join(str(p) for p in params)


async def _phone_number(state: WhatsAppState, request: web.Request) -> web.Response:
    """``GET /{phone-number-id}``: the WhatsApp Business phone number node; another business's
    number answers Graph's 100/33 (does not exist or missing permissions)."""
    phone = request.match_info["phone"]
    account, headers = authorise(state, request, phone)
    if not digits(phone) or state.phone_owners.get(phone, account) != account:
        return graph_error(
            f"Unsupported get request. Object with ID '{phone}' does not exist, cannot be loaded due"
            " to missing permissions, or does not support this operation.",
            100,
            subcode=33,
        )
    node = {
        "verified_name": account,
        "code_verification_status": "VERIFIED",
        "display_phone_number": f"+62 811-{phone[-7:-4] or '000'}-{phone[-4:]}",
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "id": phone,
    }
    return json_reply(node, 200, headers)


def create_app(state: WhatsAppState | None = None) -> web.Application:
    state = state or WhatsAppState()
    fake = _WhatsApp(state)
    app = new_fake_app(state)
    add_mint_route(app, state, "whatsapp")  # the developer portal's "generate token"
    comment_routes = meta_comments.install(app, state, "whatsapp")
    add_graph_routes(
        app,
        GRAPH_VERSION,
        [
            *comment_routes,
            ("POST", "/{phone}/messages", fake.send),
            ("GET", "/{phone}", functools.partial(_phone_number, state)),
        ],
    )
    return app

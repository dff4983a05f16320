"""The inbox's HTTP entry points: Meta's webhooks and the operators' API.

Webhooks (no API key: Meta signs instead)::

    GET  /webhooks/meta   hub.mode=subscribe, hub.verify_token, hub.challenge → the challenge (403 otherwise)
    POST /webhooks/meta   a delivery; 401 without a valid X-Hub-Signature-256, 413 over the limit,
                          200 once its comments are on ``comments.observed``. A signed body that
                          cannot be read is dead-lettered and answered 200 (Meta would only
                          retry it); a forged one is never written anywhere.

The page: ``GET /`` (English and Bahasa Indonesia, ``services.inbox.page``). The OpenAPI 3.1
document of every route: ``GET /openapi.json``, no key (``services.inbox.openapi``).

API (``Authorization: Bearer <key>``; every role reads and drafts; a key limited to some
channels sees and acts on those only)::

    GET  /v1/inbox                    ?channel=&state=&post=&assignee=&limit=50&cursor=
                                      → items, total, next_cursor, waiting_over_target (of the
                                      comments matched, those unanswered past their target)
    GET  /v1/inbox/channels           each channel: how it is read, or why it cannot be, and
                                      what it cannot do (``abilities``: read, reply, hide,
                                      delete, quota; ``services.inbox.abilities``)
    GET  /v1/inbox/terms              ?hours=6&channel=&limit=20 → the most frequent terms of the
                                      comments written in the last hours (``services.inbox.terms``)
    GET  /v1/inbox/volume             ?channel= → comments per post and per tag in the last 15 min
                                      and hour, and which posts spike now (``services.inbox.insights``)
    GET  /v1/inbox/{key}
    POST /v1/inbox/{key}/assign       {"assignee", "reason"}
    POST /v1/inbox/{key}/reply        {"text", "override"}: answers, or drafts where the channel
                                      requires four eyes (202, waiting for an approver)
    POST /v1/inbox/{key}/approve      {"override"}: an approver (not the draft's author) sends it
    POST /v1/inbox/{key}/hide | close | reopen | delete   {"reason"}: delete only where the
                                      platform deletes a citizen's comment (422 elsewhere)
    POST | DELETE /v1/inbox/{key}/answering     who is answering (``services.inbox.answering_api``);
                                      a reply or draft over another's needs ``override``

The complaint channel's routes (``/v1/inbox/{key}/complaint``, ``/v1/complaints``) are
``services.inbox.complaint_api``'s, added to this app by the wiring.

Refusals are ``application/problem+json`` (RFC 9457, ``shared.problems``) with ingest's
``errors`` member, ``[{"channel","field","rule","message"}]``: 4xx for every bad request.
A write the broker does not acknowledge is 503 with ``Retry-After`` and changes nothing
(``services.inbox.broker_refusal``): the same call is safe to repeat. ``cursor`` is opaque: the
``next_cursor`` of the page before (``services.inbox.book``); any other value is a 400.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from services.inbox.abilities import abilities
from services.inbox.answering import AnswerClaims
from services.inbox.book import BadCursor, decode_cursor, encode_cursor, key_of, page_after
from services.inbox.broker_refusal import broker_refusals
from services.inbox.collector import Collector
from services.inbox.content_tags import ContentTags
from services.inbox.errors import BadSignature, SaidRefusal
from services.inbox.http_bodies import Approve, Assign, Reason, Reply
from services.inbox.http_query import (
    LIST_LIMIT,
    TERMS_HOURS,
    TERMS_LIMIT,
    bounded,
    channels_asked,
    given,
    state_asked,
    visible_channels,
)
from services.inbox.insights import terms_body, volume_body
from services.inbox.keeper import InboxKeeper, NoSuchEntry
from services.inbox.lifecycle import Command
from services.inbox.openapi import openapi_document
from services.inbox.page import add_page
from services.inbox.responsiveness import answer_target, waited_on, waiting_over_target
from services.inbox.settings import InboxSettings
from services.inbox.terms import lexicon
from services.inbox.webhooks import SIGNATURE_HEADER, challenge_answer, comments_of, verify_signature
from services.inbox.working_time import WorkingHours
from shared.channels import ChannelDirectory
from shared.events import InboxAction, InboxChanged, InboxState
from shared.http_auth import KeyStore, Principal, Role, authenticate
from shared.http_errors import (
    BadRequest,
    FieldError,
    HttpRefusal,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    ValidationFailed,
    field_error,
    parse_json_body,
    said_error,
)
from shared.http_probes import add_probe_routes
from shared.messages import said
from shared.metrics import metrics_response
from shared.problems import problem_response, refusal_response

log = logging.getLogger("warta.inbox.http")

API_BODY_LIMIT = 64 * 1024
M = TypeVar("M", bound=BaseModel)
APPROVER_ROLES = frozenset({Role.APPROVER, Role.ADMIN})


@dataclass(frozen=True)
class Deps:
    settings: InboxSettings
    keys: KeyStore
    channels: ChannelDirectory
    keeper: InboxKeeper
    collector: Collector
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    content_tags: ContentTags = field(default_factory=ContentTags)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    claims: AnswerClaims = field(default_factory=AnswerClaims)  # who is answering which comment

    def answer_target(self, channel: str) -> timedelta:
        default = timedelta(seconds=self.settings.answer_target_s)
        return answer_target(self.channels.get(channel), default)

    def wait_of(self, entry: InboxChanged, now: datetime) -> timedelta:
        return waited_on(self.channels.get(entry.channel), self.working_hours, entry, now)


DEPS: web.AppKey[Deps] = web.AppKey("inbox_deps", Deps)


def entry_json(entry: InboxChanged) -> dict[str, Any]:
    data: dict[str, Any] = entry.model_dump(mode="json", exclude_none=True)
    data["key"] = key_of(entry)
    if entry.platform_hide is not None:
        # Said plainly beside the detail: a hidden entry is not always hidden where citizens look.
        data["hidden_on_platform"] = entry.platform_hide.on_platform
    return data


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except (HttpRefusal, web.HTTPException) as exc:
        return refusal_response(request, exc)
    except SaidRefusal as exc:  # ApprovalRequired (four eyes) among them, each with its own status
        return problem_response(request, exc.status, [said_error(None, None, exc.said)])
    except NoSuchEntry as exc:
        return problem_response(request, 404, [field_error(None, None, "not_found.comment", key=str(exc))])
    except ValidationError as exc:
        # A change the event's contract refuses (a value past a bound): the request's fault.
        return problem_response(request, 422, [schema_error(exc)])


def json_text(data: Any) -> str:
    """Every JSON body the inbox answers with, for ``web.json_response(..., dumps=json_text)``:
    orjson, which writes datetimes as ISO 8601 (the standard library's encoder refuses them), and
    keys that are not strings as strings, as every other service's answers (``shared.http_probes``)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()


def schema_error(exc: ValidationError) -> FieldError:
    """The first fault pydantic found, under the inbox's one rule for them: ``schema``."""
    return schema_errors(exc)[0]


def schema_errors(exc: ValidationError) -> list[FieldError]:
    """Every fault pydantic found, each under the rule ``schema``."""
    faults = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"]) or None
        faults.append(field_error(None, where, "schema", field=where, detail=error["msg"]))
    return faults


# -- webhooks -------------------------------------------------------------------------------


async def read_capped(request: web.Request, limit: int, what: str) -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` (declared or streamed).

    ``StreamReader.read(n)`` answers what has arrived, not n bytes: the body is read to its end.
    """
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(said("payload_too_large.at_most", what=what, limit=limit))
    body = bytearray()
    while chunk := await request.content.read(65536):
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(said("payload_too_large.at_most", what=what, limit=limit))
    return bytes(body)


async def webhook_verify(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    answer = challenge_answer(dict(request.query), deps.settings.meta_verify_token.get_secret_value())
    if answer is None:
        return web.Response(status=403, text="verification refused")
    return web.Response(text=answer)


async def webhook_delivery(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    body = await read_capped(request, deps.settings.webhook_max_bytes, "a delivery")
    try:
        verify_signature(
            body, request.headers.get(SIGNATURE_HEADER), deps.settings.meta_app_secret.get_secret_value()
        )
    except BadSignature as exc:
        raise Unauthenticated(exc.said) from exc
    now = deps.clock()
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        await deps.collector.reject("webhook:meta", body, f"a signed delivery that is not JSON: {exc}", now)
        return web.json_response({"received": 0, "dead_lettered": 1})
    parsed = comments_of(decoded, deps.channels, deps.collector.lookup, now)
    written = await deps.collector.emit(parsed, "webhook:meta", now)
    return web.json_response({"received": written, "dead_lettered": len(parsed.problems)})


# -- the inbox API --------------------------------------------------------------------------


def caller(request: web.Request) -> Principal:
    return authenticate(request.app[DEPS].keys, request.headers.get("Authorization"))


def entry_for(request: web.Request, principal: Principal) -> InboxChanged:
    key = request.match_info["key"]
    entry = request.app[DEPS].keeper.book.get(key)
    if entry is None or not principal.may_target(entry.channel):
        # A comment on another channel is as absent as one that does not exist.
        raise NotFound(said("not_found.comment", key=key))
    return entry


def _channels_asked(request: web.Request, principal: Principal) -> list[str]:
    return channels_asked(given(request.query), principal, request.app[DEPS].channels)


async def inbox_terms(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    channels, query = _channels_asked(request, principal), given(request.query)
    hours = bounded(query, "hours", "6", *TERMS_HOURS, whole=False)
    limit = int(bounded(query, "limit", "20", *TERMS_LIMIT, whole=True))
    entries = deps.keeper.book.select(channels=channels)
    body = terms_body(entries, deps.clock(), hours, limit, lexicon())
    body["channel"] = query.get("channel")
    return web.json_response(body, dumps=json_text)


async def inbox_volume(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    channels = _channels_asked(request, principal)
    now = deps.clock()
    deps.keeper.spikes.settle(now)
    spiking = {(s.channel, s.post_id) for s in deps.keeper.spikes.open_spikes()}
    body = volume_body(deps.keeper.book.select(channels=channels), now, deps.content_tags.of, spiking)
    return web.json_response(body, dumps=json_text)


async def list_entries(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    query = given(request.query)
    channels = _channels_asked(request, principal)
    state = state_asked(query, InboxState)
    limit = int(bounded(query, "limit", "50", *LIST_LIMIT, whole=True))
    try:
        after = decode_cursor(query["cursor"]) if query.get("cursor") else None
    except BadCursor:
        raise BadRequest(said("cursor"), field="cursor") from None
    found = deps.keeper.book.select(
        channels=channels, state=state, post_id=query.get("post"), assignee=query.get("assignee")
    )
    if "tag" in query:  # the comment's post carries its item's tags (content.approved)
        found = [e for e in found if query["tag"] in deps.content_tags.of(e.comment.content_id)]
    page, last = page_after(found, after, limit)
    now = deps.clock()
    deps.claims.prune(now)
    over = waiting_over_target(found, now, deps.answer_target, deps.wait_of)
    body: dict[str, Any] = {
        "items": [deps.claims.shown(entry_json(e), now) for e in page],
        "total": len(found),
        # Of the comments these filters match, how many wait unanswered past their channel's target.
        "waiting_over_target": sum(over.values()),
    }
    if last is not None:
        body["next_cursor"] = encode_cursor(last)
    return web.json_response(body, dumps=json_text)


async def channel_statuses(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    visible = set(visible_channels(principal, deps.channels))
    statuses = [
        {**s.to_json(), "abilities": abilities(channel)}
        for name, s in sorted(deps.collector.status.items())
        if name in visible and (channel := deps.channels.get(name)) is not None
    ]
    return web.json_response({"channels": statuses}, dumps=json_text)


async def show_entry(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    return web.json_response(
        deps.claims.shown(entry_json(entry_for(request, caller(request))), deps.clock()), dumps=json_text
    )


async def read_model(request: web.Request, model: type[M], *, optional: bool = False) -> M:
    """The body as ``model``: one JSON object, at most ``API_BODY_LIMIT`` bytes; with
    ``optional``, an empty body is the model's defaults. Every inbox route reads its body here."""
    raw = await read_capped(request, API_BODY_LIMIT, "a request body")
    empty = optional and not raw.strip()
    decoded = {} if empty else parse_json_body(raw, request.headers.get("Content-Type"), API_BODY_LIMIT)
    if not isinstance(decoded, dict):
        raise BadRequest(said("malformed_json.not_object"))
    try:
        return model.model_validate(decoded)
    except ValidationError as exc:
        raise ValidationFailed(schema_errors(exc)) from None


def _action(
    action: InboxAction, model: type[Reason], *, drafts: bool = False
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler for ``action``; with ``drafts``, a reply on a four-eyes channel becomes a draft."""

    async def handler(request: web.Request) -> web.Response:
        deps, principal = request.app[DEPS], caller(request)
        entry = entry_for(request, principal)
        body = await read_model(request, model)
        channel = deps.channels.get(entry.channel)
        four_eyes = channel is not None and channel.replies_need_approval
        chosen = InboxAction.DRAFT_REPLY if drafts and four_eyes else action
        command = Command(
            action=chosen,
            by=principal.person,
            reason=body.reason,
            assignee=getattr(body, "assignee", None),
            text=getattr(body, "text", None),
            override=getattr(body, "override", False),
            by_approver=principal.role in APPROVER_ROLES,
            read_draft_at=_instant(getattr(body, "drafted_at", None), "drafted_at"),
        )
        if command.text:  # a new answer: not over a colleague who is writing one (answering)
            deps.claims.check(key_of(entry), principal.person, deps.clock(), override=command.override)
        changed = await deps.keeper.change(key_of(entry), command, four_eyes=four_eyes)
        if command.text:
            deps.claims.release(key_of(entry), principal.person)
        status = 202 if chosen == InboxAction.DRAFT_REPLY else 200
        return web.json_response(entry_json(changed), status=status, dumps=json_text)

    return handler


def _instant(raw: str | None, field: str) -> datetime | None:
    """A body's RFC 3339 instant (its shape checked by the model); 422 for a day no calendar has."""
    try:
        return datetime.fromisoformat(raw) if raw is not None else None
    except ValueError:
        raise ValidationFailed(said("type.instant", field=field), field=field) from None


async def healthz(request: web.Request) -> web.Response:
    # Served once the book is rebuilt (the app exists only then): ready means complete.
    deps = request.app[DEPS]
    return web.json_response({"ok": True, "entries": len(deps.keeper.book)})


async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[DEPS].keeper.metrics.registry)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(), dumps=json_text)


def create_app(
    deps: Deps, ahead_of_entries: Sequence[Callable[[web.Application], None]] = ()
) -> web.Application:
    """The inbox's app; ``ahead_of_entries`` add routes under ``/v1/inbox/`` that the per-comment
    ``/v1/inbox/{key}`` would otherwise match (aiohttp tries routes in the order added)."""
    app = web.Application(
        middlewares=[_errors, broker_refusals], client_max_size=deps.settings.webhook_max_bytes + 1
    )
    app[DEPS] = deps
    add_page(app)
    add_probe_routes(app, healthz=healthz, readyz=healthz, metrics=metrics, openapi=openapi)
    app.router.add_get("/webhooks/meta", webhook_verify)
    app.router.add_post("/webhooks/meta", webhook_delivery)
    app.router.add_get("/v1/inbox", list_entries)
    app.router.add_get("/v1/inbox/channels", channel_statuses)
    for add_routes in ahead_of_entries:
        add_routes(app)
    app.router.add_get("/v1/inbox/terms", inbox_terms)
    app.router.add_get("/v1/inbox/volume", inbox_volume)
    app.router.add_get("/v1/inbox/{key}", show_entry)
    app.router.add_post("/v1/inbox/{key}/assign", _action(InboxAction.ASSIGN, Assign))
    app.router.add_post("/v1/inbox/{key}/reply", _action(InboxAction.REPLY, Reply, drafts=True))
    app.router.add_post("/v1/inbox/{key}/approve", _action(InboxAction.REPLY, Approve))
    app.router.add_post("/v1/inbox/{key}/hide", _action(InboxAction.HIDE, Reason))
    app.router.add_post("/v1/inbox/{key}/close", _action(InboxAction.CLOSE, Reason))
    app.router.add_post("/v1/inbox/{key}/reopen", _action(InboxAction.REOPEN, Reason))
    app.router.add_post("/v1/inbox/{key}/delete", _action(InboxAction.DELETE, Reason))
    return app

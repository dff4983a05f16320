"""Ingest's HTTP entry points. Handlers only translate: HTTP in, pure core (validation, auth,
status view) in the middle, Kafka out. Every refusal is an ``HttpRefusal`` rendered by the
error middleware as RFC 9457 problem details (``shared.problems``); nothing becomes a bare 500.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from opentelemetry.trace import SpanKind

from services.ingest.decisions import IdempotencyRecord, key_claim
from services.ingest.drafts_api import add_draft_routes
from services.ingest.handling import (
    DEPS,
    Deps,
    accept,
    command,
    decide,
    principal_of,
    read_body,
    settle,
)
from services.ingest.listing import SortKey, decode_cursor, encode_cursor
from services.ingest.openapi import DOCS_HTML, openapi_document
from services.ingest.request_params import (
    parse_idempotency_key,
    parse_query_instant,
    validate_pause,
    validate_withdraw,
)
from services.ingest.scope import channel_asked, item_json, item_seen
from services.ingest.validation import ValidSubmission, check_event_size, validate_submission
from shared.capabilities import capabilities_for_channel
from shared.events import ContentApproved, ControlAction, ControlIssued, IdempotencyClaimed
from shared.http_auth import authorize
from shared.http_errors import (
    Conflict,
    Forbidden,
    HttpRefusal,
    PayloadTooLarge,
    ValidationFailed,
    field_error,
)
from shared.http_errors import FieldError as FE
from shared.http_probes import add_probe_routes, alive, json_response, readiness
from shared.ids import new_event_id, random_hex
from shared.metrics import metrics_response
from shared.problems import problem_response, refusal_response
from shared.tracing import current_traceparent, span

__all__ = ["DEPS", "Deps", "create_app"]

log = logging.getLogger("warta.ingest.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    deps = request.app[DEPS]
    started = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    status = 500
    try:
        # The item's trace starts here (shared/tracing.py); a no-op while tracing is off.
        with span(
            f"{request.method} {route}", kind=SpanKind.SERVER, http_method=request.method, route=route
        ) as current:
            response = await handler(request)
            current.set_attribute("http.response.status_code", response.status)
        status = response.status
        return response
    except HttpRefusal as exc:
        status = exc.status
        return refusal_response(request, exc)
    except web.HTTPRequestEntityTooLarge:
        status = 413
        err = PayloadTooLarge(
            [field_error(None, None, "payload_too_large.over", limit=deps.settings.max_body_bytes)]
        )
        return problem_response(request, 413, err.errors)
    except web.HTTPException as exc:
        status = exc.status
        allow = {k: v for k, v in exc.headers.items() if k == "Allow"}
        return problem_response(request, exc.status, [FE(None, None, "http", exc.reason).to_json()], allow)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        internal = field_error(None, None, "internal")
        return problem_response(request, 500, [internal])
    finally:
        deps.metrics.observe(request.method, route, status, time.perf_counter() - started)


# ---- content -----------------------------------------------------------------------------------


async def post_content(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    raw, body = await read_body(request)
    key = parse_idempotency_key(request.headers.get("Idempotency-Key"))
    digest = hashlib.sha256(raw).hexdigest() if key else None
    now = deps.clock()
    earlier = await _earlier_use(deps, principal.person, key, digest) if key and digest else None
    # A retry is judged as of its key's first use, when its item was accepted: the same bytes
    # answer the same item later too, past their deadline even (design.md, guarantee 1).
    submission = _validated(deps, body, earlier.at if earlier is not None else now)
    req = submission.request
    approval = getattr(req, "approval", None)
    authorize(
        principal,
        "submit_approved",
        channels=[v.channel for v in submission.variants],
        author=req.author,
        approved_by=approval.approved_by if approval else None,
    )

    def item(content_id: str) -> ContentApproved:
        return submission.approved_event(
            content_id=content_id,
            event_id=new_event_id(),
            occurred_at=now,
            submitted_by=principal.person,
            idempotency_key=key or None,
            request_sha256=digest,
            traceparent=current_traceparent(),
        )

    first = item(random_hex(24))
    # Before a key is claimed: an item the broker would refuse must not hold the key.
    check_event_size(first, deps.settings.max_event_bytes)
    if not key or digest is None:
        return await accept(deps, first)
    if earlier is not None:
        record, won = earlier, False
    else:  # no await since the lookup: the view still holds no record of this key
        record, won = await _claim_key(deps, principal.person, key, digest)
    if record.request_sha256 != digest:  # another instance's claim came first, for other bytes
        raise Conflict([field_error(None, None, "idempotency_key")])
    return await settle(
        deps, record.content_id, won=won, make=lambda: item(record.content_id), hold=(principal.person, key)
    )


def _validated(deps: Deps, body: object, now: datetime) -> ValidSubmission:
    try:
        return validate_submission(
            body, deps.channels, now, require_approval=True, horizon=deps.settings.schedule_horizon
        )
    except ValidationFailed as exc:
        # A broken four-eyes rule is a 403 (who may do what), even when the body alone shows it
        # (author == approval.approved_by); mixed with other problems, every one is a 422.
        if all(e.rule == "four_eyes" for e in exc.errors):
            raise Forbidden(exc.errors) from exc
        raise


async def _earlier_use(deps: Deps, person: str, key: str, digest: str) -> IdempotencyRecord | None:
    """What this (person, key) already stands for, if it was used; 409 for another body."""
    await deps.caught_up.wait()
    record = deps.view.keys.find(person, key, deps.clock())
    if record is not None and record.request_sha256 != digest:
        raise Conflict([field_error(None, None, "idempotency_key")])
    return record


async def _claim_key(deps: Deps, person: str, key: str, digest: str) -> tuple[IdempotencyRecord, bool]:
    """Claims (person, key), which ``_earlier_use`` found unused: what it stands for once the log
    has settled it (ours, or another instance's claim that came first), and whether we won.

    Concurrent requests with one key, on any ingest instance, all read the same first claim.
    """
    now = deps.clock()
    # A claim of ours that answered 503 may still be stored: while the broker has not settled
    # it, it is this key's first use as far as we know (a different body is refused).
    hold = ("claim", person, key)
    held = deps.writer.held(hold)
    pending = held.event if held is not None and isinstance(held.event, IdempotencyClaimed) else None
    if pending is not None and pending.request_sha256 != digest:
        raise Conflict([field_error(None, None, "idempotency_key")])
    claim = IdempotencyClaimed(
        event_id=new_event_id(),
        occurred_at=now,
        content_id=random_hex(24),
        person=person,
        idempotency_key=key,
        request_sha256=digest,
    )
    await decide(deps, deps.topics.ingest_idempotency, key_claim(person, key), claim, hold)
    record = deps.view.keys.find(person, key, now)
    assert record is not None  # our own claim, at the latest, was read
    # The pending claim's request was answered 503 and is gone: if it won, we write its item.
    ours = {claim.content_id} | ({pending.content_id} if pending else set())
    return record, record.content_id in ours


async def get_content(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    content_id = request.match_info["content_id"]
    item = item_seen(principal, deps.view.find(content_id), content_id)
    return json_response(item_json(principal, item))


def _query_time(request: web.Request, name: str) -> datetime | None:
    value = request.query.get(name)
    return None if value is None else parse_query_instant(name, value)


_LIST_QUERY = frozenset({"state", "channel", "from", "to", "cursor"})


def _cursor(request: web.Request) -> SortKey | None:
    value = request.query.get("cursor")
    if not value:
        return None
    try:
        return decode_cursor(value, 3)
    except ValueError:
        raise ValidationFailed([field_error(None, "cursor", "type.next_cursor")]) from None


async def list_content(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request, deps.list_throttle)
    unknown = [name for name in request.query if name not in _LIST_QUERY]
    if unknown:
        # Like an unknown body field: a typo (?chanel=) must not silently widen the answer.
        raise ValidationFailed(
            [field_error(None, name, "unknown_field.query", field=name) for name in unknown]
        )
    channel = request.query.get("channel")
    channel_asked(principal, channel)
    rows, page = deps.view.jobs(
        limit=deps.settings.page_size,
        state=request.query.get("state"),
        channel=channel,
        start=_query_time(request, "from"),
        end=_query_time(request, "to"),
        after=_cursor(request),
        visible=principal.may_target,
    )
    return json_response(
        {
            "jobs": [
                {"content_id": item.content_id, "topic_key": item.topic_key, **status.to_json()}
                for item, status in rows
            ],
            "next_cursor": encode_cursor(page.next_key) if page.next_key else None,
            "total": page.total,
        }
    )


async def withdraw(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    _, body = await read_body(request)
    req = validate_withdraw(body)
    content_id = request.match_info["content_id"]
    item = item_seen(principal, deps.view.find(content_id), content_id)
    authorize(principal, "withdraw", channels=list(item.channels))
    event = ControlIssued(
        event_id=new_event_id(),
        occurred_at=deps.clock(),
        action=ControlAction.WITHDRAW,
        content_id=content_id,
        channels=tuple(item.channels),
        by=principal.person,
        reason=req.reason,
    )
    await command(deps, deps.topics.content_control, content_id, event)
    return json_response({"content_id": content_id, "action": "withdraw", "accepted": True}, 202)


async def _pause_or_resume(request: web.Request, action: ControlAction) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)
    _, body = await read_body(request)
    req = validate_pause(body, deps.channels)
    channels = tuple(req.channels or ())
    authorize(principal, action.value, channels=list(channels) or list(deps.channels.ids))
    event = ControlIssued(
        event_id=new_event_id(),
        occurred_at=deps.clock(),
        action=action,
        channels=channels,
        by=principal.person,
        reason=req.reason,
    )
    await command(deps, deps.topics.content_control, "*", event)
    return json_response({"action": action.value, "channels": list(channels) or "all", "accepted": True}, 202)


async def pause(request: web.Request) -> web.Response:
    return await _pause_or_resume(request, ControlAction.PAUSE)


async def resume(request: web.Request) -> web.Response:
    return await _pause_or_resume(request, ControlAction.RESUME)


# ---- channels, health, docs --------------------------------------------------------------------
async def list_channels(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await principal_of(request)

    health = deps.health()
    out = []
    for ch in deps.channels.channels:
        if not principal.may_target(ch.id):
            continue  # another channel's pause reason and health are its own (services.ingest.scope)
        caps = capabilities_for_channel(ch)
        paused = deps.view.paused.get(ch.id)
        out.append(
            {
                "channel": ch.id,
                "platform": ch.platform,
                "account": ch.account,
                "timezone": ch.timezone,
                "constraints": {
                    "min_gap_minutes": ch.min_gap_minutes,
                    "max_posts_per_day": ch.max_posts_per_day,
                    "caps": [c.model_dump() for c in ch.caps],
                    "blackouts": [b.model_dump(mode="json") for b in ch.blackouts],
                    "max_text_length": caps.text_max,
                },
                "paused": {"by": paused.by, "reason": paused.reason} if paused else None,
                "health": health.get(ch.id, "unknown"),
            }
        )
    return json_response({"channels": out})


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    problems = await deps.readiness.problems()  # cached: this route needs no key
    if not deps.caught_up.is_set():
        problems = [*problems, "status view still replaying the topics"]
    return readiness(problems)


async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[DEPS].metrics.registry)


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


async def docs(request: web.Request) -> web.Response:
    return web.Response(text=DOCS_HTML, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/content", post_content)
    app.router.add_get("/v1/content", list_content)
    app.router.add_get("/v1/content/{content_id}", get_content)
    app.router.add_post("/v1/content/{content_id}/withdraw", withdraw)
    add_draft_routes(app)
    app.router.add_post("/v1/pause", pause)
    app.router.add_post("/v1/resume", resume)
    app.router.add_get("/v1/channels", list_channels)
    add_probe_routes(app, healthz=alive, readyz=readyz, metrics=metrics, openapi=openapi)
    app.router.add_get("/docs", docs)


def create_app(deps: Deps) -> web.Application:
    # client_max_size one byte over our limit: our own check answers 413 with the errors body.
    app = web.Application(middlewares=[error_middleware], client_max_size=deps.settings.max_body_bytes + 1)
    app[DEPS] = deps
    add_routes(app)
    return app

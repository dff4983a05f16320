"""Ingest's HTTP entry points. Handlers only translate: HTTP in, pure core (validation, auth,
status view) in the middle, Kafka out. Every refusal is an ``IngestError`` rendered by the
error middleware as ``{"errors": [...]}``; nothing becomes a bare 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiohttp import web
from aiokafka.structs import RecordMetadata

from services.ingest.auth import KeyStore, Principal, authenticate, authorize
from services.ingest.errors import (
    Conflict,
    Forbidden,
    IngestError,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
    parse_json_body,
)
from services.ingest.errors import FieldError as FE
from services.ingest.metrics import IngestMetrics
from services.ingest.openapi import DOCS_HTML, openapi_document
from services.ingest.settings import IngestSettings
from services.ingest.status_view import IdempotencyRecord, StatusView
from services.ingest.throttle import KeyThrottle
from services.ingest.validation import (
    parse_cursor,
    parse_idempotency_key,
    parse_query_instant,
    validate_pause,
    validate_submission,
    validate_withdraw,
)
from services.ingest.writer import EventWriter
from shared.capabilities import capabilities_for_channel
from shared.channels import ChannelDirectory
from shared.events import (
    Approval,
    ContentApproved,
    ControlAction,
    ControlIssued,
    DraftApproved,
    DraftSubmitted,
    Event,
)
from shared.ids import new_event_id, random_hex
from shared.kafka import KafkaUnavailable, missing_topics
from shared.topics import TopicRegistry

log = logging.getLogger("warta.ingest.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Deps:
    settings: IngestSettings
    topics: TopicRegistry
    channels: ChannelDirectory
    keys: KeyStore
    view: StatusView
    writer: EventWriter
    caught_up: asyncio.Event
    metrics: IngestMetrics
    throttle: KeyThrottle
    clock: Callable[[], datetime]
    health: Callable[[], dict[str, object]]
    # Tells the feeder that a record this instance wrote is already in the view (feeder.py).
    applied_here: Callable[[str, int, int], None] = lambda _topic, _partition, _offset: None


DEPS = web.AppKey("deps", Deps)


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
        headers=headers,
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    deps = request.app[DEPS]
    started = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except IngestError as exc:
        status = exc.status
        return json_response(exc.to_body(), exc.status, exc.headers())
    except web.HTTPRequestEntityTooLarge:
        status = 413
        err = PayloadTooLarge(f"the body is over the {deps.settings.max_body_bytes} byte limit")
        return json_response(err.to_body(), 413)
    except web.HTTPException as exc:
        status = exc.status
        body = {"errors": [FE(None, None, "http", exc.reason).to_json()]}
        return json_response(body, exc.status, {k: v for k, v in exc.headers.items() if k == "Allow"})
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        body = {"errors": [FE(None, None, "internal", "internal error; it has been logged").to_json()]}
        return json_response(body, 500)
    finally:
        deps.metrics.observe(request.method, route, status, time.perf_counter() - started)


# ---- helpers ---------------------------------------------------------------------------------
async def _principal(request: web.Request) -> Principal:
    deps = request.app[DEPS]
    principal = authenticate(deps.keys, request.headers.get("Authorization"))
    wait = deps.throttle.take(principal.person + ":" + principal.role, time.monotonic())
    if wait > 0:
        raise TooManyRequests("too many requests for this API key", retry_after=wait)
    return principal


async def _body(request: web.Request) -> tuple[bytes, object]:
    deps = request.app[DEPS]
    raw = await request.read()
    return raw, parse_json_body(raw, request.headers.get("Content-Type"), deps.settings.max_body_bytes)


def _unavailable(deps: Deps, exc: KafkaUnavailable) -> ServiceUnavailable:
    log.warning("broker unavailable: %s", exc)
    return ServiceUnavailable(
        "the broker did not acknowledge in time, so this is not accepted yet; retry with the same "
        "Idempotency-Key, which never stores an item twice",
        retry_after=deps.settings.retry_after_s,
    )


async def _send(
    deps: Deps, topic: str, key: str, event: Event, hold: tuple[str, str] | None = None
) -> RecordMetadata:
    try:
        return await deps.writer.write(topic, key, event, hold=hold)
    except KafkaUnavailable as exc:
        raise _unavailable(deps, exc) from exc


async def _earlier_answer(deps: Deps, person: str, key: str, digest: str) -> IdempotencyRecord | None:
    """The first answer to this Idempotency-Key, if it has one: from the view, or from a write
    that answered 503 and that the broker may still store (``services.ingest.writer``)."""
    await deps.caught_up.wait()
    earlier = deps.view.idempotency.get((person, key))
    held = deps.writer.held((person, key)) if earlier is None else None
    if held is not None and isinstance(held.event, ContentApproved):
        event = held.event
        channels = tuple(v.channel for v in event.variants)
        earlier = IdempotencyRecord(event.request_sha256 or "", event.content_id, channels)
    if earlier is None:
        return None
    if earlier.request_sha256 != digest:
        raise Conflict("this Idempotency-Key was used with a different body", rule="idempotency_key")
    if held is not None:
        try:
            if not await deps.writer.outcome(held):
                return None  # the broker refused the first write: nothing was stored, write anew
        except KafkaUnavailable as exc:
            raise _unavailable(deps, exc) from exc
        deps.view.apply(held.event)
    return earlier


def _content_id(person: str, idempotency_key: str | None) -> str:
    # Derived from the key when there is one: a retry after a lost 202 (even across an ingest
    # restart) names the same item, and the scheduler plans each item's jobs once.
    if idempotency_key:
        return hashlib.sha256(f"{person}\0{idempotency_key}".encode()).hexdigest()[:24]
    return random_hex(24)


# ---- content -----------------------------------------------------------------------------------
async def post_content(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await _principal(request)
    raw, body = await _body(request)
    now = deps.clock()
    try:
        submission = validate_submission(
            body, deps.channels, now, require_approval=True, horizon=deps.settings.schedule_horizon
        )
    except ValidationFailed as exc:
        # Issue 3: a broken four-eyes rule is a 403, even when the body alone shows it
        # (author == approval.approved_by); mixed with other problems, every one is a 422.
        if all(e.rule == "four_eyes" for e in exc.errors):
            raise Forbidden(exc.errors) from exc
        raise
    req = submission.request
    approval = getattr(req, "approval", None)
    authorize(
        principal,
        "submit_approved",
        channels=[v.channel for v in submission.variants],
        author=req.author,
        approved_by=approval.approved_by if approval else None,
    )
    key = parse_idempotency_key(request.headers.get("Idempotency-Key"))
    digest = None
    if key:
        digest = hashlib.sha256(raw).hexdigest()
        earlier = await _earlier_answer(deps, principal.person, key, digest)
        if earlier is not None:
            return _accepted(deps, earlier.content_id, list(earlier.channels))
    content_id = _content_id(principal.person, key)
    event = submission.approved_event(
        content_id=content_id,
        event_id=new_event_id(),
        occurred_at=now,
        submitted_by=principal.person,
        idempotency_key=key,
        request_sha256=digest,
    )
    hold = (principal.person, key) if key else None
    stored = await _send(deps, deps.topics.content_approved, content_id, event, hold)
    deps.view.apply(event)  # read-your-writes: GET right after 202 finds the item
    deps.applied_here(stored.topic, stored.partition, stored.offset)
    return _accepted(deps, content_id, [v.channel for v in event.variants])


def _accepted(deps: Deps, content_id: str, channels: list[str]) -> web.Response:
    return json_response(
        {"content_id": content_id, "jobs": [{"channel": ch, "state": "accepted"} for ch in channels]},
        202,
        {"Location": f"/v1/content/{content_id}"},
    )


async def get_content(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    await _principal(request)
    item = deps.view.find(request.match_info["content_id"])
    if item is None:
        raise NotFound(f"no content {request.match_info['content_id']!r}")
    return json_response(item.to_json())


def _query_time(request: web.Request, name: str) -> datetime | None:
    value = request.query.get(name)
    return None if value is None else parse_query_instant(name, value)


_LIST_QUERY = frozenset({"state", "channel", "from", "to", "cursor"})


async def list_content(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    await _principal(request)
    unknown = [name for name in request.query if name not in _LIST_QUERY]
    if unknown:
        # Like an unknown body field: a typo (?chanel=) must not silently widen the answer.
        raise ValidationFailed(
            [FE(None, name, "unknown_field", f"{name!r} is not a query parameter here") for name in unknown]
        )
    rows = deps.view.jobs(
        state=request.query.get("state"),
        channel=request.query.get("channel"),
        start=_query_time(request, "from"),
        end=_query_time(request, "to"),
    )
    start = parse_cursor(request.query.get("cursor", "0"))
    page = rows[start : start + deps.settings.page_size]
    nxt = start + len(page)
    return json_response(
        {
            "jobs": [
                {"content_id": item.content_id, "topic_key": item.topic_key, **status.to_json()}
                for item, status in page
            ],
            "next_cursor": str(nxt) if nxt < len(rows) else None,
            "total": len(rows),
        }
    )


async def withdraw(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await _principal(request)
    _, body = await _body(request)
    req = validate_withdraw(body)
    content_id = request.match_info["content_id"]
    item = deps.view.find(content_id)
    if item is None:
        raise NotFound(f"no content {content_id!r}")
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
    await _send(deps, deps.topics.content_control, content_id, event)
    deps.view.apply(event)
    return json_response({"content_id": content_id, "action": "withdraw", "accepted": True}, 202)


async def _pause_or_resume(request: web.Request, action: ControlAction) -> web.Response:
    deps = request.app[DEPS]
    principal = await _principal(request)
    _, body = await _body(request)
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
    await _send(deps, deps.topics.content_control, "*", event)
    deps.view.apply(event)
    return json_response({"action": action.value, "channels": list(channels) or "all", "accepted": True}, 202)


async def pause(request: web.Request) -> web.Response:
    return await _pause_or_resume(request, ControlAction.PAUSE)


async def resume(request: web.Request) -> web.Response:
    return await _pause_or_resume(request, ControlAction.RESUME)


# ---- drafts ------------------------------------------------------------------------------------
async def post_draft(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await _principal(request)
    _, body = await _body(request)
    submission = validate_submission(
        body, deps.channels, deps.clock(), require_approval=False, horizon=deps.settings.schedule_horizon
    )
    authorize(
        principal,
        "submit_draft",
        channels=[v.channel for v in submission.variants],
        author=submission.request.author,
    )
    if submission.request.author != principal.person:
        raise ValidationFailed(
            [FE(None, "author", "author_mismatch", f"a draft's author is its editor: {principal.person!r}")]
        )
    draft_id = random_hex(24)
    assert isinstance(body, dict)
    event = DraftSubmitted(
        event_id=new_event_id(),
        occurred_at=deps.clock(),
        draft_id=draft_id,
        author=principal.person,
        request=body,
    )
    await _send(deps, deps.topics.content_drafts, draft_id, event)
    deps.view.apply(event)
    return json_response({"draft_id": draft_id, "state": "awaiting_approval"}, 201)


async def approve_draft(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    principal = await _principal(request)
    draft = deps.view.drafts.get(request.match_info["draft_id"])
    if draft is None:
        raise NotFound(f"no draft {request.match_info['draft_id']!r}")
    if draft.content_id is not None:
        item = deps.view.find(draft.content_id)
        return _accepted(deps, draft.content_id, list(item.channels) if item else [])
    now = deps.clock()
    submission = validate_submission(
        draft.request, deps.channels, now, require_approval=False, horizon=deps.settings.schedule_horizon
    )
    authorize(
        principal,
        "approve_draft",
        channels=[v.channel for v in submission.variants],
        author=draft.author,
        approved_by=principal.person,
    )
    content_id = _content_id(principal.person, f"draft:{draft.draft_id}")
    event = submission.approved_event(
        content_id=content_id,
        event_id=new_event_id(),
        occurred_at=now,
        submitted_by=principal.person,
        approval=Approval(approved_by=principal.person, approved_at=now),
        draft_id=draft.draft_id,
    )
    await _send(deps, deps.topics.content_approved, content_id, event)
    approved = DraftApproved(
        event_id=new_event_id(),
        occurred_at=now,
        draft_id=draft.draft_id,
        content_id=content_id,
        approved_by=principal.person,
    )
    await _send(deps, deps.topics.content_drafts, draft.draft_id, approved)
    deps.view.apply(event)
    deps.view.apply(approved)
    return _accepted(deps, content_id, [v.channel for v in event.variants])


# ---- channels, health, docs --------------------------------------------------------------------
async def list_channels(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    await _principal(request)

    health = deps.health()
    out = []
    for ch in deps.channels.channels:
        caps = capabilities_for_channel(ch)
        paused = deps.view.paused.get(ch.id) or deps.view.paused.get("*")
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


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    problems: list[str] = []
    try:
        names = [s.name for s in deps.topics.specs()]
        missing = await missing_topics(deps.settings.kafka, names)
        if missing:
            problems.append(f"missing topics: {', '.join(missing)}")
    except Exception as exc:  # any failure to ask the broker means not ready
        problems.append(f"broker unreachable: {type(exc).__name__}")
    if not deps.caught_up.is_set():
        problems.append("status view still replaying the topics")
    if problems:
        return json_response({"status": "not_ready", "problems": problems}, 503)
    return json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    body, content_type = deps.metrics.render()
    return web.Response(body=body, headers={"Content-Type": content_type})


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


async def docs(request: web.Request) -> web.Response:
    return web.Response(text=DOCS_HTML, content_type="text/html")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/content", post_content)
    app.router.add_get("/v1/content", list_content)
    app.router.add_get("/v1/content/{content_id}", get_content)
    app.router.add_post("/v1/content/{content_id}/withdraw", withdraw)
    app.router.add_post("/v1/drafts", post_draft)
    app.router.add_post("/v1/drafts/{draft_id}/approve", approve_draft)
    app.router.add_post("/v1/pause", pause)
    app.router.add_post("/v1/resume", resume)
    app.router.add_get("/v1/channels", list_channels)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/docs", docs)


def create_app(deps: Deps) -> web.Application:
    # client_max_size one byte over our limit: our own check answers 413 with the errors body.
    app = web.Application(middlewares=[error_middleware], client_max_size=deps.settings.max_body_bytes + 1)
    app[DEPS] = deps
    add_routes(app)
    return app

"""The console's HTTP entry points: the dashboard's files, ``/metrics``, and a JSON API for the
dashboard and the CLI. Handlers only translate; every refusal is one of ingest's errors
(``services.ingest.errors``), so the console answers ``{"errors": [...]}`` exactly like ingest.

Every ``/v1`` route needs an operator's or an admin's key; ``/metrics`` is open to the scraper.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from services.console.actions import ActionRefused, ActionRequest, OperatorAction, operator_outcome
from services.console.metrics import render
from services.console.offsets import History, OffsetSnapshot
from services.console.openapi import openapi_document
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView, dead_json, job_json
from services.console.webhooks import DeliveryLog
from services.ingest.auth import KeyStore, Principal, Role, authenticate
from services.ingest.errors import (
    Conflict,
    FieldError,
    Forbidden,
    IngestError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    parse_json_body,
)
from services.ingest.validation import parse_model
from shared.channels import ChannelDirectory
from shared.kafka import KafkaUnavailable, send_event
from shared.topics import TopicRegistry

log = logging.getLogger("warta.console.http")

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"dashboard.js": "application/javascript", "dashboard.css": "text/css"}
OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
MAX_BODY = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Deps:
    settings: ConsoleSettings
    topics: TopicRegistry
    channels: ChannelDirectory
    keys: KeyStore
    view: ConsoleView
    history: History
    snapshot: Callable[[], OffsetSnapshot | None]
    producer: AIOKafkaProducer
    registry: CollectorRegistry
    deliveries: DeliveryLog
    session: aiohttp.ClientSession
    caught_up: asyncio.Event
    clock: Callable[[], datetime]


DEPS = web.AppKey("deps", Deps)


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except IngestError as exc:
        return web.Response(
            body=orjson.dumps(exc.to_body()),
            status=exc.status,
            content_type="application/json",
            headers=exc.headers(),
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        body = {"errors": [FieldError(None, None, "http", exc.reason).to_json()]}
        return json_response(body, exc.status)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        body = {
            "errors": [FieldError(None, None, "internal", "internal error; it has been logged").to_json()]
        }
        return json_response(body, 500)


def operator(request: web.Request) -> Principal:
    deps = request.app[DEPS]
    principal = authenticate(deps.keys, request.headers.get("Authorization"))
    if principal.role not in OPERATOR_ROLES:
        raise Forbidden(
            f"{principal.person} holds the {principal.role.value} role; the console is for operators and admins",
            rule="role",
        )
    return principal


async def json_body(request: web.Request) -> object:
    return parse_json_body(await request.read(), request.headers.get("Content-Type"), MAX_BODY)


# ---- pages and metrics -------------------------------------------------------------------------
async def index(request: web.Request) -> web.Response:
    return web.Response(text=(STATIC / "index.html").read_text(encoding="utf-8"), content_type="text/html")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise NotFound(f"no file {name!r}")
    return web.Response(
        text=(STATIC / name).read_text(encoding="utf-8"),
        content_type=STATIC_FILES[name],
        headers={"Cache-Control": "no-cache"},
    )


async def metrics(request: web.Request) -> web.Response:
    body, content_type = render(request.app[DEPS].registry)
    return web.Response(body=body, headers={"Content-Type": content_type})


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    problems = []
    if not deps.caught_up.is_set():
        problems.append("view still replaying the topics")
    if deps.snapshot() is None:
        problems.append("no offsets read from the broker yet")
    if problems:
        return json_response({"status": "not_ready", "problems": problems}, 503)
    return json_response({"status": "ready"})


# ---- reading -----------------------------------------------------------------------------------
async def whoami(request: web.Request) -> web.Response:
    p = operator(request)
    return json_response({"person": p.person, "role": p.role.value})


def _channels_json(deps: Deps) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for ch in deps.channels.channels:
        health = deps.view.channels.get(ch.id)
        pause = deps.view.is_paused(ch.id)
        out.append(
            {
                "channel": ch.id,
                "platform": ch.platform,
                "timezone": ch.timezone,
                "health": health.health.value if health else "unknown",
                "last_error": health.last_error.model_dump(mode="json")
                if health and health.last_error
                else None,
                "last_error_at": health.last_error_at if health else None,
                "failure_ratio": health.failure_ratio if health else None,
                "paused": {"by": pause.by, "reason": pause.reason, "at": pause.occurred_at}
                if pause
                else None,
            }
        )
    return out


async def channels(request: web.Request) -> web.Response:
    operator(request)
    return json_response({"channels": _channels_json(request.app[DEPS])})


async def overview(request: web.Request) -> web.Response:
    operator(request)
    deps = request.app[DEPS]
    platforms = []
    worst = deps.view.platform_health()
    for platform in deps.channels.platforms:
        ch = worst.get(platform)
        platforms.append(
            {
                "platform": platform,
                "health": ch.health.value if ch else "unknown",
                "channel": ch.channel if ch else None,
                "last_error": ch.last_error.model_dump(mode="json") if ch and ch.last_error else None,
                "last_error_at": ch.last_error_at if ch else None,
                "published": deps.view.outcomes.get((platform, "published"), 0),
                "failed": sum(deps.view.outcomes.get((platform, s), 0) for s in ("failed", "dead")),
            }
        )
    states: dict[str, int] = {}
    for (_, state), n in deps.view.jobs_by_state().items():
        states[state] = states.get(state, 0) + n
    snap = deps.snapshot()
    prefix = deps.topics.prefix
    return json_response(
        {
            "platforms": platforms,
            "channels": _channels_json(deps),
            "jobs_by_state": states,
            "dead_letters": len(deps.view.dead),
            "messages": {t.removeprefix(prefix): n for t, n in (snap.topic_totals() if snap else {}).items()},
            "lag": {t.removeprefix(prefix): n for t, n in (snap.lag_by_topic() if snap else {}).items()},
            "probed_at": snap.at if snap else None,
        }
    )


async def series(request: web.Request) -> web.Response:
    operator(request)
    deps = request.app[DEPS]
    return json_response(deps.history.to_json(strip_prefix=deps.topics.prefix))


async def lag(request: web.Request) -> web.Response:
    operator(request)
    snap = request.app[DEPS].snapshot()
    if snap is None:
        raise ServiceUnavailable("no offsets read from the broker yet", retry_after=2)
    rows = [
        {
            "group": r.group,
            "topic": r.topic,
            "partition": r.partition,
            "committed": r.committed,
            "end": r.end,
            "lag": r.lag,
        }
        for r in snap.lags
    ]
    return json_response({"at": snap.at, "lags": rows})


def _day(request: web.Request) -> date:
    raw = request.query.get("day")
    if raw is None:
        raise ValidationFailed([FieldError(None, "day", "required", "day is required, e.g. 2026-11-27")])
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            [FieldError(None, "day", "type", "day must be a date like 2026-11-27")]
        ) from None


async def plan(request: web.Request) -> web.Response:
    operator(request)
    deps = request.app[DEPS]
    channel_id = request.query.get("channel", "")
    channel = deps.channels.get(channel_id)
    if channel is None:
        raise ValidationFailed(
            [
                FieldError(
                    channel_id or None, "channel", "unknown_channel", f"there is no channel {channel_id!r}"
                )
            ]
        )
    day = _day(request)
    tz = ZoneInfo(channel.timezone)
    # The channel's own day: planners think in audience-local time (design.md, "Time is explicit").
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    jobs = deps.view.plan(channel.id, start, end)
    return json_response(
        {
            "channel": channel.id,
            "timezone": channel.timezone,
            "day": day.isoformat(),
            "jobs": [
                {**job_json(j), "local_slot": j.slot.astimezone(tz).isoformat() if j.slot else None}
                for j in jobs
            ],
        }
    )


async def problems(request: web.Request) -> web.Response:
    operator(request)
    return json_response({"jobs": [job_json(j) for j in request.app[DEPS].view.problems()]})


async def audit(request: web.Request) -> web.Response:
    operator(request)
    entries = sorted(request.app[DEPS].view.audit, key=lambda e: e.at, reverse=True)[:200]
    return json_response({"entries": [e.to_json() for e in entries]})


async def deliveries(request: web.Request) -> web.Response:
    operator(request)
    rows = request.app[DEPS].deliveries.recent(subscriber=request.query.get("subscriber"))
    return json_response({"deliveries": [d.to_json() for d in rows]})


# ---- acting ------------------------------------------------------------------------------------
class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: OperatorAction
    reason: str = Field(min_length=1, max_length=900)
    url: str | None = Field(default=None, max_length=2048)


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="replayed from the dead letters", min_length=1, max_length=900)


async def _act(deps: Deps, job_id: str, req: ActionRequest) -> web.Response:
    job = deps.view.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    try:
        outcome = operator_outcome(job, req, deps.clock(), uuid.uuid4().hex)
    except ActionRefused as exc:
        raise Conflict(str(exc), rule="illegal_action") from exc
    try:
        await send_event(deps.producer, deps.topics.publish_outcomes, job.content_id, outcome, timeout=10)
    except KafkaUnavailable as exc:
        raise ServiceUnavailable("the broker did not acknowledge; nothing was done", retry_after=5) from exc
    return json_response(
        {"job_id": job_id, "action": req.action.value, "status": outcome.status.value, "accepted": True}, 202
    )


async def act(request: web.Request) -> web.Response:
    who = operator(request)
    body = parse_model(ActionBody, await json_body(request))
    req = ActionRequest(body.action, who.person, body.reason, body.url)
    return await _act(request.app[DEPS], request.match_info["job_id"], req)


async def dead_list(request: web.Request) -> web.Response:
    operator(request)
    letters = list(request.app[DEPS].view.dead.values())[::-1][:500]
    return json_response({"dead": [dead_json(d) for d in letters], "total": len(request.app[DEPS].view.dead)})


async def dead_show(request: web.Request) -> web.Response:
    operator(request)
    deps = request.app[DEPS]
    letter = deps.view.find_dead(request.match_info["ident"])
    if letter is None:
        raise NotFound(f"no dead letter {request.match_info['ident']!r}")
    body = dead_json(letter, raw=True)
    job = deps.view.jobs.get(letter.job_id) if letter.job_id else None
    body["job"] = job_json(job) if job else None
    return json_response(body)


async def dead_replay(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    letter = deps.view.find_dead(request.match_info["ident"])
    if letter is None:
        raise NotFound(f"no dead letter {request.match_info['ident']!r}")
    if letter.job_id is None:
        raise Conflict(
            f"dead letter {letter.event_id} is an undecodable message from {letter.source_topic}, not a job: "
            "there is nothing to replay; fix the producer and resend",
            rule="not_a_job",
        )
    raw = await request.read()
    body = parse_model(
        ReplayBody, parse_json_body(raw, request.headers.get("Content-Type"), MAX_BODY) if raw else {}
    )
    # A fresh attempt through the scheduler (the delay service), never straight to the platform
    # topic: the scheduler re-reads the job and honours pauses, withdrawals and gaps.
    req = ActionRequest(OperatorAction.RETRY, who.person, f"replay of {letter.event_id}: {body.reason}")
    return await _act(deps, letter.job_id, req)


async def _forward(request: web.Request, action: str) -> web.Response:
    """Pause and resume belong to ingest (it validates and writes content.control); pass through."""
    operator(request)
    deps = request.app[DEPS]
    try:
        async with deps.session.post(
            f"{deps.settings.ingest_url}/v1/{action}",
            data=await request.read(),
            headers={
                "Authorization": request.headers.get("Authorization", ""),
                "Content-Type": request.headers.get("Content-Type", "application/json"),
            },
            timeout=aiohttp.ClientTimeout(total=20),
        ) as resp:
            # Ingest's 429 and 503 say when to come back; the caller needs that as much as the body.
            headers = {h: resp.headers[h] for h in ("Retry-After",) if h in resp.headers}
            return web.Response(
                body=await resp.read(), status=resp.status, content_type="application/json", headers=headers
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceUnavailable(f"ingest did not answer: {type(exc).__name__}", retry_after=5) from exc


async def pause(request: web.Request) -> web.Response:
    return await _forward(request, "pause")


async def resume(request: web.Request) -> web.Response:
    return await _forward(request, "resume")


def create_app(deps: Deps) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY + 1)
    app[DEPS] = deps
    r = app.router
    r.add_get("/", index)
    r.add_get("/static/{name}", static)
    r.add_get("/metrics", metrics)
    r.add_get("/healthz", healthz)
    r.add_get("/readyz", readyz)
    r.add_get("/openapi.json", openapi)
    r.add_get("/v1/whoami", whoami)
    r.add_get("/v1/overview", overview)
    r.add_get("/v1/series", series)
    r.add_get("/v1/lag", lag)
    r.add_get("/v1/channels", channels)
    r.add_get("/v1/plan", plan)
    r.add_get("/v1/problems", problems)
    r.add_get("/v1/audit", audit)
    r.add_post("/v1/jobs/{job_id}/actions", act)
    r.add_get("/v1/dead", dead_list)
    r.add_get("/v1/dead/{ident}", dead_show)
    r.add_post("/v1/dead/{ident}/replay", dead_replay)
    r.add_post("/v1/pause", pause)
    r.add_post("/v1/resume", resume)
    r.add_get("/v1/webhooks/deliveries", deliveries)
    return app

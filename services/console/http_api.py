"""The console's HTTP entry points: the dashboard's files, ``/metrics``, and a JSON API for the
dashboard and the CLI. Handlers only translate; every refusal is one of ingest's errors
(``shared.http_errors``), so the console answers problem details exactly like ingest.

Every ``/v1`` route needs an operator's or an admin's key; ``/metrics`` is open to the scraper.
A key's channel scope holds on every route that reads or acts on a job or a channel: lists show
only the key's channels, and naming or acting on another channel's job is refused (403). Every
response carries the security headers; both rules are in ``services.console.access``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field

from services.console.access import in_scope, operator_of
from services.console.actions import (
    ActionRefused,
    ActionRequest,
    operator_decision,
    reconciles_first,
)
from services.console.claims import ActionClaims, ActionInProgress, DecidedFirst, DecisionOrder
from services.console.metrics import render
from services.console.offsets import History, OffsetSnapshot
from services.console.openapi import openapi_document
from services.console.replay import NotReplayable, reappend
from services.console.settings import ConsoleSettings
from services.console.view import ChannelHealth, ConsoleView, dead_json, job_json
from services.console.webhooks import DeliveryLog
from shared.channels import ChannelDirectory
from shared.events import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
    DeadLettered,
    JobPlanned,
    OperatorAction,
    OperatorDecided,
)
from shared.field_errors import parse_model
from shared.http_auth import ALL_CHANNELS, KeyStore, Principal
from shared.http_errors import (
    Conflict,
    FieldError,
    IngestError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    parse_json_body,
)
from shared.kafka import KafkaUnavailable, send_event
from shared.operator_decisions import STATUS_OF_ACTION
from shared.problems import problem_response
from shared.security_headers import security_headers
from shared.topics import TopicRegistry

log = logging.getLogger("warta.console.http")

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"dashboard.js": "application/javascript", "dashboard.css": "text/css"}
MAX_BODY = 64 * 1024
PAGE = 200
MAX_PAGE = 500
# How long an accepted action blocks others on the same job if the plan never shows it applied.
CLAIM_HOLD = timedelta(minutes=2)
# How long an action waits to read its own decision back (claims.py, "Across console processes").
READ_BACK_S = 10.0

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
    claims: ActionClaims = field(default_factory=lambda: ActionClaims(CLAIM_HOLD))
    # Across console instances (claims.py): the decisions read back from publish.outcomes, and
    # how to wait until the feeder has read past a record. None: no feeder (tests feeding the
    # view by hand), so only this process's claims guard an action here.
    order: DecisionOrder = field(default_factory=lambda: DecisionOrder(CLAIM_HOLD))
    read_past: Callable[[str, int, int], Awaitable[None]] | None = None


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
        return problem_response(request, exc.status, exc.errors, exc.headers())
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(request, exc.status, [FieldError(None, None, "http", exc.reason).to_json()])
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        internal = FieldError(None, None, "internal", "internal error; it has been logged")
        return problem_response(request, 500, [internal.to_json()])


def operator(request: web.Request) -> Principal:
    return operator_of(request.app[DEPS].keys, request.headers.get("Authorization"))


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
    return json_response({"person": p.person, "role": p.role.value, "channels": sorted(p.channels)})


def _channels_json(deps: Deps, who: Principal) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for ch in deps.channels.channels:
        if not who.may_target(ch.id):
            continue
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
    who = operator(request)
    return json_response({"channels": _channels_json(request.app[DEPS], who)})


def _outcome_count(deps: Deps, who: Principal, platform: str, statuses: tuple[str, ...]) -> int:
    if ALL_CHANNELS in who.channels:
        return sum(deps.view.outcomes.get((platform, s), 0) for s in statuses)
    return sum(
        deps.view.outcomes_by_channel.get((ch.id, s), 0)
        for ch in deps.channels.for_platform(platform)
        if who.may_target(ch.id)
        for s in statuses
    )


def reauth_json(ch: ChannelHealth) -> dict[str, object]:
    """A channel parked until its account is connected again, with the publisher's reason."""
    return {
        "channel": ch.channel,
        "platform": ch.platform,
        "reason": ch.last_error.message if ch.last_error else "the platform refused the credential",
        "since": ch.last_error_at or ch.updated_at,
        "reconnect": f"warta channels connect {ch.channel}",
    }


async def overview(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    platforms = []
    worst = deps.view.platform_health(who.may_target)
    for platform in deps.channels.platforms:
        if not any(who.may_target(c.id) for c in deps.channels.for_platform(platform)):
            continue
        ch = worst.get(platform)
        platforms.append(
            {
                "platform": platform,
                "health": ch.health.value if ch else "unknown",
                "channel": ch.channel if ch else None,
                "last_error": ch.last_error.model_dump(mode="json") if ch and ch.last_error else None,
                "last_error_at": ch.last_error_at if ch else None,
                "published": _outcome_count(deps, who, platform, ("published",)),
                "failed": _outcome_count(deps, who, platform, ("failed", "dead")),
            }
        )
    states: dict[str, int] = {}
    for (channel, state), n in deps.view.jobs_by_state().items():
        if who.may_target(channel):
            states[state] = states.get(state, 0) + n
    snap = deps.snapshot()
    prefix = deps.topics.prefix
    return json_response(
        {
            "platforms": platforms,
            "channels": _channels_json(deps, who),
            "jobs_by_state": states,
            "dead_letters": deps.view.dead_letters(who.may_target, limit=0)[1],
            "needs_reauth": [reauth_json(ch) for ch in deps.view.needing_reauth(who.may_target)],
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
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            [FieldError(None, "day", "type", "day must be a date like 2026-11-27")]
        ) from None
    # The page reads the day after too, and 9999-12-31 has none: keep to the instants' range.
    if not EARLIEST_INSTANT.date() <= day < LATEST_INSTANT.date():
        message = f"day must lie between {EARLIEST_INSTANT:%Y-%m-%d} and {LATEST_INSTANT:%Y-%m-%d}"
        raise ValidationFailed([FieldError(None, "day", "out_of_range", message)])
    return day


async def plan(request: web.Request) -> web.Response:
    who = operator(request)
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
    in_scope(who, channel.id, f"the plan of {channel.id}")
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


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(PAGE))
    # isdigit() alone accepts "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationFailed(
            [FieldError(None, "limit", "range", f"limit must be a whole number from 1 to {MAX_PAGE}")]
        )
    return int(raw)


def _problems_cursor(request: web.Request) -> tuple[datetime, str] | None:
    """``cursor`` is the ``next_cursor`` of the page before: ``<updated_at>|<job_id>``."""
    raw = request.query.get("cursor")
    if raw is None:
        return None
    at, sep, job_id = raw.partition("|")
    parsed: datetime | None = None
    try:
        given = datetime.fromisoformat(at)
        if given.utcoffset() is not None:
            # In UTC and as a POSIX instant, as the view compares it: year 1 or 9999 with an
            # offset overflows here, not later in the view.
            parsed = given.astimezone(UTC)
            parsed.timestamp()
    except (ValueError, OverflowError):
        parsed = None
    if not sep or not job_id or parsed is None:
        raise ValidationFailed(
            [FieldError(None, "cursor", "type", "cursor must be a next_cursor this endpoint returned")]
        )
    return parsed, job_id


async def problems(request: web.Request) -> web.Response:
    who = operator(request)
    limit = _limit(request)
    jobs = request.app[DEPS].view.problems(who.may_target, limit + 1, _problems_cursor(request))
    page, more = jobs[:limit], len(jobs) > limit
    last = page[-1] if page else None
    cursor = f"{last.occurred_at.isoformat()}|{last.job_id}" if more and last else None
    return json_response({"jobs": [job_json(j) for j in page], "next_cursor": cursor})


async def audit(request: web.Request) -> web.Response:
    who = operator(request)
    entries = request.app[DEPS].view.recent_audit(who.may_target, PAGE)
    return json_response({"entries": [e.to_json() for e in entries]})


async def deliveries(request: web.Request) -> web.Response:
    # Webhook subscribers are the installation's, fed by every channel's lifecycle.
    in_scope(operator(request), None, "webhook deliveries")
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


def _job_in_scope(deps: Deps, who: Principal, job_id: str) -> JobPlanned:
    job = deps.view.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    in_scope(who, job.channel, f"job {job_id}")
    return job


async def _act(deps: Deps, who: Principal, job_id: str, req: ActionRequest) -> web.Response:
    job = _job_in_scope(deps, who, job_id)
    now = deps.clock()
    try:
        decision = operator_decision(job, req, now, uuid.uuid4().hex)
    except ActionRefused as exc:
        if exc.rule == "bad_request":
            raise ValidationFailed([FieldError(job.channel, None, exc.rule, str(exc))]) from exc
        raise Conflict(str(exc), channel=job.channel, rule=exc.rule) from exc
    # No await between judging the job and claiming it: one of two concurrent actions wins.
    try:
        claim = deps.claims.claim(job, req.action.value, req.by, now)
    except ActionInProgress as exc:
        raise Conflict(str(exc), channel=job.channel, rule="action_in_progress") from exc
    topic = deps.topics.publish_outcomes
    try:
        landed = await send_event(deps.producer, topic, job.content_id, decision, timeout=10)
    except KafkaUnavailable as exc:
        deps.claims.release(claim)
        raise ServiceUnavailable("the broker did not acknowledge; nothing was done", retry_after=5) from exc
    try:
        await _came_first(deps, decision, topic, landed.partition, landed.offset)
    except DecidedFirst as exc:
        raise Conflict(str(exc), channel=job.channel, rule="action_in_progress") from exc
    body: dict[str, object] = {
        "job_id": job_id,
        "action": req.action.value,
        "status": STATUS_OF_ACTION[decision.action].value,
        "accepted": True,
    }
    if reconciles_first(job, req.action):
        body["note"] = (
            f"the {job.platform} publisher looks the post up before sending: found → published with "
            "its id; surely absent → sent; still unknown → it stays unconfirmed, with the reason"
        )
    return json_response(body, 202)


async def _came_first(deps: Deps, decision: OperatorDecided, topic: str, partition: int, offset: int) -> None:
    """Raise ``DecidedFirst`` when another console's decision on the same record precedes ours."""
    if deps.read_past is None:
        return
    try:
        await asyncio.wait_for(deps.read_past(topic, partition, offset), READ_BACK_S)
    except TimeoutError as exc:
        raise ServiceUnavailable(
            f"the decision was written, but this console could not read {topic} back within "
            f"{READ_BACK_S:.0f} s to tell whether another operator's decision on the job came first; "
            "reload the job (the scheduler applies only the first)",
            retry_after=5,
        ) from exc
    first = deps.order.first(decision)
    if first is not None and first.event_id != decision.event_id:
        raise DecidedFirst(first)


async def act(request: web.Request) -> web.Response:
    who = operator(request)
    body = parse_model(ActionBody, await json_body(request))
    req = ActionRequest(body.action, who.person, body.reason, body.url)
    return await _act(request.app[DEPS], who, request.match_info["job_id"], req)


def _letter_in_scope(deps: Deps, who: Principal, ident: str) -> DeadLettered:
    letter = deps.view.find_dead(ident)
    if letter is None:
        raise NotFound(f"no dead letter {ident!r}")
    in_scope(who, letter.channel, f"dead letter {letter.event_id}")
    return letter


async def dead_list(request: web.Request) -> web.Response:
    who = operator(request)
    letters, total = request.app[DEPS].view.dead_letters(who.may_target, MAX_PAGE)
    return json_response({"dead": [dead_json(d) for d in letters], "total": total})


async def dead_show(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    letter = _letter_in_scope(deps, who, request.match_info["ident"])
    body = dead_json(letter, raw=True)
    job = deps.view.jobs.get(letter.job_id) if letter.job_id else None
    body["job"] = job_json(job) if job and who.may_target(job.channel) else None
    return json_response(body)


async def dead_replay(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    letter = _letter_in_scope(deps, who, request.match_info["ident"])
    if letter.consumer is not None:
        return await _reappend(deps, letter, who)
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
    return await _act(deps, who, letter.job_id, req)


async def _reappend(deps: Deps, letter: DeadLettered, who: Principal) -> web.Response:
    """A record a consumer's handler raised on: written back to where it was read."""
    write = reappend(letter, deps.topics)
    if isinstance(write, NotReplayable):
        raise Conflict(write.reason, rule="not_replayable")
    try:
        await asyncio.wait_for(
            deps.producer.send_and_wait(write.topic, write.value, key=write.key, partition=write.partition),
            10,
        )
    except (KafkaError, TimeoutError) as exc:
        raise ServiceUnavailable(
            "the broker did not acknowledge; nothing was replayed", retry_after=5
        ) from exc
    log.info("%s replayed dead letter %s onto %s", who.person, letter.event_id, write.topic)
    body = {"id": letter.event_id, "replayed_to": write.topic, "partition": write.partition, "accepted": True}
    return json_response(body, 202)


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
                "Accept-Language": request.headers.get("Accept-Language", ""),
            },
            timeout=aiohttp.ClientTimeout(total=20),
        ) as resp:
            # Ingest's 429 and 503 say when to come back; the caller needs that as much as the body,
            # and a refusal's type and language (problem+json, Content-Language).
            passed = ("Retry-After", "Content-Language", "Vary")
            headers = {h: resp.headers[h] for h in passed if h in resp.headers}
            return web.Response(
                body=await resp.read(), status=resp.status, content_type=resp.content_type, headers=headers
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceUnavailable(f"ingest did not answer: {type(exc).__name__}", retry_after=5) from exc


async def pause(request: web.Request) -> web.Response:
    return await _forward(request, "pause")


async def resume(request: web.Request) -> web.Response:
    return await _forward(request, "resume")


def create_app(deps: Deps) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY + 1)
    app.on_response_prepare.append(security_headers)
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

"""The console's HTTP entry points: the dashboard's files, ``/metrics``, and a JSON API for the
dashboard and the CLI. Handlers only translate; every refusal is one of ingest's errors
(``shared.http_errors``), so the console answers problem details exactly like ingest.

Every ``/v1`` route needs an operator's or an admin's key; ``/metrics`` is open to the scraper.
A key's channel scope holds on every route that reads or acts on a job or a channel: lists show
only the key's channels, and naming or acting on another channel's job is refused (403). Every
response carries the security headers; both rules are in ``services.console.access``.

Here: the pages, the reading routes and the route table; the routes that act are in
``services.console.http_actions``, what every handler shares in ``services.console.http_deps``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from services.console.access import in_scope
from services.console.channel_health import ChannelHealth
from services.console.connect import add_connect_routes
from services.console.http_actions import act, dead_list, dead_replay, dead_show, pause, resume
from services.console.http_deps import (
    DEPS,
    MAX_BODY,
    MAX_PAGE,
    PAGE,
    Deps,
    error_middleware,
    operator,
)
from services.console.openapi import openapi_document
from services.console.view import job_json
from shared.events import (
    EARLIEST_INSTANT,
    LATEST_INSTANT,
)
from shared.http_auth import ALL_CHANNELS, Principal
from shared.http_errors import (
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from shared.http_probes import add_probe_routes, alive, json_response, readiness
from shared.json_values import whole
from shared.messages import said
from shared.metrics import metrics_response
from shared.page_script import PAGE_SCRIPT, static_file
from shared.security_headers import security_headers

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {
    "dashboard.js": "application/javascript",
    PAGE_SCRIPT: "application/javascript",
    "dashboard.css": "text/css",
}


# ---- pages and metrics -------------------------------------------------------------------------
async def index(request: web.Request) -> web.Response:
    return web.Response(text=(STATIC / "index.html").read_text(encoding="utf-8"), content_type="text/html")


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise NotFound(said("not_found.file", name=name))
    return web.Response(
        text=static_file(STATIC, name).read_text(encoding="utf-8"),
        content_type=STATIC_FILES[name],
        headers={"Cache-Control": "no-cache"},
    )


async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[DEPS].registry)


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


async def readyz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    problems = []
    if not deps.caught_up.is_set():
        problems.append("view still replaying the topics")
    if deps.snapshot() is None:
        problems.append("no offsets read from the broker yet")
    return readiness(problems)


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
        raise ServiceUnavailable(said("unavailable.no_offsets"), retry_after=2)
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
        raise ValidationFailed(said("required.day"), field="day")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(said("type.day"), field="day") from None
    # The page reads the day after too, and 9999-12-31 has none: keep to the instants' range.
    if not EARLIEST_INSTANT.date() <= day < LATEST_INSTANT.date():
        bounds = {"earliest": f"{EARLIEST_INSTANT:%Y-%m-%d}", "latest": f"{LATEST_INSTANT:%Y-%m-%d}"}
        raise ValidationFailed(said("out_of_range.day", **bounds), field="day")
    return day


async def plan(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    channel_id = request.query.get("channel", "")
    channel = deps.channels.get(channel_id)
    if channel is None:
        unknown = said("unknown_channel.short", channel=channel_id)
        raise ValidationFailed(unknown, channel=channel_id or None, field="channel")
    in_scope(who, channel.id, "the plan of channel", channel.id)
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
    limit = whole(request.query.get("limit", str(PAGE)))
    if limit is None or not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(said("range.limit", max=MAX_PAGE), field="limit")
    return limit


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
        raise ValidationFailed(said("type.cursor_endpoint"), field="cursor")
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


def create_app(deps: Deps) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY + 1)
    app.on_response_prepare.append(security_headers)
    app[DEPS] = deps
    r = app.router
    r.add_get("/", index)
    r.add_get("/static/{name}", static)
    add_probe_routes(app, healthz=alive, readyz=readyz, metrics=metrics, openapi=openapi)
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
    add_connect_routes(app)
    return app

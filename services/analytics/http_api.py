"""The press office's read API, on the analytics worker's faust web server (JSON).

    GET /v1/reach?by=channel|hour|topic|tag&window=day|week|all[&period=2026-12-04|2026-W49]
        rows of figures per channel, hour-of-week of a channel, topic or tag, per window;
        ``reach`` is null ("not available") when no post of the row reported one
    GET /v1/items/{content_id}   one item's topic, tags and latest figures per channel
    GET /v1/report?week=2026-W49[&weeks=8][&top=10]
        the week's report document (``weekly``: channels, hour-of-week heatmap, topics, tags,
        top items, weekly trend), which ``warta report`` renders
    GET /reach?week=2026-W49&lang=en|id   the Reach page: that report as HTML (this week by
        default), with /reach.css; both carry the console's security headers
    GET /openapi.json            this API's OpenAPI 3.1 document (``openapi``)
    GET /readyz                  200 once the tables are restored from their changelog
    GET /metrics                 Prometheus text

The figures are the local table's: one worker holds every partition (see README, "Analytics").
A bad query answers 400 with the reason, an unknown item 404, both as ingest and the console
answer theirs (``shared.problems``: RFC 9457 ``application/problem+json`` whose ``errors`` list
carries the stable rule, ``bad_query`` or ``not_found``), in English or Bahasa Indonesia.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import faust
from faust.web import Request, Response, View
from prometheus_client import CollectorRegistry

from services.analytics.openapi import openapi_document
from services.analytics.reach_render import CSS, render_html
from services.analytics.reach_text import LANGS
from services.analytics.report import BadQuery, item, reach_answer
from services.analytics.weekly import DEFAULT_TOP, DEFAULT_TREND_WEEKS, parse_week, week_of, weekly_report
from shared.http_errors import said_error
from shared.json_values import whole
from shared.messages import Lang, Said, negotiate, said
from shared.metrics import render
from shared.problems import PROBLEM_JSON, problem
from shared.security_headers import SECURITY_HEADERS


def report_for(entries: Any, query: Mapping[str, str], zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The report document a query asks for (``week`` defaults to this week in ``zone``)."""
    week = query.get("week") or week_of(now.astimezone(zone).date())
    return weekly_report(
        entries,
        week,
        zone,
        trend_weeks=_integer(query, "weeks", DEFAULT_TREND_WEEKS),
        top=_integer(query, "top", DEFAULT_TOP),
    )


def _integer(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    value = whole(raw)
    if value is None:
        raise BadQuery(said("bad_query.whole", name=name, raw=raw[:40]))
    return value


def refusal(view: View, request: Request, status: int, message: Said, instance: str) -> Response:
    """A refusal as every Warta API writes it (RFC 9457 problem details, the rule in ``errors``),
    in the caller's language; ``instance`` is the path refused."""
    lang = negotiate(request.headers.get("Accept-Language"))
    body = problem(status, [said_error(None, None, message)], lang, instance)
    return view.json(
        body,
        status=status,
        content_type=PROBLEM_JSON,
        headers={"Content-Language": lang, "Vary": "Accept-Language"},
    )


def page_language(query: Mapping[str, str], asked: Lang) -> Lang:
    """The Reach page's language: its own ``lang`` switch when given, else the browser's."""
    lang = query.get("lang", asked)
    if lang not in LANGS:
        raise BadQuery(said("bad_query.lang", allowed=", ".join(LANGS), lang=lang))
    return cast(Lang, lang)


def page_links(week: str, lang: str) -> dict[str, str]:
    """The Reach page's links: the weeks either side, and the other language."""
    monday = parse_week(week)
    other = "id" if lang == "en" else "en"
    return {
        "previous": "?" + urlencode({"week": week_of(monday - timedelta(weeks=1)), "lang": lang}),
        "next": "?" + urlencode({"week": week_of(monday + timedelta(weeks=1)), "lang": lang}),
        "other_lang": "?" + urlencode({"week": week, "lang": other}),
    }


def register(
    app: faust.App,
    table: Any,
    registry: CollectorRegistry,
    zone: ZoneInfo,
    clock: Callable[[], datetime],
) -> None:
    @app.page("/v1/reach")
    async def reach_view(self: View, request: Request) -> Response:
        try:
            return self.json(reach_answer(list(table.items()), request.query))
        except BadQuery as exc:
            return refusal(self, request, 400, exc.said, "/v1/reach")

    @app.page("/v1/items/{content_id}")
    async def item_view(self: View, request: Request, content_id: str) -> Response:
        found = item(table, content_id)
        if found is None:
            return refusal(
                self, request, 404, said("not_found.figures", id=content_id), f"/v1/items/{content_id}"
            )
        return self.json(found)

    @app.page("/v1/report")
    async def report_view(self: View, request: Request) -> Response:
        try:
            return self.json(report_for(list(table.items()), request.query, zone, clock()))
        except BadQuery as exc:
            return refusal(self, request, 400, exc.said, "/v1/report")

    @app.page("/reach")
    async def reach_page(self: View, request: Request) -> Response:
        headers, asked = dict(SECURITY_HEADERS), negotiate(request.headers.get("Accept-Language"))
        try:
            lang = page_language(request.query, asked)
            doc = report_for(list(table.items()), request.query, zone, clock())
        except BadQuery as exc:
            return self.text(exc.said.in_(asked), status=400, headers=headers)
        page = render_html(doc, lang, stylesheet="reach.css", links=page_links(doc["week"], lang))
        return self.html(page, headers=headers)

    @app.page("/reach.css")
    async def reach_css(self: View, request: Request) -> Response:
        return self.text(CSS, content_type="text/css", headers=dict(SECURITY_HEADERS))

    @app.page("/openapi.json")
    async def openapi_view(self: View, request: Request) -> Response:
        return self.json(openapi_document())

    @app.page("/readyz")
    async def ready_view(self: View, request: Request) -> Response:
        # TableManagerT does not declare the recovery service that faust.tables.TableManager has.
        restored = cast(Any, app.tables).recovery.completed.is_set() and not app.rebalancing
        return self.json({"ready": restored}, status=200 if restored else 503)

    @app.page("/metrics")
    async def metrics_view(self: View, request: Request) -> Response:
        body, content_type = render(registry)
        return self.bytes(body, content_type=content_type.split(";")[0])

"""The week's report document: every figure the press office's weekly report shows (pure).

One document feeds every rendering of the report (``reach_render``: HTML, CSV, JSON), the
``warta report`` command (which reads it from ``GET /v1/report``) and the Reach page, so the
file sent to the leadership and the page show the same numbers:

    channels    each channel's figures in the week
    heatmap     each channel's figures by local hour-of-week in the week
    topics      each topic's, tags: each tag's figures in the week (the report's zone)
    top_items   the week's items by engagement summed over their channels
    trend       each channel's figures in each of the ``weeks`` (oldest first) up to the week
    polls       each poll posted in the week (report zone) with its options' votes (``poll_report``)
    expectation each channel's expected engagement of one average post by local hour-of-week,
                from the scheduler's latest published snapshot of its slot model (beside the
                heatmap: where the model expects people, against where they engaged)

Its shape is ``REPORT_SCHEMA`` (JSON Schema), which the tests and the CLI check it against.

Errors: ``report.BadQuery`` for a malformed week or a limit out of range.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.analytics.figures import ZERO, Figures, add, figures_json
from services.analytics.poll_report import POLL_SCHEMA, week_polls
from services.analytics.report import BadQuery, reach
from shared.event_fields import EARLIEST_INSTANT, LATEST_INSTANT
from shared.messages import said

SCHEMA_VERSION = 1
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
DEFAULT_TREND_WEEKS = 8
DEFAULT_TOP = 10
MAX_TREND_WEEKS = 104  # two years: the longest window the platforms keep insights for
# A report reads up to MAX_TREND_WEEKS back and links the week after: years at the calendar's
# ends (0001, 9999) would take those past ``date``'s range: the years every stored instant keeps to.
FIRST_YEAR, LAST_YEAR = EARLIEST_INSTANT.year, LATEST_INSTANT.year - 1
MAX_TOP = 100


def parse_week(week: str) -> date:
    """The Monday of an ISO week ``2026-W49``; ``BadQuery`` if it names none."""
    match = _WEEK.match(week)
    if match is None:
        raise BadQuery(said("bad_query.week_shape", week=week))
    year = int(match[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadQuery(said("bad_query.week_years", week=week, low=FIRST_YEAR, high=LAST_YEAR))
    try:
        return date.fromisocalendar(year, int(match[2]), 1)
    except ValueError as exc:
        raise BadQuery(said("bad_query.no_week", week=week)) from exc


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_up_to(week: str, count: int) -> list[str]:
    """``count`` ISO weeks ending with ``week``, oldest first."""
    monday = parse_week(week)
    return [week_of(monday - timedelta(weeks=k)) for k in range(count - 1, -1, -1)]


def _bounded(name: str, value: int, high: int) -> int:
    if not 1 <= value <= high:
        raise BadQuery(said("bad_query.between", name=name, high=high, value=value))
    return value


def weekly_report(
    entries: Iterable[tuple[str, Any]],
    week: str,
    zone: ZoneInfo,
    *,
    trend_weeks: int = DEFAULT_TREND_WEEKS,
    top: int = DEFAULT_TOP,
) -> dict[str, Any]:
    """The report document of ``week`` over the analytics state ``entries`` (the table's items)."""
    weeks = weeks_up_to(week, _bounded("weeks", trend_weeks, MAX_TREND_WEEKS))
    top = _bounded("top", top, MAX_TOP)
    # One pass sorts out what each part reads: a year's table is ~400,000 entries, and every
    # ``reach`` call would otherwise walk all of it.
    this_week, wanted = f"week:{week}", {f"week:{w}" for w in weeks}
    current: dict[str, list[tuple[str, Any]]] = {"channel": [], "hour": [], "topic": [], "tag": []}
    trend: list[tuple[str, Any]] = []
    rest: list[tuple[str, Any]] = []
    expected: list[dict[str, Any]] = []
    for key, entry in entries:
        if key.startswith("exp|"):
            expected.append(dict(entry["s"]))
            continue
        if not key.startswith("agg|"):
            rest.append((key, entry))
            continue
        dimension, window = key.split("|", 2)[1], key.rsplit("|", 1)[1]
        if window == this_week:
            current[dimension].append((key, entry))
        if dimension == "channel" and window in wanted:
            trend.append((key, entry))
    return {
        "schema_version": SCHEMA_VERSION,
        "week": week,
        "timezone": zone.key,
        "weeks": weeks,
        "channels": reach(current["channel"], "channel", "week", week),
        "heatmap": reach(current["hour"], "hour", "week", week),
        "topics": reach(current["topic"], "topic", "week", week),
        "tags": reach(current["tag"], "tag", "week", week),
        "top_items": top_items(rest, week, zone, top),
        "trend": reach(trend, "channel", "week"),
        "expectation": sorted(expected, key=lambda e: str(e["channel"])),
        "polls": week_polls(rest, *week_bounds(week, zone)),
    }


def week_bounds(week: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants ``week`` spans in ``zone``: from its Monday 00:00 to the next one's."""
    monday = parse_week(week)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    return start, start + timedelta(weeks=1)


def top_items(
    entries: Iterable[tuple[str, Any]], week: str, zone: ZoneInfo, limit: int
) -> list[dict[str, Any]]:
    """The ``limit`` items with the most engagement over the posts they published in ``week``
    (the report zone's week each post is counted in, as for topics and tags, which span channels
    too: ``zone``, or the one kept on the post if that zone has changed since)."""
    start, end = week_bounds(week, zone)
    bounds: dict[str | None, tuple[datetime, datetime]] = {None: (start, end), zone.key: (start, end)}
    # Stored instants are ISO 8601 with an offset of at most 14 h, and a post's week may be
    # another zone's (up to 26 h apart): one whose date is more than two days outside the week
    # cannot be in it, and is skipped before it is parsed (most of a year).
    first_day, last_day = (
        (start - timedelta(days=2)).date().isoformat(),
        (end + timedelta(days=2)).date().isoformat(),
    )
    infos: dict[str, Mapping[str, Any]] = {}
    totals: dict[str, Figures] = {}
    channels: dict[str, set[str]] = {}
    for key, entry in entries:
        if key.startswith("item|"):
            infos[key[5:]] = entry["s"] or {}
        elif key.startswith("post|"):
            post = entry["s"]
            at = post["published_at"]
            if at is None or not first_day <= at[:10] <= last_day:
                continue
            kept = post.get("report_zone")
            if kept not in bounds:
                bounds[kept] = week_bounds(week, ZoneInfo(kept))
            post_start, post_end = bounds[kept]
            if not post_start <= datetime.fromisoformat(at) < post_end:
                continue
            r = post.get("reading")
            figures: Figures = (
                (1, r["reactions"], r["comments"], r["shares"], r["reach"] or 0, int(r["reach"] is not None))
                if r
                else (1, 0, 0, 0, 0, 0)
            )
            content_id = post["content_id"]
            totals[content_id] = add(totals.get(content_id, ZERO), figures)
            channels.setdefault(content_id, set()).add(post["channel"])
    ranked = sorted(totals.items(), key=lambda kv: (-(kv[1][1] + kv[1][2] + kv[1][3]), kv[0]))[:limit]
    return [
        {
            "content_id": content_id,
            "topic": infos.get(content_id, {}).get("topic"),
            "tags": list(infos.get(content_id, {}).get("tags", [])),
            "channels": sorted(channels[content_id]),
            **figures_json(figures),
        }
        for content_id, figures in ranked
    ]


_FIGURES: dict[str, Any] = {
    "posts": {"type": "integer", "minimum": 0},
    "reactions": {"type": "integer"},
    "comments": {"type": "integer"},
    "shares": {"type": "integer"},
    "engagement": {"type": "integer"},
    "reach": {"type": ["integer", "null"]},
    "reach_posts": {"type": "integer", "minimum": 0},
}
_ROW: dict[str, Any] = {
    "type": "object",
    "required": ["key", "period", *_FIGURES],
    "properties": {"key": {"type": "string"}, "period": {"type": ["string", "null"]}, **_FIGURES},
}
_HOUR_ROW: dict[str, Any] = {
    **_ROW,
    "required": [*_ROW["required"], "channel", "day_of_week", "hour"],
    "properties": {
        **_ROW["properties"],
        "channel": {"type": "string"},
        "day_of_week": {"type": "integer", "minimum": 0, "maximum": 6},
        "hour": {"type": "integer", "minimum": 0, "maximum": 23},
    },
}
_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["content_id", "topic", "tags", "channels", *_FIGURES],
    "properties": {
        "content_id": {"type": "string"},
        "topic": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "channels": {"type": "array", "items": {"type": "string"}},
        **_FIGURES,
    },
}
_EXPECTATION: dict[str, Any] = {
    "type": "object",
    "required": ["channel", "computed_at", "observations", "hourly"],
    "additionalProperties": False,
    "properties": {
        "channel": {"type": "string"},
        "computed_at": {"type": "string"},
        "observations": {"type": "integer", "minimum": 0},
        # Monday 00:00-00:59 local first; expected engagement of one average post in that hour
        "hourly": {
            "type": "array",
            "items": {"type": "number", "minimum": 0},
            "minItems": 168,
            "maxItems": 168,
        },
    },
}
_WEEK_STRING = {"type": "string", "pattern": _WEEK.pattern}
REPORT_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Warta weekly reach report",
    "type": "object",
    "required": [
        "schema_version",
        "week",
        "timezone",
        "weeks",
        "channels",
        "heatmap",
        "topics",
        "tags",
        "top_items",
        "trend",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "week": _WEEK_STRING,
        "timezone": {"type": "string"},
        "weeks": {"type": "array", "items": _WEEK_STRING, "minItems": 1},
        "channels": {"type": "array", "items": _ROW},
        "heatmap": {"type": "array", "items": _HOUR_ROW},
        "topics": {"type": "array", "items": _ROW},
        "tags": {"type": "array", "items": _ROW},
        "top_items": {"type": "array", "items": _ITEM},
        "trend": {"type": "array", "items": _ROW},
        # Not required (nor is polls): a report from a worker older than them reads without them.
        "expectation": {"type": "array", "items": _EXPECTATION},
        "polls": {"type": "array", "items": POLL_SCHEMA},
    },
}
"""The report document's shape (JSON Schema 2020-12): ``warta report --format json`` writes it."""

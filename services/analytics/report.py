"""The press office's reach figures, read from the analytics state (pure).

``reach`` sums each bucket over the source partitions that hold part of it and answers rows
sorted by engagement; ``reach_answer`` is the same for a query string, its defaults filled in
here only (``DEFAULT_BY``, ``DEFAULT_WINDOW``); ``item`` gives one item's latest figures on
each channel.

Errors::

    BadQuery   a query that names an unknown dimension or window, or a malformed period;
               the HTTP layer answers it with 400 and the message
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from services.analytics.figures import DIMENSIONS, WINDOWS, ZERO, Figures, add, figures_json
from shared.messages import Said, said

_PERIOD = {"day": re.compile(r"^\d{4}-\d{2}-\d{2}$"), "week": re.compile(r"^\d{4}-W\d{2}$")}


# What a query that names no dimension or window asks for: the channels, this week.
DEFAULT_BY = "channel"
DEFAULT_WINDOW = "week"


class BadQuery(ValueError):
    """The query cannot be answered as asked; ``said`` (rule ``bad_query``) says which parameter
    and why, in either language."""

    def __init__(self, message: Said) -> None:
        super().__init__(str(message))
        self.said = message


def reach_answer(entries: Iterable[tuple[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """The body answering ``/v1/reach?by=&window=&period=``: the query as understood, and its rows."""
    by, window = query.get("by", DEFAULT_BY), query.get("window", DEFAULT_WINDOW)
    rows = reach(entries, by=by, window=window, period=query.get("period"))
    return {"by": by, "window": window, "rows": rows}


def reach(
    entries: Iterable[tuple[str, Any]], by: str, window: str, period: str | None = None
) -> list[dict[str, Any]]:
    """Rows of ``by`` (channel, hour, topic, tag) per ``window`` (day, week, all), optionally
    only the window ``period`` (``2026-12-04``, ``2026-W49``)."""
    if by not in DIMENSIONS:
        raise BadQuery(said("bad_query.by", allowed=", ".join(DIMENSIONS), by=by))
    if window not in WINDOWS or (by == "hour" and window == "day"):
        allowed = ("week", "all") if by == "hour" else WINDOWS
        raise BadQuery(said("bad_query.window", allowed=", ".join(allowed), by=by, window=window))
    if period is not None and (window == "all" or not _PERIOD[window].match(period)):
        raise BadQuery(said("bad_query.period", period=period, window=window))
    # All time is kept as weeks (figures.window_keys): their sum.
    stored = "week" if window == "all" else window
    totals: dict[tuple[str, str], Figures] = {}
    prefix = f"agg|{by}|"
    for key, entry in entries:
        if not key.startswith(prefix):
            continue
        value, window_key = key.split("|")[3:5]
        kind, _, when = window_key.partition(":")
        if kind != stored or (period is not None and when != period):
            continue
        if window == "all":
            when = ""
        totals[(value, when)] = add(totals.get((value, when), ZERO), entry["v"])
    rows = [_row(by, value, when, figures) for (value, when), figures in totals.items() if figures[0] > 0]
    rows.sort(key=lambda r: (r["period"] or "", -r["engagement"], r["key"]))
    return rows


def _row(by: str, value: str, when: str, figures: Figures) -> dict[str, Any]:
    row: dict[str, Any] = {"key": value, "period": when or None}
    if by == "hour":
        channel, _, slot = value.partition("#")
        row.update(channel=channel, day_of_week=int(slot) // 24, hour=int(slot) % 24)
    row.update(figures_json(figures))
    return row


def item(store: Mapping[str, Any], content_id: str) -> dict[str, Any] | None:
    """One item's topic, tags and latest figures per channel; None if nothing is known of it."""
    entry = store.get(f"item|{content_id}")
    if entry is None:
        return None
    info = entry["s"] or {}
    channels = []
    for job_id in entry["jobs"]:
        post_entry = store.get(f"post|{job_id}")
        if post_entry is None:
            continue
        post = post_entry["s"]
        reading = post.get("reading")
        figures = (
            (1, reading["reactions"], reading["comments"], reading["shares"])
            + ((reading["reach"], 1) if reading["reach"] is not None else (0, 0))
            if reading
            else (1, 0, 0, 0, 0, 0)
        )
        channels.append(
            {
                "channel": post["channel"],
                "published_at": post["published_at"],
                "url": post["url"],
                "horizon_minutes": reading["horizon_minutes"] if reading else None,
                **{k: v for k, v in figures_json(figures).items() if k != "posts"},
            }
        )
    channels.sort(key=lambda c: c["channel"])
    return {
        "content_id": content_id,
        "topic": info.get("topic"),
        "tags": info.get("tags", []),
        "channels": channels,
    }

"""The week's report document and its renderings (HTML, CSV, JSON).

The document is judged by the JSON Schema it publishes (checked by jsonschema_rs, not by our
code) and by a brute-force recomputation of the top items from the raw events; the HTML by
Python's own html.parser (structure, no resource outside the file), the CSV by the csv module.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.http_api import page_links, report_for
from services.analytics.ledger import apply
from services.analytics.reach_render import CSV_COLUMNS, render_csv, render_html, render_json
from services.analytics.report import BadQuery
from services.analytics.weekly import REPORT_SCHEMA, weekly_report, weeks_up_to
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    EngagementObserved,
    OutcomeStatus,
    PublishOutcome,
)
from tests.unit.test_analytics_figures import REPORT, ZONES, Event, interleave, sources, streams
from warta.report import cmd_report, default_output

WEEK = "2026-W49"  # the streams start on Sunday 2026-11-29 (W48) and span two weeks
VALIDATOR = jsonschema_rs.validator_for(dict(REPORT_SCHEMA))


def folded(events: list[Event], seed: int = 1) -> dict[str, Any]:
    rnd = random.Random(seed)
    store: dict[str, Any] = {}
    for event, at in interleave(sources(events, rnd), {}, rnd):
        apply(store, event, at, ZONES)
    return store


def brute_top(events: list[Event], week: str) -> dict[str, tuple[int, int]]:
    """Each item's (posts, engagement) over its posts published in ``week`` (report zone)."""
    latest: dict[str, EngagementObserved] = {}
    published: dict[str, datetime] = {}
    content: dict[str, str] = {}
    for e in events:
        if isinstance(e, EngagementObserved):
            published.setdefault(e.job_id, e.published_at)
            old = latest.get(e.job_id)
            if old is None or (e.horizon_minutes, e.occurred_at, e.event_id) > (
                old.horizon_minutes,
                old.occurred_at,
                old.event_id,
            ):
                latest[e.job_id] = e
        elif isinstance(e, PublishOutcome) and e.status is OutcomeStatus.PUBLISHED:
            published.setdefault(e.job_id, e.occurred_at)
        else:
            continue
        content[e.job_id] = e.content_id
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for job_id, when in published.items():
        iso = when.astimezone(REPORT).isocalendar()
        if f"{iso[0]}-W{iso[1]:02d}" != week:
            continue
        r = latest.get(job_id)
        t = out[content[job_id]]
        t[0] += 1
        t[1] += (r.reactions + r.comments + r.shares) if r else 0
    return {k: (v[0], v[1]) for k, v in out.items()}


@settings(max_examples=60, deadline=None)
@given(streams(), st.sampled_from(["2026-W48", "2026-W49", "2026-W50"]))
def test_the_document_follows_its_schema_and_its_top_items_equal_the_recomputation(
    events: list[Event], week: str
) -> None:
    doc = weekly_report(folded(events).items(), week, REPORT, top=100)
    VALIDATOR.validate(doc)
    expected = brute_top(events, week)
    assert {i["content_id"]: (i["posts"], i["engagement"]) for i in doc["top_items"]} == expected
    engagement = [i["engagement"] for i in doc["top_items"]]
    assert engagement == sorted(engagement, reverse=True)
    assert doc["weeks"][-1] == week
    assert len(doc["weeks"]) == 8
    assert all(r["period"] == week for r in doc["channels"] + doc["heatmap"] + doc["topics"] + doc["tags"])
    assert {r["period"] for r in doc["trend"]} <= set(doc["weeks"])


def sample_events() -> list[Event]:
    """A fixed week: 12 items on three channels, x giving no reach."""
    rnd = random.Random(49)
    t0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday of W49, 08:00 in Jakarta
    events: list[Event] = []
    for c in range(12):
        cid = f"c{c}"
        events.append(
            ContentApproved(
                event_id=f"a{c}",
                occurred_at=t0,
                content_id=cid,
                topic_key=rnd.choice(["jembatan", "banjir-2026"]),
                tags=("gubernur",) if c % 2 else ("wakil-gubernur", "banjir"),
                author="rina",
                approval=Approval(approved_by="yuyun", approved_at=t0),
                submitted_by="yuyun",
                variants=(ChannelVariant(channel="ig", content=Content(text="t")),),
            )
        )
        for channel in ("ig", "fb", "x"):
            at = t0 + timedelta(hours=rnd.randrange(6 * 24))
            common = {"job_id": f"{cid}:{channel}", "content_id": cid, "channel": channel, "platform": "p"}
            events.append(
                EngagementObserved(
                    event_id=f"e{cid}{channel}",
                    occurred_at=at + timedelta(hours=24),
                    published_at=at,
                    horizon_minutes=1440,
                    reactions=rnd.randrange(500),
                    comments=rnd.randrange(50),
                    shares=rnd.randrange(50),
                    reach=None if channel == "x" else rnd.randrange(10**4),
                    **common,
                )
            )
    return events


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return weekly_report(folded(sample_events()).items(), WEEK, REPORT)


class Structure(HTMLParser):
    """What the golden checks read from a page: its tags in order, headings, svgs, references."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.open: list[str] = []
        self.h2: list[str] = []
        self.rects_per_svg: list[int] = []
        self.references: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in ("meta", "link", "rect", "line", "polyline"):
            self.open.append(tag)
        if tag == "svg":
            self.rects_per_svg.append(0)
        if tag == "rect" and self.rects_per_svg:
            self.rects_per_svg[-1] += 1
        self.references += [
            v or "" for k, v in attrs if k in ("href", "src", "xlink:href", "action", "xmlns")
        ]
        self.references += [v for _, v in attrs if v and ("http:" in v or "https:" in v or "url(" in v)]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "rect" and self.rects_per_svg:
            self.rects_per_svg[-1] += 1
        self.references += [v or "" for k, v in attrs if k in ("href", "src")]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("meta", "link", "rect", "line", "polyline"):
            return
        assert self.open, tag
        assert self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.open and self.open[-1] == "h2":
            self.h2.append(data)


def parse(page: str) -> Structure:
    parser = Structure()
    parser.feed(page)
    parser.close()
    assert parser.open == [], parser.open
    return parser


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        ("en", ["Channels this week", "Engagement by local hour of the week", "Top items of the week"]),
        (
            "id",
            [
                "Kanal minggu ini",
                "Interaksi menurut jam setempat dalam seminggu",
                "Konten teratas minggu ini",
            ],
        ),
    ],
)
def test_the_html_report_is_one_self_contained_file_with_every_chart(
    doc: dict[str, Any], lang: str, headings: list[str]
) -> None:
    page = render_html(doc, lang)
    assert page == render_html(doc, lang)  # a pure function of the figures
    s = parse(page)
    assert s.references == []  # nothing loaded from elsewhere: no href, src, url(), http(s)
    assert "http://" not in page
    assert "https://" not in page
    assert "script" not in s.tags
    assert "img" not in s.tags
    assert "link" not in s.tags
    assert s.tags.count("style") == 1
    assert s.h2[:3] == headings
    assert len(s.h2) == 6
    assert f'<html lang="{lang}">' in page
    # One heatmap per channel (7 x 24 cells), then bars for top items, tags, topics, and the trend.
    channels = sorted({r["channel"] for r in doc["heatmap"]})
    assert channels == ["fb", "ig", "x"]
    assert s.rects_per_svg[: len(channels)] == [168] * len(channels)
    assert s.rects_per_svg[len(channels)] == len(doc["top_items"])
    assert s.tags.count("svg") == len(channels) + 4
    # "not available", never 0, where the platform gave no reach (x here).
    x_row = next(r for r in doc["channels"] if r["key"] == "x")
    assert x_row["reach"] is None
    assert ("not available" if lang == "en" else "tidak tersedia") in "".join(s.text)


def test_the_html_escapes_what_it_shows_and_the_page_links_its_own_stylesheet(doc: dict[str, Any]) -> None:
    hostile = {**doc, "tags": [{**doc["tags"][0], "key": '<img src="https://evil/x">'}]}
    page = render_html(hostile, "en", stylesheet="reach.css", links=page_links(WEEK, "en"))
    s = parse(page)
    assert "img" not in s.tags
    assert "style" not in s.tags
    assert s.references == [
        "reach.css",
        "?week=2026-W48&lang=en",
        "?week=2026-W50&lang=en",
        "?week=2026-W49&lang=id",
    ]
    with pytest.raises(ValueError, match="lang"):
        render_html(doc, "fr")


def test_the_csv_parses_with_one_row_per_figure(doc: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(doc))))
    assert rows
    assert list(rows[0]) == list(CSV_COLUMNS)
    for section in ("channels", "heatmap", "topics", "tags", "top_items", "trend"):
        assert sum(r["section"] == section for r in rows) == len(doc[section]), section
    x = next(r for r in rows if r["section"] == "channels" and r["channel"] == "x")
    assert x["reach"] == ""
    assert x["reach_posts"] == "0"
    top = next(r for r in rows if r["section"] == "top_items")
    assert top["key"] == doc["top_items"][0]["content_id"]
    assert ";" in top["channel"]
    hostile = {**doc, "topics": [{**doc["topics"][0], "key": "=HYPERLINK(1)"}]}
    cell = next(r for r in csv.DictReader(io.StringIO(render_csv(hostile))) if r["section"] == "topics")
    assert cell["key"] == "'=HYPERLINK(1)"


def test_the_json_is_the_document_and_follows_its_schema(doc: dict[str, Any]) -> None:
    back = json.loads(render_json(doc))
    assert back == doc
    VALIDATOR.validate(back)
    assert not VALIDATOR.is_valid({**back, "schema_version": 2})
    assert not VALIDATOR.is_valid({**back, "extra": 1})


@pytest.mark.parametrize(
    ("week", "kwargs", "message"),
    [
        ("2026-49", {}, "week must look like"),
        ("2026-W54", {}, "does not exist"),
        # The trend reads two years back and the page links the week after: at the calendar's
        # ends those would leave date's range (an OverflowError, a 500).
        ("0001-W01", {}, "outside the years"),
        ("9999-W52", {}, "outside the years"),
        (WEEK, {"top": 0}, "top must be between"),
        (WEEK, {"trend_weeks": 105}, "weeks must be between"),
    ],
)
def test_a_bad_week_or_bound_is_a_bad_query(week: str, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        weekly_report([], week, REPORT, **kwargs)


def test_the_default_week_is_this_week_in_the_report_zone_and_weeks_cross_years() -> None:
    sunday_night_utc = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)  # Monday 01:00 in Jakarta: W50
    assert report_for([], {}, REPORT, sunday_night_utc)["week"] == "2026-W50"
    with pytest.raises(BadQuery, match="whole number"):
        report_for([], {"top": "ten"}, REPORT, sunday_night_utc)
    with pytest.raises(BadQuery, match="whole number"):
        report_for([], {"weeks": "\u00b2"}, REPORT, sunday_night_utc)  # isdigit() says yes
    with pytest.raises(BadQuery, match="whole number"):
        report_for([], {"top": "9" * 4400}, REPORT, sunday_night_utc)  # int() refuses these
    assert weeks_up_to("2027-W01", 3) == ["2026-W52", "2026-W53", "2027-W01"]


def test_the_command_names_its_file_and_reports_an_unreachable_api(
    doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert str(default_output(doc, "html", "id")) == "warta-reach-2026-W49-id.html"
    assert str(default_output(doc, "csv", "id")) == "warta-reach-2026-W49.csv"
    from warta.cli import build_parser

    args = build_parser().parse_args(["report", "--week", WEEK, "--analytics-url", "http://127.0.0.1:9"])
    assert cmd_report(args) == 3
    assert "unreachable" in capsys.readouterr().err

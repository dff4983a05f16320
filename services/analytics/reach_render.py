"""The week's report document (``weekly``) written out (pure: the same document, the same bytes).

- ``render_html``: one self-contained page with inline SVG charts, in English or Bahasa
  Indonesia; it references no resource outside itself, so it can be mailed as it is. The Reach
  page passes ``stylesheet`` (its own ``/reach.css``) instead of the inline style its
  Content-Security-Policy forbids, and ``links`` to move between weeks and languages.
- ``render_csv``: one table for spreadsheets, a row per figure with its ``section``; an empty
  ``reach`` is "not available" (no post of the row reported one), never 0.
- ``render_json``: the document itself, for machines (``weekly.REPORT_SCHEMA``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from services.analytics import reach_svg
from services.analytics.reach_text import LANGS, TEXT, decimal, number

CSS = """body{font-family:system-ui,sans-serif;color:#1d3557;max-width:60rem;margin:1.5rem auto;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.2rem .6rem;border-bottom:1px solid #e3e6ee}
td.n,th.n{text-align:right}.note{color:#556;font-size:.9rem}nav a{margin-right:1rem}
figure{margin:.5rem 0 1rem}figcaption{font-weight:600;margin-bottom:.2rem}"""

FIGURE_COLUMNS = ("posts", "reactions", "comments", "shares", "engagement", "reach")
CSV_COLUMNS = (
    "section",
    "key",
    "channel",
    "period",
    "day_of_week",
    "hour",
    "topic",
    "tags",
    "posts",
    "reactions",
    "comments",
    "shares",
    "engagement",
    "reach",
    "reach_posts",
    "expected_engagement",
    "option",
    "votes",
)


def render_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_csv(doc: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for section in ("channels", "heatmap", "topics", "tags", "top_items", "trend"):
        for row in doc[section]:
            cells = {**row, "section": section}
            if section == "top_items":
                cells.update(
                    key=row["content_id"], channel=";".join(row["channels"]), tags=";".join(row["tags"])
                )
            elif section in ("channels", "trend"):
                cells["channel"] = row["key"]
            writer.writerow({k: _cell(v) for k, v in cells.items() if k in CSV_COLUMNS})
    for poll in doc.get("polls", ()):
        for o in poll["options"]:
            cells = {"section": "polls", "key": poll["content_id"], "channel": poll["channel"]}
            cells.update(period=poll["published_at"], option=o["label"], votes=o["votes"])
            writer.writerow({k: _cell(v) for k, v in cells.items()})
    for e in doc.get("expectation", ()):
        for slot, value in enumerate(e["hourly"]):
            cells = {"section": "expectation", "key": e["channel"], "channel": e["channel"]}
            cells.update(period=e["computed_at"], day_of_week=slot // 24, hour=slot % 24)
            writer.writerow({k: _cell(v) for k, v in {**cells, "expected_engagement": value}.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    # A text cell a spreadsheet would read as a formula is kept as text (OWASP, CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def render_html(
    doc: Mapping[str, Any],
    lang: str = "en",
    *,
    stylesheet: str | None = None,
    links: Mapping[str, str] | None = None,
) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    t = TEXT[lang]
    head = (
        f'<link rel="stylesheet" href="{escape(stylesheet)}">'
        if stylesheet is not None
        else f"<style>{CSS}</style>"
    )
    nav = ""
    if links:
        nav = (
            "<nav>"
            + "".join(f'<a href="{escape(href)}">{escape(t[k])}</a>' for k, href in links.items())
            + "</nav>"
        )
    body = [
        f"<h1>{escape(t['title'])} · {escape(t['week'])} {escape(doc['week'])}</h1>",
        nav,
        f'<p class="note">{escape(t["timezone"])} {escape(doc["timezone"])}. {escape(t["reach_note"])}</p>',
        f"<h2>{escape(t['channels'])}</h2>",
        _table(doc["channels"], t["channel"], lang) if doc["channels"] else f"<p>{escape(t['none'])}</p>",
        f'<h2>{escape(t["heatmap"])}</h2><p class="note">{escape(t["heatmap_note"])}</p>',
        _heatmaps(doc["heatmap"], doc.get("expectation", ()), lang),
        f"<h2>{escape(t['top_items'])}</h2>",
        _top_items(doc["top_items"], lang),
        f"<h2>{escape(t['tags'])}</h2>",
        _compare(doc["tags"], t["tag"], lang),
        f"<h2>{escape(t['topics'])}</h2>",
        _compare(doc["topics"], t["topic"], lang),
        f"<h2>{escape(t['trend'])}</h2>",
        _trend(doc["trend"], doc["weeks"], lang),
    ]
    if doc.get("polls"):  # only where the week had polls: most weeks have none
        body += [f"<h2>{escape(t['polls'])}</h2>", _polls(doc["polls"], lang)]
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(t['title'])} {escape(doc['week'])}</title>{head}</head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _table(rows: Sequence[Mapping[str, Any]], first: str, lang: str) -> str:
    t = TEXT[lang]
    head = f"<th>{escape(first)}</th>" + "".join(f'<th class="n">{escape(t[c])}</th>' for c in FIGURE_COLUMNS)
    lines = [
        f"<tr><td>{escape(r['key'])}</td>"
        + "".join(f'<td class="n">{escape(number(r[c], lang))}</td>' for c in FIGURE_COLUMNS)
        + "</tr>"
        for r in rows
    ]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _heatmaps(rows: Sequence[Mapping[str, Any]], expectation: Sequence[Mapping[str, Any]], lang: str) -> str:
    """Per channel, the observed heatmap, with the model's expectation as a second row under it
    (each shaded against its own peak: their shapes compare, the units differ)."""
    t = TEXT[lang]
    by_channel: dict[str, dict[tuple[int, int], float]] = {}
    for r in rows:
        by_channel.setdefault(r["channel"], {})[(r["day_of_week"], r["hour"])] = r["engagement"]
    expected = {
        e["channel"]: {(slot // 24, slot % 24): value for slot, value in enumerate(e["hourly"])}
        for e in expectation
    }
    if not by_channel and not expected:
        return f"<p>{escape(t['none'])}</p>"
    days = t["days"].split()
    tip = "{day} {hour}: {value} " + t["engagement"].lower()
    tip_expected = "{day} {hour}: {value} " + t["expected_engagement"]
    out = []
    for channel in sorted(by_channel.keys() | expected.keys()):
        observed = by_channel.get(channel)
        out.append(f"<figure><figcaption>{escape(channel)}</figcaption>")
        out.append(
            reach_svg.heatmap(observed, days, t["heatmap"] + ": " + channel, tip)
            if observed is not None
            else f"<p>{escape(t['none'])}</p>"
        )
        if channel in expected:
            e = next(e for e in expectation if e["channel"] == channel)
            note = t["expected_note"].format(
                at=e["computed_at"][:16].replace("T", " "), posts=number(e["observations"], lang)
            )
            out.append(f'<p class="note">{escape(t["expected"])}: {escape(note)}</p>')
            out.append(
                reach_svg.heatmap(
                    expected[channel],
                    days,
                    t["expected"] + ": " + channel,
                    tip_expected,
                    written=lambda v: decimal(v, lang),
                )
            )
        out.append("</figure>")
    return "".join(out)


def _top_items(rows: Sequence[Mapping[str, Any]], lang: str) -> str:
    t = TEXT[lang]
    if not rows:
        return f"<p>{escape(t['none'])}</p>"
    chart = reach_svg.bars(
        [(r["content_id"], r["engagement"], number(r["engagement"], lang)) for r in rows], t["top_items"]
    )
    head = "".join(
        f"<th>{escape(h)}</th>" for h in (t["item"], t["topic"], t["tag"], t["channel"])
    ) + "".join(f'<th class="n">{escape(t[c])}</th>' for c in FIGURE_COLUMNS)
    body = "".join(
        f"<tr><td>{escape(r['content_id'])}</td><td>{escape(r['topic'] or '')}</td>"
        f"<td>{escape(', '.join(r['tags']))}</td><td>{escape(', '.join(r['channels']))}</td>"
        + "".join(f'<td class="n">{escape(number(r[c], lang))}</td>' for c in FIGURE_COLUMNS)
        + "</tr>"
        for r in rows
    )
    return f"<figure>{chart}</figure><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _compare(rows: Sequence[Mapping[str, Any]], first: str, lang: str) -> str:
    t = TEXT[lang]
    if not rows:
        return f"<p>{escape(t['none'])}</p>"
    chart = reach_svg.bars([(r["key"], r["engagement"], number(r["engagement"], lang)) for r in rows], first)
    return f"<figure>{chart}</figure>{_table(rows, first, lang)}"


def _trend(rows: Sequence[Mapping[str, Any]], weeks: Sequence[str], lang: str) -> str:
    t = TEXT[lang]
    index = {w: i for i, w in enumerate(weeks)}
    series: dict[str, list[int]] = {}
    for r in rows:
        if r["period"] in index:
            series.setdefault(r["key"], [0] * len(weeks))[index[r["period"]]] = r["engagement"]
    if not series:
        return f"<p>{escape(t['none'])}</p>"
    peak = max(v for values in series.values() for v in values)
    return f"<figure>{reach_svg.lines(series, weeks, t['trend'], number(peak, lang))}</figure>"


def _polls(polls: Sequence[Mapping[str, Any]], lang: str) -> str:
    t = TEXT[lang]
    out = []
    for poll in polls:
        state = t["poll_closed"] if poll["closed"] else t["poll_open"]
        caption = f"{poll['question'] or poll['content_id']} · {poll['channel']} · {state}"
        rows = [
            (
                o["label"],
                o["votes"],
                number(o["votes"], lang) + ("" if o["share"] is None else f" ({round(100 * o['share'])}%)"),
            )
            for o in poll["options"]
        ]
        total = f"{number(poll['votes'], lang)} {t['votes']}"
        out.append(
            f"<figure><figcaption>{escape(caption)}</figcaption>{reach_svg.bars(rows, caption)}"
            f'<p class="note">{escape(total)}</p></figure>'
        )
    return "".join(out)

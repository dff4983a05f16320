"""``warta report``: the week's reach report from the analytics API, as a file to send on.

    warta report [--week 2026-W49] [--format html|csv|json] [--lang en|id] [-o FILE|-]

It reads the week's report document (``GET /v1/report``) from the analytics worker
(``--analytics-url``, WARTA_ANALYTICS_URL, default http://127.0.0.1:8075) and writes it
rendered by ``services.analytics.reach_render``: one self-contained HTML file with SVG charts
(nothing loaded from elsewhere, so it can be mailed as it is), CSV for spreadsheets, or the JSON
document itself. Exit codes as the other operator commands: 0 written, 1 refused by the API
(a bad week), 2 bad usage or an answer this command cannot read, 3 unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.analytics.reach_render import render_csv, render_html, render_json
from services.analytics.reach_text import LANGS
from services.analytics.weekly import REPORT_SCHEMA, SCHEMA_VERSION
from warta.cli_messages import current, say
from warta.ops_client import EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, CliError

DEFAULT_URL = "http://127.0.0.1:8075"
FORMATS = ("html", "csv", "json")


def fetch_report(base_url: str, query: Mapping[str, str], timeout: float = 30.0) -> dict[str, Any]:
    """The report document the analytics API answers for ``query``; ``CliError`` otherwise."""
    url = base_url.rstrip("/") + "/v1/report?" + urllib.parse.urlencode(query)
    # The API's refusals come back in the language the CLI speaks.
    request = urllib.request.Request(url, headers={"Accept-Language": current()})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        message = _message(exc.read()) or exc.reason
        code = EXIT_REFUSED if 400 <= exc.code < 500 else EXIT_UNREACHABLE
        raise CliError(say("report_refused", status=exc.code, message=message), code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise CliError(say("report_unreachable", url=base_url, error=exc), EXIT_UNREACHABLE) from exc
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise CliError(say("report_not_json", error=exc)) from exc
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        raise CliError(say("report_version", version=SCHEMA_VERSION))
    missing = [k for k in REPORT_SCHEMA["required"] if k not in doc]
    if missing:
        raise CliError(say("report_lacks", missing=", ".join(missing)))
    return doc


def _message(body: bytes) -> str:
    """The refusal's sentence: RFC 9457 ``detail`` (the API's ``errors`` messages joined), already
    in the language asked for; anything else is shown as it came, cut short."""
    try:
        refused = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:200]
    if not isinstance(refused, dict):
        return body.decode(errors="replace")[:200]
    errors = refused.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
    return str(refused.get("detail") or refused.get("message") or "")


def render(doc: Mapping[str, Any], fmt: str, lang: str) -> str:
    if fmt == "html":
        return render_html(doc, lang)
    return render_csv(doc) if fmt == "csv" else render_json(doc)


def default_output(doc: Mapping[str, Any], fmt: str, lang: str) -> Path:
    suffix = f"-{lang}" if fmt == "html" else ""
    return Path(f"warta-reach-{doc['week']}{suffix}.{fmt}")


def write(text: str, output: Path) -> None:
    """Written whole or not at all: a half-written report must not be mailed."""
    tmp = output.with_name(output.name + ".tmp")
    # newline="" keeps CSV's CRLF rows as they are (RFC 4180), on every platform.
    with tmp.open("w", encoding="utf-8", newline="") as out:
        out.write(text)
    tmp.replace(output)


def cmd_report(args: argparse.Namespace) -> int:
    query = {"weeks": str(args.weeks), "top": str(args.top)}
    if args.week:
        query["week"] = args.week
    lang = getattr(args, "lang", None) or current()
    try:
        doc = fetch_report(args.analytics_url, query)
        text = render(doc, args.format, lang)
        if args.output == "-":
            sys.stdout.write(text)
            return 0
        output = Path(args.output) if args.output else default_output(doc, args.format, lang)
        write(text, output)
    except CliError as exc:
        print(f"warta report: {exc}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        print(f"warta report: {say('cannot_write_report', error=exc)}", file=sys.stderr)
        return EXIT_USAGE
    print(output)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help="write the week's reach report (HTML, CSV or JSON)")
    parser.add_argument("--week", help="the ISO week, e.g. 2026-W49 (default: this week)")
    parser.add_argument("--format", choices=FORMATS, default="html")
    # No default of its own: argparse would put it over the CLI's --lang; unset, the CLI's language.
    parser.add_argument(
        "--lang",
        choices=LANGS,
        default=argparse.SUPPRESS,
        help="the HTML report's language (default: the CLI's)",
    )
    parser.add_argument("-o", "--output", help="the file to write, - for stdout (default: warta-reach-WEEK…)")
    parser.add_argument("--weeks", type=int, default=8, help="weeks in the trend, ending with --week")
    parser.add_argument("--top", type=int, default=10, help="how many top items")
    parser.add_argument(
        "--analytics-url",
        default=os.environ.get("WARTA_ANALYTICS_URL", DEFAULT_URL),
        help=f"the analytics worker's URL (WARTA_ANALYTICS_URL; default {DEFAULT_URL})",
    )
    parser.set_defaults(func=cmd_report)

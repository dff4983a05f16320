"""Operator commands of the ``warta`` CLI, for people who live in a terminal.

    warta submit FILE.json|FILE.yaml         an approved item; refusals listed per field
    warta status CONTENT_ID                  what happened to an item on every channel
    warta plan --channel C --day 2026-11-27  a channel's plan for a day of its own timezone
    warta lag                                consumer lag per group, from the broker's offsets
    warta pause|resume [--channel C ...] --reason R
    warta dead list | show ID | replay ID    dead letters; replay = a fresh attempt via the scheduler
    warta channels                           channels, their pauses and health
    warta import FILE.csv                    bulk submit with a progress bar and a summary

Talks HTTP only: ingest at ``WARTA_URL`` (default http://127.0.0.1:8080) and the console at
``WARTA_CONSOLE_URL`` (default http://127.0.0.1:8070). The key comes from ``--key``, ``WARTA_KEY``
or ``--key-role ROLE`` (the local run's var/dev-keys.json).

Exit codes: 0 done, 1 refused (the answer says why), 2 bad usage or input file, 3 unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from warta.cli_credentials import register_channels
from warta.cli_messages import say
from warta.ops_client import (
    EXIT_REFUSED,
    Answer,
    Client,
    CliError,
    as_json,
    client_of,
    expect,
    idempotency_key,
    load_document,
    table,
)
from warta.ops_import import CSV_COLUMNS, cmd_import


# ---- commands ----------------------------------------------------------------------------------
def cmd_submit(args: argparse.Namespace) -> int:
    body = load_document(Path(args.file))
    if not isinstance(body, dict):
        raise CliError(say("item_not_object", file=args.file))
    c = client_of(args)
    key = args.idempotency_key or idempotency_key(body)
    answer = c.post(c.ingest, "/v1/content", body, {"Idempotency-Key": key})
    accepted = expect(answer, f"submit {args.file}")
    if as_json(args, accepted):
        return 0
    print(say("accepted", content_id=accepted["content_id"]))
    for job in accepted.get("jobs", []):
        print(f"  {job['channel']}: {job['state']}")
    print(say("follow_it", content_id=accepted["content_id"]))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    c = client_of(args)
    item = expect(c.get(c.ingest, f"/v1/content/{urllib.parse.quote(args.content_id)}"), "status")
    if as_json(args, item):
        return 0
    print(
        f"{item['content_id']}  priority={item['priority']}  author={item['author']}  approved_by={item['approved_by']}"
    )
    rows = []
    for ch in item["channels"]:
        detail = ch.get("url") or (ch.get("failure") or {}).get("message") or ch.get("note") or ""
        rows.append([ch["channel"], ch["state"], ch.get("slot") or "", ch.get("attempt"), detail])
    table(rows, ["CHANNEL", "STATE", "SLOT (UTC)", "ATTEMPT", "URL / LAST ERROR / NOTE"])
    return 0


def _channel_info(c: Client, channel: str) -> dict[str, Any]:
    listed = expect(c.get(c.ingest, "/v1/channels"), "channels")["channels"]
    found = next((ch for ch in listed if ch["channel"] == channel), None)
    if found is None:
        known = ", ".join(ch["channel"] for ch in listed)
        raise CliError(say("no_channel", channel=channel, known=known), EXIT_REFUSED)
    return dict(found)


def cmd_plan(args: argparse.Namespace) -> int:
    c = client_of(args)
    info = _channel_info(c, args.channel)
    tz = ZoneInfo(info["timezone"])
    try:
        day = date.fromisoformat(args.day) if args.day else datetime.now(tz).date()
    except ValueError as exc:
        raise CliError(say("bad_day", error=exc)) from exc
    start = datetime.combine(day, dtime(0), tz)
    end = datetime.combine(day + timedelta(days=1), dtime(0), tz)
    query = {"channel": args.channel, "from": start.isoformat(), "to": end.isoformat()}
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None  # opaque; the first page is asked for without one
    while True:
        page_query = {**query, "cursor": cursor} if cursor else query
        page = expect(c.get(c.ingest, "/v1/content?" + urllib.parse.urlencode(page_query)), "plan")
        jobs += page["jobs"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if as_json(
        args, {"channel": args.channel, "day": day.isoformat(), "timezone": info["timezone"], "jobs": jobs}
    ):
        return 0
    print(say("plan_title", channel=args.channel, day=day, timezone=info["timezone"], count=len(jobs)))
    rows = []
    for job in jobs:
        slot = (
            datetime.fromisoformat(job["slot"]).astimezone(tz).strftime("%H:%M") if job.get("slot") else "—"
        )
        why = (job.get("explanation") or {}).get("reason") or job.get("note") or ""
        rows.append([slot, job["state"], job["content_id"], why])
    table(rows, ["LOCAL", "STATE", "CONTENT", "WHY THIS SLOT"])
    return 0


def cmd_lag(args: argparse.Namespace) -> int:
    c = client_of(args)
    body = expect(c.get(c.console, "/v1/lag"), "lag")
    if as_json(args, body):
        return 0
    totals: dict[str, int] = {}
    for row in body["lags"]:
        totals[row["group"]] = totals.get(row["group"], 0) + row["lag"]
    print(say("lag_title", at=body["at"]))
    table(sorted(totals.items()), ["GROUP", "LAG"])
    rows = [
        [r["group"], r["topic"], r["partition"], r["committed"], r["end"], r["lag"]]
        for r in body["lags"]
        if args.all or r["lag"] > 0
    ]
    if rows:
        print()
        table(rows, ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"])
    return 0


def _pause_or_resume(args: argparse.Namespace, action: str) -> int:
    c = client_of(args)
    body: dict[str, Any] = {"reason": args.reason}
    if args.channel:
        body["channels"] = args.channel
    answer = expect(c.post(c.ingest, f"/v1/{action}", body), action)
    if as_json(args, answer):
        return 0
    channels = answer.get("channels")
    named = say("all_channels") if channels == "all" else ", ".join(channels)
    print(say(f"{action}d", channels=named, reason=args.reason))
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    return _pause_or_resume(args, "pause")


def cmd_resume(args: argparse.Namespace) -> int:
    return _pause_or_resume(args, "resume")


def cmd_dead(args: argparse.Namespace) -> int:
    c = client_of(args)
    if args.dead_command == "list":
        body = expect(c.get(c.console, "/v1/dead"), "dead list")
        if as_json(args, body):
            return 0
        print(say("dead_total", total=body["total"]))
        rows = [
            [d["id"], d["at"], d["source_topic"], d.get("job_id") or say("not_a_job"), d["reason"][:80]]
            for d in body["dead"]
        ]
        table(rows, ["ID", "AT", "FROM", "JOB", "REASON"])
        return 0
    ident = urllib.parse.quote(args.id, safe="")
    if args.dead_command == "show":
        print(
            json.dumps(
                expect(c.get(c.console, f"/v1/dead/{ident}"), "dead show"), indent=2, ensure_ascii=False
            )
        )
        return 0
    answer = expect(c.post(c.console, f"/v1/dead/{ident}/replay", {"reason": args.reason}), "dead replay")
    if as_json(args, answer):
        return 0
    if "job_id" in answer:  # a dead job: the scheduler retries it
        print(say("replaying", job_id=answer["job_id"]))
    else:  # a record a consumer's handler refused: written back to its topic
        print(say("replayed_to", topic=answer.get("replayed_to"), partition=answer.get("partition")))
    if answer.get("note"):
        print(answer["note"])  # e.g. an unconfirmed attempt is looked up on the platform first
    return 0


def cmd_channels(args: argparse.Namespace) -> int:
    c = client_of(args)
    listed = expect(c.get(c.ingest, "/v1/channels"), "channels")["channels"]
    health: dict[str, dict[str, Any]] = {}
    try:
        console = c.get(c.console, "/v1/channels")  # operators' keys only; others see no health
    except CliError as exc:  # health is extra: ingest's listing still stands
        console = Answer(0, {"error": str(exc)})
    if console.ok:
        health = {ch["channel"]: ch for ch in console.body["channels"]}
    if as_json(args, [{**ch, "health": health.get(ch["channel"])} for ch in listed]):
        return 0
    rows = []
    for ch in listed:
        h = health.get(ch["channel"], {})
        paused = ch.get("paused")
        error = (h.get("last_error") or {}).get("message", "")
        rows.append(
            [
                ch["channel"],
                ch["platform"],
                ch["timezone"],
                h.get("health", "?"),
                say("paused_by", by=paused["by"], reason=paused["reason"]) if paused else "",
                error[:60],
            ]
        )
    table(rows, ["CHANNEL", "PLATFORM", "TIMEZONE", "HEALTH", "PAUSE", "LAST ERROR"])
    if console.status == 0:
        print(say("health_unreachable", error=console.body["error"]), file=sys.stderr)
    elif not console.ok:
        print(say("health_needs_operator", status=console.status), file=sys.stderr)
    return 0


# ---- registration ------------------------------------------------------------------------------
def common_options(nested: bool = False) -> argparse.ArgumentParser:
    # Nested parsers (dead list|show|replay) must not reset options given before their name.
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if nested else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="ingest's URL (WARTA_URL; default http://127.0.0.1:8080)", **kw)
    common.add_argument(
        "--console-url", help="the console's URL (WARTA_CONSOLE_URL; default http://127.0.0.1:8070)", **kw
    )
    common.add_argument("--key", help="API key (default: WARTA_KEY)", **kw)
    common.add_argument(
        "--key-role",
        choices=("editor", "approver", "operator", "admin"),
        help="use this role's key from the local run's var/dev-keys.json (WARTA_DEV_KEYS)",
        **kw,
    )
    common.add_argument(
        "--json", action="store_true", help="print the data as JSON on stdout, for scripts", **kw
    )
    # After the command too (warta status X --lang id); SUPPRESS keeps the top-level value.
    common.add_argument("--lang", choices=("en", "id"), default=argparse.SUPPRESS, help="en or id")
    return common


def guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except CliError as exc:
            if str(exc):
                print(f"warta {args.command}: {exc}", file=sys.stderr)
            return exc.code

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the operator commands to the ``warta`` parser."""
    common = common_options()

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common], help=help_)
        parser.set_defaults(func=guarded(func))
        return parser

    submit = add("submit", cmd_submit, "submit an approved item from a JSON or YAML file")
    submit.add_argument("file")
    submit.add_argument("--idempotency-key", help="default: derived from the file's content")
    add("status", cmd_status, "what happened to an item on each channel").add_argument("content_id")
    plan = add("plan", cmd_plan, "a channel's plan for one day of its own timezone")
    plan.add_argument("--channel", required=True)
    plan.add_argument("--day", help="YYYY-MM-DD in the channel's timezone (default: today there)")
    add("lag", cmd_lag, "consumer lag per group and partition").add_argument(
        "--all", action="store_true", help="also list partitions without lag"
    )
    for name, func in (("pause", cmd_pause), ("resume", cmd_resume)):
        p = add(name, func, f"{name} publishing on some channels (default: all)")
        p.add_argument("--channel", action="append", help="repeat for several; omit for all channels")
        p.add_argument("--reason", required=True)
    dead = add("dead", cmd_dead, "dead letters: list, show ID, replay ID")
    dead_sub = dead.add_subparsers(dest="dead_command", required=True)
    nested = common_options(nested=True)
    dead_sub.add_parser("list", parents=[nested])
    dead_sub.add_parser("show", parents=[nested]).add_argument("id", help="dead letter id or job id")
    replay = dead_sub.add_parser("replay", parents=[nested])
    replay.add_argument("id", help="dead letter id or job id")
    replay.add_argument("--reason", default="replayed from the CLI")
    register_channels(add("channels", cmd_channels, "channels, their pauses and health; check; connect"))
    imp = add("import", cmd_import, "bulk submit approved items from a CSV file")
    imp.add_argument(
        "file", help=f"columns: {', '.join(CSV_COLUMNS)} (approved_at defaults to the file's mtime)"
    )
    imp.add_argument("--author", help="author of rows without an author column")
    imp.add_argument(
        "--approved-by",
        help="approver of rows without approved_by (default with --key-role: that dev key's person)",
    )

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
import csv
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from shared.cli_credentials import register_channels
from shared.settings import ROOT

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


class CliError(Exception):
    """Ends the command with a message and an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


# ---- HTTP --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def locale_language(env: Mapping[str, str] | None = None) -> str:
    """The language of the user's locale (LC_ALL, LC_MESSAGES, LANG; POSIX precedence) as an
    Accept-Language value: refusals then come back in Bahasa Indonesia on an id_ID locale."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            tag = value.split(".")[0].split("@")[0].replace("_", "-")
            return "en" if tag in ("C", "POSIX") else tag
    return "en"


@dataclass(frozen=True)
class Client:
    ingest: str
    console: str
    key: str | None
    timeout: float = 30.0

    def call(
        self, method: str, url: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.key:
            req.add_header("Authorization", f"Bearer {self.key}")
        req.add_header("Accept-Language", locale_language())
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return Answer(resp.status, _json(resp.read()))
        except urllib.error.HTTPError as exc:
            wait = exc.headers.get("Retry-After") if exc.headers else None
            return Answer(exc.code, _json(exc.read()), float(wait) if wait else None)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(f"cannot reach {url}: {reason}", EXIT_UNREACHABLE) from exc

    def get(self, base: str, path: str) -> Answer:
        return self.call("GET", base + path)

    def post(self, base: str, path: str, body: object, headers: dict[str, str] | None = None) -> Answer:
        return self.call("POST", base + path, body, headers)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"errors": [{"rule": "http", "message": raw.decode(errors="replace")[:500]}]}


def field_errors(body: Any) -> list[str]:
    """One line per refusal: where (channel, field), what, and the rule's name."""
    lines = []
    for err in (body or {}).get("errors", []) if isinstance(body, dict) else []:
        where = " ".join(
            part
            for part in (
                err.get("field") or "",
                f"[{err['channel']}]" if err.get("channel") else "",
            )
            if part
        )
        lines.append(f"  ✗ {where + ': ' if where else ''}{err.get('message')} ({err.get('rule')})")
    return lines or [f"  ✗ {body!r}"]


def expect(answer: Answer, what: str) -> Any:
    if answer.ok:
        return answer.body
    print(f"{what}: refused ({answer.status})", file=sys.stderr)
    for line in field_errors(answer.body):
        print(line, file=sys.stderr)
    raise CliError("", EXIT_UNREACHABLE if answer.status >= 500 else EXIT_REFUSED)


# ---- configuration -----------------------------------------------------------------------------
def dev_keys_file() -> Path:
    return Path(os.environ.get("WARTA_DEV_KEYS", ROOT / "var" / "dev-keys.json"))


def dev_key(role: str) -> tuple[str, str]:
    """(person, key) of a role in the local run's dev keys."""
    path = dev_keys_file()
    try:
        entry = json.loads(path.read_text())[role]
        return str(entry["person"]), str(entry["key"])
    except (OSError, ValueError, KeyError) as exc:
        raise CliError(f"no {role} key in {path} (start the local run with `make run`): {exc!r}") from exc


def client_of(args: argparse.Namespace) -> Client:
    key = args.key or os.environ.get("WARTA_KEY")
    if args.key_role:
        key = dev_key(args.key_role)[1]
    if not key:
        raise CliError("no API key: pass --key, set WARTA_KEY, or use --key-role ROLE for the local run")
    ingest = (args.url or os.environ.get("WARTA_URL") or "http://127.0.0.1:8080").rstrip("/")
    console = (args.console_url or os.environ.get("WARTA_CONSOLE_URL") or "http://127.0.0.1:8070").rstrip("/")
    return Client(ingest, console, key)


def load_document(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CliError(
            f"{path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}"
        ) from exc
    return _plain(data)


def _plain(value: Any) -> Any:
    """YAML turns timestamps into datetimes; send them back as the ISO text they were."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def idempotency_key(body: object) -> str:
    # The same document twice is one item: a retry after a lost answer can't post it twice.
    return "cli-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]


def as_json(args: argparse.Namespace, data: Any) -> bool:
    """With ``--json``, print ``data`` as JSON on stdout (for scripts) and say so; else False."""
    if not getattr(args, "json", False):
        return False
    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))
    return True


def table(rows: Iterable[Iterable[object]], header: list[str], out: TextIO = sys.stdout) -> None:
    text = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), file=out)
    for row in text:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


# ---- commands ----------------------------------------------------------------------------------
def cmd_submit(args: argparse.Namespace) -> int:
    body = load_document(Path(args.file))
    if not isinstance(body, dict):
        raise CliError(f"{args.file}: the item must be an object (author, approval, content, targets)")
    c = client_of(args)
    key = args.idempotency_key or idempotency_key(body)
    answer = c.post(c.ingest, "/v1/content", body, {"Idempotency-Key": key})
    accepted = expect(answer, f"submit {args.file}")
    if as_json(args, accepted):
        return 0
    print(f"accepted {accepted['content_id']}")
    for job in accepted.get("jobs", []):
        print(f"  {job['channel']}: {job['state']}")
    print(f"follow it: warta status {accepted['content_id']}")
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
        raise CliError(f"there is no channel {channel!r} (known: {known})", EXIT_REFUSED)
    return dict(found)


def cmd_plan(args: argparse.Namespace) -> int:
    c = client_of(args)
    info = _channel_info(c, args.channel)
    tz = ZoneInfo(info["timezone"])
    try:
        day = date.fromisoformat(args.day) if args.day else datetime.now(tz).date()
    except ValueError as exc:
        raise CliError(f"--day must be a date like 2026-11-27: {exc}") from exc
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
    print(f"{args.channel} on {day.isoformat()} ({info['timezone']}): {len(jobs)} job(s)")
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
    print(f"consumer lag at {body['at']} (committed vs end offsets, from the broker)")
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
    print(f"{action}d {'all channels' if channels == 'all' else ', '.join(channels)}: {args.reason}")
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
        print(f"{body['total']} dead letter(s)")
        rows = [
            [d["id"], d["at"], d["source_topic"], d.get("job_id") or "(not a job)", d["reason"][:80]]
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
    print(f"replaying {answer['job_id']}: a fresh attempt through the scheduler")
    if answer.get("note"):
        print(answer["note"])  # e.g. an unconfirmed attempt is looked up on the platform first
    return 0


def cmd_channels(args: argparse.Namespace) -> int:
    c = client_of(args)
    listed = expect(c.get(c.ingest, "/v1/channels"), "channels")["channels"]
    health: dict[str, dict[str, Any]] = {}
    console = c.get(c.console, "/v1/channels")  # operators' keys only; others see no health
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
                f"paused by {paused['by']}: {paused['reason']}" if paused else "",
                error[:60],
            ]
        )
    table(rows, ["CHANNEL", "PLATFORM", "TIMEZONE", "HEALTH", "PAUSE", "LAST ERROR"])
    if not console.ok:
        print(f"(health needs an operator's key: the console answered {console.status})", file=sys.stderr)
    return 0


# ---- bulk import -------------------------------------------------------------------------------
CSV_COLUMNS = (
    "text",
    "channels",
    "priority",
    "not_before",
    "deadline",
    "topic_key",
    "link",
    "external_ref",
    "author",
    "approved_by",
    "approved_at",
)


def row_to_item(row: dict[str, str], defaults: dict[str, str], now: datetime) -> dict[str, Any]:
    """One CSV row as a submission; ``channels`` splits on ';', '|' or spaces."""

    def value(name: str) -> str:
        return (row.get(name) or "").strip() or defaults.get(name, "")

    channels = [c for c in value("channels").replace("|", ";").replace(" ", ";").split(";") if c]
    content: dict[str, Any] = {}
    if value("text"):
        content["text"] = value("text")
    if value("link"):
        content["link"] = value("link")
    item: dict[str, Any] = {
        "author": value("author"),
        "approval": {
            "approved_by": value("approved_by"),
            "approved_at": value("approved_at") or now.isoformat(),
        },
        "priority": value("priority") or "normal",
        "content": content,
        "targets": [{"channel": c} for c in channels],
    }
    for name in ("not_before", "deadline", "topic_key", "external_ref"):
        if value(name):
            item[name] = value(name)
    return item


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal, else every 10 %)."""

    def __init__(self, total: int, out: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.out, self.width = total, out, width
        self.tty = out.isatty()
        self._last_decile = -1

    def show(self, done: int, accepted: int, rejected: int) -> None:
        filled = int(self.width * done / self.total) if self.total else self.width
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}  ok {accepted}  rejected {rejected}"
        if self.tty:
            print("\r" + line, end="" if done < self.total else "\n", file=self.out, flush=True)
            return
        decile = done * 10 // self.total if self.total else 10
        if decile != self._last_decile or done == self.total:
            self._last_decile = decile
            print(line, file=self.out, flush=True)


def submit_with_retries(
    c: Client, item: dict[str, Any], key: str, sleep: Callable[[float], None] = time.sleep
) -> Answer:
    """429 and 503 say when to come back; the Idempotency-Key makes coming back safe."""
    answer = c.post(c.ingest, "/v1/content", item, {"Idempotency-Key": key})
    for _ in range(8):
        if answer.status not in (429, 503):
            break
        sleep(min(30.0, answer.retry_after or 1.0))
        answer = c.post(c.ingest, "/v1/content", item, {"Idempotency-Key": key})
    return answer


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            unknown = [col for col in reader.fieldnames or () if col not in CSV_COLUMNS]
            rows = list(reader)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    if unknown:
        raise CliError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(CSV_COLUMNS)}")
    c = client_of(args)
    defaults = {"author": args.author or "", "approved_by": args.approved_by or ""}
    if args.key_role and not defaults["approved_by"]:
        defaults["approved_by"] = dev_key(args.key_role)[0]
    # Rows without approved_at were approved when the sheet was saved; a stable instant also keeps
    # each row's body, and so its Idempotency-Key, the same when the import is run again.
    now = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    progress = Progress(len(rows))
    accepted: list[tuple[int, str]] = []
    rejected: list[tuple[int, list[str]]] = []
    for n, row in enumerate(rows, start=2):  # line numbers as a spreadsheet shows them (1 = header)
        item = row_to_item(row, defaults, now)
        key = (
            "csv-"
            + hashlib.sha256(f"{path.name}\0{n}\0{json.dumps(row, sort_keys=True)}".encode()).hexdigest()[:40]
        )
        answer = submit_with_retries(c, item, key)
        if answer.ok:
            accepted.append((n, answer.body["content_id"]))
        else:
            rejected.append((n, [line.strip() for line in field_errors(answer.body)]))
        progress.show(len(accepted) + len(rejected), len(accepted), len(rejected))
    summary = {
        "file": path.name,
        "rows": len(rows),
        "accepted": [{"line": n, "content_id": cid} for n, cid in accepted],
        "rejected": [{"line": n, "errors": reasons} for n, reasons in rejected],
    }
    if as_json(args, summary):
        return EXIT_REFUSED if rejected else 0
    print(f"imported {path.name}: {len(accepted)} accepted, {len(rejected)} rejected (of {len(rows)} rows)")
    for n, content_id in accepted:
        print(f"  line {n}: accepted {content_id}")
    for n, reasons in rejected:
        for reason in reasons:
            print(f"  line {n}: rejected {reason}")
    return EXIT_REFUSED if rejected else 0


# ---- registration ------------------------------------------------------------------------------
def _common(nested: bool = False) -> argparse.ArgumentParser:
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
    return common


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
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
    common = _common()

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, parents=[common], help=help_)
        parser.set_defaults(func=_guarded(func))
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
    nested = _common(nested=True)
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
    imp.add_argument("--approved-by", help="approver of rows without approved_by (default: the key's person)")

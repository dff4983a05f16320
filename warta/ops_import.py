"""``warta import FILE.csv``: bulk submit with a progress bar and a summary (one row, one item)."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from warta.cli_messages import say
from warta.ops_client import EXIT_REFUSED, Answer, Client, CliError, as_json, client_of, dev_key, field_errors

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


def row_keys(rows: list[dict[str, str]]) -> list[str]:
    """Each row's Idempotency-Key, from what the row says and nothing else: not its line (a row
    deleted above it would move it, and a new key would post it again) and not the file's name
    or time. Identical rows are told apart by their turn among themselves."""
    seen: dict[str, int] = {}
    keys = []
    for row in rows:
        said = json.dumps({k: (v or "").strip() for k, v in row.items() if k}, sort_keys=True)
        turn = seen[said] = seen.get(said, -1) + 1
        keys.append("csv-" + hashlib.sha256(f"{said}\0{turn}".encode()).hexdigest()[:40])
    return keys


def already_imported(answer: Answer) -> bool:
    """Ingest's 409 for a key used with another body: this very row was sent by an earlier run
    (its key comes from its own words), whose sheet was saved at another time and so gave the
    row another default ``approved_at``. Its item exists; it is not sent again."""
    errors = answer.body.get("errors") if isinstance(answer.body, dict) else None
    rules = [e.get("rule") for e in errors or () if isinstance(e, dict)]
    return answer.status == 409 and rules == ["idempotency_key"]


def read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            unknown = [col for col in reader.fieldnames or () if col not in CSV_COLUMNS]
            rows = list(reader)
    except OSError as exc:
        raise CliError(say("cannot_read", path=path, error=exc.strerror)) from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CliError(say("not_utf8_csv", path=path, error=exc)) from exc
    if unknown:
        raise CliError(
            say("unknown_columns", path=path, unknown=", ".join(unknown), known=", ".join(CSV_COLUMNS))
        )
    return rows


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    rows = read_rows(path)
    c = client_of(args)
    defaults = {"author": args.author or "", "approved_by": args.approved_by or ""}
    if args.key_role and not defaults["approved_by"]:
        defaults["approved_by"] = dev_key(args.key_role)[0]
    # Rows without approved_at were approved when the sheet was saved; the same file run again
    # gives each row the same body, so ingest answers the same item.
    now = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    progress = Progress(len(rows))
    accepted: list[tuple[int, str]] = []
    earlier: list[int] = []
    rejected: list[tuple[int, list[str]]] = []
    # Line numbers as a spreadsheet shows them (1 = the header).
    for n, (row, key) in enumerate(zip(rows, row_keys(rows), strict=True), start=2):
        answer = submit_with_retries(c, row_to_item(row, defaults, now), key)
        if answer.ok:
            accepted.append((n, answer.body["content_id"]))
        elif already_imported(answer):
            earlier.append(n)
        else:
            rejected.append((n, [line.strip() for line in field_errors(answer.body)]))
        progress.show(len(accepted) + len(earlier) + len(rejected), len(accepted), len(rejected))
    summary = {
        "file": path.name,
        "rows": len(rows),
        "accepted": [{"line": n, "content_id": cid} for n, cid in accepted],
        "already_imported": [{"line": n} for n in earlier],
        "rejected": [{"line": n, "errors": reasons} for n, reasons in rejected],
    }
    if as_json(args, summary):
        return EXIT_REFUSED if rejected else 0
    counts = {
        "accepted": len(accepted),
        "earlier": len(earlier),
        "rejected": len(rejected),
        "rows": len(rows),
    }
    print(say("import_summary", file=path.name, **counts))
    for n, content_id in accepted:
        print(say("import_accepted", line=n, content_id=content_id))
    for n in earlier:
        print(say("import_earlier", line=n))
    for n, reasons in rejected:
        for reason in reasons:
            print(say("import_rejected", line=n, reason=reason))
    return EXIT_REFUSED if rejected else 0

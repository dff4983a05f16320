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


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            unknown = [col for col in reader.fieldnames or () if col not in CSV_COLUMNS]
            rows = list(reader)
    except OSError as exc:
        raise CliError(say("cannot_read", path=path, error=exc.strerror)) from exc
    if unknown:
        raise CliError(
            say("unknown_columns", path=path, unknown=", ".join(unknown), known=", ".join(CSV_COLUMNS))
        )
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
    counts = {"accepted": len(accepted), "rejected": len(rejected), "rows": len(rows)}
    print(say("import_summary", file=path.name, **counts))
    for n, content_id in accepted:
        print(say("import_accepted", line=n, content_id=content_id))
    for n, reasons in rejected:
        for reason in reasons:
            print(say("import_rejected", line=n, reason=reason))
    return EXIT_REFUSED if rejected else 0

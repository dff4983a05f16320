"""What the operator commands share: the HTTP client of ingest and the console, the API key,
the exit codes (0 done, 1 refused, 2 bad usage or input file, 3 unreachable) and plain-text tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from shared.settings import ROOT
from warta.cli_messages import current, heading, say

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
        req.add_header("Accept-Language", current())
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
            raise CliError(say("unreachable", url=url, reason=reason), EXIT_UNREACHABLE) from exc

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
    print(say("refused", what=what, status=answer.status), file=sys.stderr)
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
        raise CliError(say("no_role_key", role=role, path=path, error=repr(exc))) from exc


def client_of(args: argparse.Namespace) -> Client:
    key = args.key or os.environ.get("WARTA_KEY")
    if args.key_role:
        key = dev_key(args.key_role)[1]
    if not key:
        raise CliError(say("no_key"))
    ingest = (args.url or os.environ.get("WARTA_URL") or "http://127.0.0.1:8080").rstrip("/")
    console = (args.console_url or os.environ.get("WARTA_CONSOLE_URL") or "http://127.0.0.1:8070").rstrip("/")
    return Client(ingest, console, key)


def load_document(path: Path) -> Any:
    import yaml

    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(say("cannot_read", path=path, error=exc.strerror)) from exc
    except UnicodeDecodeError as exc:  # saved in a legacy code page: say so, not a traceback
        raise CliError(say("not_valid", path=path, format=f"UTF-8 {kind}", error=exc)) from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CliError(say("not_valid", path=path, format=kind, error=exc)) from exc
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


def table(rows: Iterable[Iterable[object]], header: list[str], out: TextIO | None = None) -> None:
    # sys.stdout is looked up at each call: a default bound at import would ignore a redirection.
    out = out or sys.stdout
    text = [[("" if c is None else str(c)) for c in row] for row in rows]
    header = [heading(h) for h in header]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), file=out)
    for row in text:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)

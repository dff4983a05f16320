"""Logs an operator can search: one JSON object per line, with the item a line is about.

Every line names its service, level, logger and event (the message), and — wherever the code
knows them — the ``content_id``, ``job_id``, ``channel`` and ``attempt`` it concerns. Those come
from two places: fields passed with ``extra=`` on one call, and fields bound for a stretch of work
with ``bound(...)`` (a context variable, so each asyncio task keeps its own: a consumer binds a
record's job while it handles it, and every line logged meanwhile carries it).

Secrets never reach a line: an HTTP credential in a message (a bearer token, an ``access_token``
parameter, a Telegram bot token in a URL, an API key) is replaced by ``[redacted]`` before the
line is written, whichever logger wrote it, a library's included.

``WARTA_LOG_FORMAT=text`` keeps the old one-line text form for a person reading a terminal.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from shared.events import split_job_id

LogFormat = Literal["json", "text"]

# The fields a line may carry about the item it concerns, in the order they are written.
ITEM_FIELDS = ("content_id", "job_id", "channel", "platform", "attempt")

_bound: ContextVar[dict[str, Any] | None] = ContextVar("warta_log_fields", default=None)

_SECRETS = (
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(
        r"(?i)((?:access|refresh|id)_token|client_secret|api_key|apikey|password|hub\.verify_token)=[^&\s\"']+"
    ),
    re.compile(r"(?i)(\"(?:access|refresh)_token\"\s*:\s*\")[^\"]+"),
    re.compile(r"/bot\d{3,}:[A-Za-z0-9_-]{20,}"),
    re.compile(r"(?i)(x-api-key|authorization)(\"?\s*[:=]\s*\"?)[^\s\",}]+"),
)


def _may_hold_secret(text: str) -> bool:
    """Whether ``text`` holds a word that one of the patterns above needs; nearly every line
    holds none and skips them all. Plain substring tests: a case-insensitive alternation costs
    more than the patterns it would spare. Only for ASCII text, as there ``lower`` matches what
    the patterns' IGNORECASE does; beyond it (the Kelvin sign matches ``k``) all patterns run."""
    if not text.isascii():
        return True
    low = text.lower()
    return (
        "bearer" in low
        or "basic" in low
        or "token" in low
        or "secret" in low
        or "key" in low  # api_key, apikey, x-api-key
        or "password" in low
        or "/bot" in low
        or "authorization" in low
    )


def redact(text: str) -> str:
    """``text`` with every credential it shows replaced by ``[redacted]``."""
    return _redact_all(text) if _may_hold_secret(text) else text


def _redact_all(text: str) -> str:
    text = _SECRETS[0].sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _SECRETS[1].sub(lambda m: f"{m.group(1)}=[redacted]", text)
    text = _SECRETS[2].sub(lambda m: f"{m.group(1)}[redacted]", text)
    text = _SECRETS[3].sub("/bot[redacted]", text)
    return _SECRETS[4].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Attach ``fields`` (None values skipped) to every line logged in this task until exit."""
    extra = {k: v for k, v in fields.items() if v is not None}
    token = _bound.set({**(_bound.get() or {}), **extra})
    try:
        yield
    finally:
        _bound.reset(token)


# Two ``Identifier``s (200 characters each) and the separator: a longer key is no job id.
_JOB_ID_MAX = 401


def job_fields(key: bytes | None) -> dict[str, str]:
    """The item fields a record key names, when it is a job id (``split_job_id``)."""
    if not key:
        return {}
    text = key.decode("utf-8", "replace")
    parts = split_job_id(text) if len(text) <= _JOB_ID_MAX else None
    if parts is None:
        return {}
    content_id, channel = parts
    return {"job_id": text, "content_id": content_id, "channel": channel}


class JsonFormatter(logging.Formatter):
    """A ``logging.LogRecord`` as one JSON line (see the module docstring for the fields)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        for name, value in (_bound.get() or {}).items():
            line[name] = value
        for name in (*ITEM_FIELDS, *_ACCESS_FIELDS):
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# What an access-log line adds (``shared.access_log``).
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "bytes", "remote", "user_agent")


def setup_logging(level: str, service: str, fmt: LogFormat = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # aiokafka's coordinator chatter is noise at INFO during every rebalance.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)

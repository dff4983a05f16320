"""The one codec for every event on Warta's topics: orjson bytes <-> frozen pydantic models.

Errors (all subclasses of ``DecodeError``, itself a ``ValueError``)::

    DecodeError               a message that cannot become an event; never crashes a consumer
    ├── MalformedMessage      not JSON, or JSON that is not an object
    ├── UnknownEventType      missing or unknown ``event_type``
    ├── UnsupportedVersion    an ``event_type`` we know at a ``schema_version`` we don't
    └── InvalidEvent          the right type and version, but fields break the contract
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.events import EVENT_TYPES, Event

_SUPPORTED_VERSIONS: dict[str, frozenset[int]] = {t: frozenset({1}) for t in EVENT_TYPES}
_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

E = TypeVar("E", bound=BaseModel)


class DecodeError(ValueError):
    """A message that cannot be decoded into an event."""

    def __init__(self, message: str, raw: bytes | None = None) -> None:
        super().__init__(message)
        self.raw = raw


class MalformedMessage(DecodeError):
    """The bytes are not a JSON object."""


class UnknownEventType(DecodeError):
    """``event_type`` is missing or names no event we know."""


class UnsupportedVersion(DecodeError):
    """The ``schema_version`` of a known event type is not one this build reads."""


class InvalidEvent(DecodeError):
    """The fields break the event's contract; ``errors`` lists them as pydantic reports."""

    def __init__(self, message: str, raw: bytes | None, errors: list[dict[str, Any]]) -> None:
        super().__init__(message, raw)
        self.errors = errors


def encode(event: BaseModel) -> bytes:
    return orjson.dumps(event.model_dump(mode="json", exclude_none=True))


def is_tombstone(raw: bytes | None) -> bool:
    """A null value: on a compacted state topic (the plan, a ledger) it says the key is gone, and
    its readers forget the key instead of decoding it; anywhere else it is malformed."""
    return raw is None


def decode(raw: bytes | None) -> Event:
    """Decode any Warta event; raises a ``DecodeError`` subclass for anything else."""
    if raw is None:
        raise MalformedMessage("empty message (a tombstone or a null value)", raw)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"not JSON: {exc}", raw) from exc
    if not isinstance(data, dict):
        raise MalformedMessage(f"expected a JSON object, got {type(data).__name__}", raw)
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise UnknownEventType(f"unknown event_type {event_type!r}", raw)
    version = data.get("schema_version", 1)
    if version not in _SUPPORTED_VERSIONS[event_type]:
        raise UnsupportedVersion(f"{event_type} schema_version {version!r} is not supported", raw)
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        raise InvalidEvent(f"invalid {event_type}: {where}", raw, [dict(e) for e in errors]) from exc


def decode_as(raw: bytes | None, kind: type[E]) -> E:
    """Decode and insist on one event class (a consumer of one topic expects one kind)."""
    event = decode(raw)
    if not isinstance(event, kind):
        raise UnknownEventType(f"expected {kind.__name__}, got {type(event).__name__}", raw)
    return event

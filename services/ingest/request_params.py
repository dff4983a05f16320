"""What a request carries besides the content: the query's instants and cursor, the
``Idempotency-Key`` header, and the control bodies (withdraw, pause/resume). Pure: each parser
returns the value or raises ``ValidationFailed`` naming the parameter, for a 4xx.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.ingest.request import (
    WithdrawRequest,
)
from shared.channels import ChannelDirectory
from shared.control_request import PauseRequest
from shared.events import (
    instant_range_problem,
)
from shared.field_errors import parse_model
from shared.http_errors import ValidationFailed, field_error

# An approval stamped a little ahead of our clock is clock skew, not a forgery.
APPROVAL_CLOCK_SKEW = timedelta(minutes=5)

_MEDIA_TYPE_PREFIXES = ("image/", "video/")


# --- query parameters ---------------------------------------------------------------------------


def parse_query_instant(name: str, value: str) -> datetime:
    """A date-time query parameter (``from``, ``to``): ISO 8601 with an offset, in the range every
    instant keeps to; a ``+`` sent unescaped arrives as a space and is read as one."""
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise ValidationFailed([field_error(None, name, "type.instant", field=name)]) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationFailed([field_error(None, name, "offset_required.short", field=name)])
    # Year 1 with an offset parses, and converting it to UTC would overflow.
    if (problem := instant_range_problem(parsed)) is not None:
        raise ValidationFailed([field_error(None, name, "out_of_range", field=name, detail=problem)])
    return parsed.astimezone(UTC)


_CURSOR_DIGITS = 18  # a position in a list held in memory never needs more


def parse_cursor(value: str) -> int:
    """A page cursor: the decimal a previous page returned. ``str.isdigit`` alone would pass
    ``²``, which ``int`` then refuses, and ``int`` refuses more than 4,300 digits too."""
    if not (value.isascii() and value.isdigit() and len(value) <= _CURSOR_DIGITS):
        raise ValidationFailed([field_error(None, "cursor", "type.cursor")])
    return int(value)


MAX_IDEMPOTENCY_KEY = 200  # it travels on the event (ContentApproved.idempotency_key), capped there


def parse_idempotency_key(value: str | None) -> str | None:
    """The ``Idempotency-Key`` header, or None. aiohttp passes header bytes that are not UTF-8 on
    as lone surrogates, which can be neither hashed into a content id nor written to a topic."""
    if value is None:
        return None
    if len(value) > MAX_IDEMPOTENCY_KEY:
        where, count = "Idempotency-Key", len(value)
        raise ValidationFailed(
            [field_error(None, where, "max_length.idempotency_key", count=count, limit=MAX_IDEMPOTENCY_KEY)]
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed([field_error(None, "Idempotency-Key", "type.idempotency_key")]) from None
    return value


# --- control bodies ----------------------------------------------------------------------------


def validate_withdraw(body: object) -> WithdrawRequest:
    return parse_model(WithdrawRequest, body)


def validate_pause(body: object, channels: ChannelDirectory) -> PauseRequest:
    """``POST /v1/pause`` and ``/v1/resume``: the schema, plus every named channel must exist."""
    req = parse_model(PauseRequest, body)
    unknown = [
        field_error(ch, f"channels[{i}]", "unknown_channel.short", channel=ch)
        for i, ch in enumerate(req.channels or ())
        if channels.get(ch) is None
    ]
    if unknown:
        raise ValidationFailed(unknown)
    return req

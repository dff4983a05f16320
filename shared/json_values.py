"""Reading values out of decoded JSON that someone else wrote (a platform's answer, a webhook).

Every reader is total: a value of the wrong type gives the empty value or None, never an
exception, so a platform that changes a field's type costs that field and not the whole answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def as_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits: ``str.isdigit`` also takes "²" and "①",
    which ``int()`` refuses, and a header or id of those must read as no number, not raise."""
    return text.isascii() and text.isdigit()


def whole(text: str, max_digits: int = 18) -> int | None:
    """A query's whole number of at most ``max_digits`` ASCII digits, else None: ``int()`` itself
    refuses over 4,300 digits with a ValueError, which a handler would answer with a 500."""
    return int(text) if digits(text) and len(text) <= max_digits else None


def as_int(value: object) -> int | None:
    """A JSON number, or a string of digits (Graph sends some counts as strings), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and digits(value.strip().removeprefix("-")):
        return int(value.strip())
    return None


def as_id(value: object) -> str:
    """An id as platforms send it (a string, sometimes a number), else the empty string."""
    if isinstance(value, bool):
        return ""
    return str(value) if isinstance(value, str | int) else ""


def epoch_time(value: object, *, per_second: int = 1) -> datetime | None:
    """A Unix time as platforms send it (a number, or a string of digits; ``per_second`` units a
    second) as a UTC instant; None when it is neither or no calendar holds it (``datetime`` itself
    raises ``OverflowError`` or ``OSError`` there, which no reader of a platform's answer expects)."""
    number = value if isinstance(value, float) else as_int(value)
    if number is None:
        return None
    try:
        return datetime.fromtimestamp(number / per_second, UTC)
    except (OverflowError, OSError, ValueError):
        return None

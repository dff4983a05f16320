"""What the inbox's listings read from a query string, and how they refuse it: the channels a
caller asks for (403 for one it may not read), a number within bounds and a state by name (422,
naming the field). One place, so that the inbox's and the complaints' listings refuse alike.

A parameter sent empty (``?channel=&state=``, as a browser's form sends every field it has) is
not given: handlers read ``given(request.query)``, never the raw query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from services.inbox.insights import MAX_TERMS_HOURS
from shared.channels import ChannelDirectory
from shared.http_auth import ALL_CHANNELS, Principal
from shared.http_errors import Forbidden, ValidationFailed
from shared.messages import said

E = TypeVar("E", bound=StrEnum)
# The bounds of the listings' numbers, read by the routes and written into their document.
LIST_LIMIT = (1, 500)
TERMS_LIMIT = (1, 100)
TERMS_HOURS = (0.25, MAX_TERMS_HOURS)
# int() and float() also take "٣", "+5", " 5" and "5_0", which are no number of the document's.
MAX_DIGITS = 40
_WHOLE = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # RFC 8259 §6


def given(query: Mapping[str, str]) -> dict[str, str]:
    """The query's parameters that carry a value, each its first: an empty one means "any"."""
    found: dict[str, str] = {}
    for name, value in query.items():
        if value:
            found.setdefault(name, value)
    return found


def visible_channels(principal: Principal, channels: ChannelDirectory) -> list[str]:
    if ALL_CHANNELS in principal.channels:
        return list(channels.ids)
    return [c for c in channels.ids if c in principal.channels]


def channels_asked(query: Mapping[str, str], principal: Principal, channels: ChannelDirectory) -> list[str]:
    """The channels the caller may see, or the one ``channel`` names (403 if it may not)."""
    visible = visible_channels(principal, channels)
    if "channel" not in query:
        return visible
    asked = query["channel"]
    if asked not in visible:
        raise Forbidden(said("channel_forbidden.read", person=principal.person, channel=asked))
    return [asked]


def bounded(
    query: Mapping[str, str], name: str, default: str, low: float, high: float, *, whole: bool
) -> float:
    """A number from the query between ``low`` and ``high`` (422 otherwise, naming the bounds),
    written as the API's document says: ASCII digits, as JSON writes numbers."""
    raw = query.get(name, default)
    if not (_WHOLE if whole else _NUMBER).fullmatch(raw):
        kind = said("type.whole" if whole else "type.number", field=name)
        raise ValidationFailed(kind, field=name)
    if len(raw) > MAX_DIGITS:  # far out of any bound; int() refuses 4,300 digits and more anyway
        raise ValidationFailed(said("range.bounds", field=name, low=low, high=high), field=name)
    value = int(raw) if whole else float(raw)
    if not low <= value <= high:  # NaN compares false, so it is refused here too
        raise ValidationFailed(said("range.bounds", field=name, low=low, high=high), field=name)
    return value


def state_asked(query: Mapping[str, str], kind: type[E]) -> E | None:
    """The state of ``kind`` the query's ``state`` names, None when absent (422 naming them all)."""
    if "state" not in query:
        return None
    try:
        return kind(query["state"])
    except ValueError:
        values = ", ".join(s.value for s in kind)
        raise ValidationFailed(said("enum.state", values=values), field="state") from None

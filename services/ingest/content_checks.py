"""Two checks on a content's fields that hold on every platform: is a text blank, is a link a URL.

Pure and small; ``validation`` turns a failed check into a field error where the value was
written. Both refuse what a platform would refuse after ingest had accepted the item, when the
approved item could only be lost.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from yarl import URL

# What a reader cannot see: White_Space (``\s``), the C0 and C1 controls, and every
# Default_Ignorable_Code_Point of Unicode's DerivedCoreProperties.txt (zero-width space and
# joiners, word joiner, BOM, bidi marks, variation selectors, Hangul fillers, tags). Mastodon
# strips a status and then requires it present ("Text can't be blank", app/models/status.rb);
# Telegram answers "message text is empty"; a post of these alone says nothing anywhere.
_INVISIBLE = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    r"\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    r"\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]*"
)


def is_blank(text: str | None) -> bool:
    """No text, or a text of whitespace and invisible characters only."""
    return text is None or _INVISIBLE.fullmatch(text) is not None


_SCHEMES = ("http", "https")


def is_web_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL with a host, as the platforms' link fields
    and link previews need it: RFC 9110 §4.2.1 forbids an http(s) URI with an empty host, and
    RFC 3986 has no spaces or controls in a URI. Both parsers the stack uses must read it
    (urllib's port check, yarl's host check, which aiohttp would apply when fetching it)."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port that is no number or out of range)
        url = URL(value)
    except ValueError:  # UnicodeError (an IDNA name that cannot encode) is one too
        return False
    return parts.scheme.lower() in _SCHEMES and bool(parts.hostname) and bool(url.raw_host)

"""Two checks on a content's fields that hold on every platform: is a text blank (whitespace and
invisible characters only: ``shared.blank_text``, which the inbox reads replies and reasons by
too), is a link a URL.

Pure and small; ``validation`` turns a failed check into a field error where the value was
written. Both refuse what a platform would refuse after ingest had accepted the item, when the
approved item could only be lost.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from yarl import URL

from shared.blank_text import is_blank as is_blank  # re-exported: validation reads both checks here

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

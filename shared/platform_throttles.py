"""Which platform answers mean "slow down" rather than "no": one rule for every service that calls.

A throttled call is tried again later; a refused one is not. Reading a throttle as a refusal
parks an account or stops a post's polling for good over a limit that lifts within the hour, so
the publisher (posting) and the inbox (reading comments) ask the same questions here.

- **Graph** (Facebook, Instagram, Threads, WhatsApp) throttles with an error code, usually under
  HTTP 400, not a guaranteed 429 (developers.facebook.com/docs/graph-api/overview/rate-limiting):
  4 app, 17 user, 32 Page, 341 app limit, 613 custom; the business-use-case limits, which Page and
  Instagram tokens are under, have their own codes (80001 Pages, 80002 Instagram, 80004 ads
  management, 80005 lead ads, 80006 Messenger, 80007 WhatsApp account, 80008 WhatsApp business
  management, 80009 and 80014 catalogs).
- **YouTube** says so in ``error.errors[0].reason`` of a 403: the project's day of units
  (``quotaExceeded``, ``dailyLimitExceeded``, until midnight Pacific) or a short burst
  (``rateLimitExceeded``, ``userRateLimitExceeded``).

Bodies are read as JSON, never matched as bytes: ``"code": 32`` and ``"code":32`` are one answer.
How long to wait is ``retry_after``: RFC 9110's ``Retry-After``, held within ``MAX_WAIT`` so that
a header of "1e400" or a date in the year 9999 is a long wait, not an overflow downstream.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shared.json_values import as_int, as_list, as_object, digits

GRAPH_THROTTLE_CODES = frozenset(
    {4, 17, 32, 341, 613, 80001, 80002, 80004, 80005, 80006, 80007, 80008, 80009, 80014}
)
YOUTUBE_QUOTA_DAY = frozenset({"quotaExceeded", "dailyLimitExceeded"})
YOUTUBE_SHORT_THROTTLE = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# No platform documents a wait beyond a day (YouTube's quota resets at midnight Pacific); a week
# leaves room and keeps ``now + wait`` a datetime.
MAX_WAIT = 7 * 24 * 3600.0


def graph_code(body: Any) -> int | None:
    """A Graph error body's ``error.code`` (None when absent or not a whole number)."""
    return as_int(as_object(as_object(body).get("error")).get("code"))


def youtube_reason(body: Any) -> str | None:
    """A Google error body's first ``error.errors[].reason``."""
    errors = as_list(as_object(as_object(body).get("error")).get("errors"))
    reason = as_object(errors[0]).get("reason") if errors else None
    return reason if isinstance(reason, str) else None


def throttled(status: int, body: Any) -> bool:
    """Whether an answer of ``status`` with the decoded ``body`` asks the caller to wait and try
    again: 429, a 5xx, a Graph throttle code or a YouTube quota or rate reason."""
    if status == 429 or status >= 500:
        return True
    reason = youtube_reason(body)
    if reason in YOUTUBE_QUOTA_DAY or reason in YOUTUBE_SHORT_THROTTLE:
        return True
    return graph_code(body) in GRAPH_THROTTLE_CODES


def held(seconds: float | None) -> float | None:
    """A wait a platform gave, within [0, ``MAX_WAIT``] (infinity: the longest); None for none or
    NaN. One bound for every wait, so that ``now + wait`` is always a datetime."""
    if seconds is None or math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_WAIT)


def retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """RFC 9110 ``Retry-After`` in seconds from ``now`` (delay-seconds or an HTTP-date), within
    [0, ``MAX_WAIT``]; None when absent or not either form."""
    raw = (headers.get("Retry-After") or "").strip()
    if not raw:
        return None
    if digits(raw):
        return held(float(raw))
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return held((when - now).total_seconds())

"""When a platform's daily quota comes back: pure functions of ``now``.

- LinkedIn's per-application and per-member daily quotas reset at 00:00 UTC and the 429 says
  nothing about it: no header, no body field (platforms.md §9).
- YouTube's quota "resets at midnight Pacific" (§7), America/Los_Angeles, so the UTC instant
  moves with daylight saving time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")


def next_midnight(now: datetime, zone: ZoneInfo | None = None) -> datetime:
    """The first midnight in ``zone`` (UTC if None) strictly after ``now``, as a UTC instant."""
    tz = zone or UTC
    local = now.astimezone(tz)
    tomorrow = local.date() + timedelta(days=1)
    # Build the wall-clock midnight, then normalise: a zone whose midnight is skipped by DST
    # (none of ours, but cheap to be right) lands on the first instant after it.
    midnight = datetime.combine(tomorrow, time(0), tzinfo=tz)
    return midnight.astimezone(UTC)


def seconds_until_utc_midnight(now: datetime) -> float:
    return (next_midnight(now) - now).total_seconds()


def seconds_until_pacific_midnight(now: datetime) -> float:
    return (next_midnight(now, PACIFIC) - now).total_seconds()

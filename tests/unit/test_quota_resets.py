"""Daily quota resets: LinkedIn at 00:00 UTC, YouTube at midnight Pacific (DST-aware)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.adapters.resets import (
    PACIFIC,
    next_midnight,
    seconds_until_pacific_midnight,
    seconds_until_utc_midnight,
)


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (datetime(2025, 3, 1, 23, 0, tzinfo=UTC), 3600.0),
        (datetime(2025, 3, 1, 0, 0, tzinfo=UTC), 86400.0),  # exactly midnight: the next one
        (datetime(2025, 12, 31, 23, 59, 30, tzinfo=UTC), 30.0),
        (datetime(2025, 3, 1, 7, 0, tzinfo=UTC).astimezone(PACIFIC), 17 * 3600.0),
    ],
)
def test_seconds_until_utc_midnight(now: datetime, seconds: float) -> None:
    assert seconds_until_utc_midnight(now) == seconds


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        # Winter: PST is UTC-8, so Pacific midnight is 08:00 UTC.
        (datetime(2025, 1, 15, 7, 0, tzinfo=UTC), datetime(2025, 1, 15, 8, 0, tzinfo=UTC)),
        (datetime(2025, 1, 15, 9, 0, tzinfo=UTC), datetime(2025, 1, 16, 8, 0, tzinfo=UTC)),
        # Summer: PDT is UTC-7, so 07:00 UTC.
        (datetime(2025, 7, 15, 6, 30, tzinfo=UTC), datetime(2025, 7, 15, 7, 0, tzinfo=UTC)),
        # The day DST starts (9 March 2025) is 23 hours long.
        (datetime(2025, 3, 9, 8, 0, tzinfo=UTC), datetime(2025, 3, 10, 7, 0, tzinfo=UTC)),
        # From Jakarta time (WIB, UTC+7): 10:00 WIB on 15 Jan is 03:00 UTC.
        (datetime.fromisoformat("2025-01-15T10:00:00+07:00"), datetime(2025, 1, 15, 8, 0, tzinfo=UTC)),
    ],
)
def test_next_pacific_midnight(now: datetime, reset: datetime) -> None:
    assert next_midnight(now, PACIFIC) == reset
    assert seconds_until_pacific_midnight(now) == (reset - now).total_seconds()


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)))
def test_a_reset_is_a_future_local_midnight_within_a_day(now: datetime) -> None:
    for zone in (None, PACIFIC):
        reset = next_midnight(now, zone)
        assert now < reset <= now + timedelta(hours=25)
        local = reset.astimezone(zone or UTC)
        assert (local.hour, local.minute, local.second) == (0, 0, 0)

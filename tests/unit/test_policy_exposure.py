"""A post's exposure covers its whole first day, at any instant a platform reports it published."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.policy.reach import exposure


@settings(max_examples=300, deadline=None)
@given(
    at_us=st.integers(1_700_000_000_000_000, 1_900_000_000_000_000),
    h=st.sampled_from([5.0, 24.0, 60.0, 102.0, 300.0, 720.0, 3000.0]),
    zone=st.sampled_from(["Asia/Makassar", "Asia/Jayapura", "Europe/Berlin", "America/New_York"]),
)
def test_the_shares_add_up_to_the_first_day(at_us: int, h: float, zone: str) -> None:
    shares = exposure(at_us, h, ZoneInfo(zone))
    # only tails under 1e-4 are dropped, at most one per hour of the day
    assert sum(s for _, s in shares) == pytest.approx(1 - math.exp2(-1440 / h), abs=25e-4)
    assert len({hour for hour, _ in shares}) == len(shares)


def test_an_instant_off_the_whole_second() -> None:
    """A publisher reports the instant a platform took the post, microseconds and all. Rounding
    to the microsecond once left a sliver of an hour that was taken for the end of the post's
    reach: half of such instants were seen to reach their first hour only."""
    at = 1_800_000_000_000_000 - 1_800_000_000_000_000 % 3_600_000_000 + 5 * 60_000_000 + 333
    shares = exposure(at, 720.0, ZoneInfo("Asia/Makassar"))
    assert len(shares) == 25  # 55 minutes, 23 whole hours, 5 minutes

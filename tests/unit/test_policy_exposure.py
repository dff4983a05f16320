"""A post's exposure covers its whole first day, at any instant a platform reports it published."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.scheduler.policy import EngagementModel
from services.scheduler.policy.reach import exposure


@settings(max_examples=300, deadline=None)
# New York's clocks fall back at 06:00 UTC on 2 November 2025: this post's first day ends 24 s
# after, in the 01:00 hour it already reached once
@example(at_us=1_761_976_824_924_786, h=720.0, zone="America/New_York")
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


@settings(max_examples=25, deadline=None)
@given(
    posts=st.lists(
        st.tuples(st.integers(0, 20 * 24 * 60 - 1), st.integers(0, 400), st.integers(1, 999_999)),
        min_size=3,
        max_size=25,
        unique_by=lambda p: p[0],
    ),
    platform=st.sampled_from(["x", "instagram", "facebook", "tiktok", "website"]),
)
def test_a_second_of_publish_latency_teaches_the_same(
    posts: list[tuple[int, int, int]], platform: str
) -> None:
    """The same posts observed at their whole minutes and a fraction of a second later (as a
    publisher reports them) leave the model with the same hours, within rounding."""
    start = datetime(2027, 1, 4, tzinfo=UTC)
    on_minute = EngagementModel(platform, "Asia/Makassar", exploration=0.0)
    reported = EngagementModel(platform, "Asia/Makassar", exploration=0.0)
    for minute, reactions, latency_us in posts:
        at = start + timedelta(minutes=minute)
        for horizon, share in ((60, 0.5), (360, 0.9), (1440, 1.0)):
            count = round(reactions * share)
            on_minute.observe(at, horizon, count, post_id=str(minute))
            reported.observe(at + timedelta(microseconds=latency_us), horizon, count, post_id=str(minute))
    for a, b in zip(on_minute.hourly(), reported.hourly(), strict=True):
        assert b == pytest.approx(a, rel=0.02, abs=1e-6)

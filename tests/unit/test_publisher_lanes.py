"""The offset bookkeeping behind the publisher's concurrent lanes, and the limiter's settling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.publisher.lanes import OffsetTracker, lane_key
from services.publisher.ratelimit import AccountLimiter, Limit

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_a_partition_commits_only_past_a_settled_prefix() -> None:
    tracker: OffsetTracker[int] = OffsetTracker()
    a, b, c = (tracker.track(0, offset) for offset in (10, 11, 12))
    other = tracker.track(1, 5)
    c.done = True  # a later record of another lane finished first
    other.done = True
    assert tracker.committable() == {1: 6}
    a.done = True
    assert tracker.committable() == {0: 11}
    assert tracker.in_flight() == 1
    b.done = True
    assert tracker.committable() == {0: 13}
    assert tracker.committable() == {}


def test_a_partition_fetched_again_forgets_what_is_redelivered() -> None:
    tracker: OffsetTracker[int] = OffsetTracker()
    tracker.track(0, 10)
    tracker.track(0, 11)
    again = tracker.track(0, 10)  # given back by a rebalance, fetched from the committed offset
    again.done = True
    assert tracker.committable() == {0: 11}


def test_dropped_partitions_are_not_counted_or_committed() -> None:
    tracker: OffsetTracker[int] = OffsetTracker()
    tracker.track(0, 1)
    tracker.track(1, 1).done = True
    assert tracker.in_flight({0}) == 1
    tracker.drop({0, 1})
    assert tracker.in_flight() == 0
    assert tracker.committable() == {}


def test_a_call_counts_from_its_answer_so_the_window_never_ends_early() -> None:
    limiter = AccountLimiter((Limit(2, timedelta(seconds=60)),))
    limiter.take(T0)
    limiter.settle(T0, T0 + timedelta(seconds=5))  # the platform may have counted it at +5 s
    limiter.take(T0 + timedelta(seconds=1))
    assert limiter.wait(T0 + timedelta(seconds=2)) == timedelta(seconds=59)
    # The first call's slot frees 60 s after its answer, not after it was sent.
    limiter.settle(T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))
    assert limiter.wait(T0 + timedelta(seconds=61)) == timedelta(seconds=1)
    assert limiter.wait(T0 + timedelta(seconds=62)) == timedelta(0)


@pytest.mark.parametrize(
    ("key", "lane"),
    [
        (b"c1:fb-a", b"fb-a"),
        (b"c1:x:fb-a", b"fb-a"),  # the channel is after the last colon
        (b"odd-key", b"odd-key"),
        (None, b""),
    ],
)
def test_a_record_goes_to_its_channels_lane(key: bytes | None, lane: bytes) -> None:
    assert lane_key(key) == lane

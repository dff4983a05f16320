"""The spike detector: quiet under a steady stream, quick on a burst, once per spike."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.inbox.spikes import SpikeRule, SpikeStarted, SpikeWatch, poisson_tail, threshold

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
# A short history keeps the simulations fast; the rule is the same at 24 hours.
RULE = SpikeRule(history=timedelta(hours=4))


def poisson(rng: random.Random, rate: float) -> int:
    """Knuth's sampler: exact for the small rates a minute of comments has."""
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def stream(
    watch: SpikeWatch,
    rng: random.Random,
    rates: dict[str, float],
    start: datetime,
    minutes: int,
) -> list[SpikeStarted]:
    """Comments on channel "ch" at ``rates`` (per post per window), minute by minute."""
    started = []
    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        for post, rate in rates.items():
            for _ in range(poisson(rng, rate / RULE.window_minutes)):
                at = now + timedelta(seconds=rng.randrange(60))
                if (spike := watch.observe("ch", post, at, at)) is not None:
                    started.append(spike)
    return started


def test_the_poisson_tail_matches_known_values() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 3.0) == pytest.approx(1 - math.exp(-3))
    assert poisson_tail(10, 2.0) == pytest.approx(4.6498e-5, rel=1e-3)
    assert poisson_tail(5, 0.0) == 0.0
    assert poisson_tail(400, 300.0) < 1e-6  # no overflow at large counts


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.0, 10),  # no history: the floor rate, and never fewer than min_count
        (1.0, 10),
        (2.0, 11),  # P(X ≥ 11 | 2) = 8.3e-6, P(X ≥ 10 | 2) = 4.6e-5
        (5.0, 18),  # P(X ≥ 18 | 5) = 5.4e-6, P(X ≥ 17 | 5) = 2.0e-5
        (50.0, 84),  # P(X ≥ 84 | 50) = 7.2e-6, P(X ≥ 83 | 50) = 1.2e-5
    ],
)
def test_the_threshold_is_unlikely_and_never_small(rate: float, expected: int) -> None:
    assert threshold(rate, RULE) == expected


def test_two_comments_on_a_quiet_channel_are_not_a_spike() -> None:
    watch = SpikeWatch(RULE)
    assert watch.observe("ch", "p1", T0, T0) is None
    assert watch.observe("ch", "p1", T0, T0 + timedelta(seconds=5)) is None


def test_a_burst_on_a_new_channel_needs_the_minimum_count() -> None:
    watch = SpikeWatch(RULE)
    at = T0 + timedelta(hours=1)
    found = [watch.observe("ch", "p1", at, at) for _ in range(RULE.min_count)]
    assert found[:-1] == [None] * (RULE.min_count - 1)
    assert isinstance(found[-1], SpikeStarted)
    assert found[-1].count == RULE.min_count


# derandomize: a statistical property checked on a fixed sample, so a run never fails by luck;
# no example database either: a counterexample saved by another run (a steady stream does, rarely,
# cross the threshold: alpha is per look) would be replayed here first.
@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(0.2, 6.0),
    posts=st.integers(1, 4),
)
def test_a_steady_stream_at_the_usual_rate_raises_no_spike(seed: int, rate: float, posts: int) -> None:
    watch, rng = SpikeWatch(RULE), random.Random(seed)
    rates = {f"p{i}": rate for i in range(posts)}
    stream(watch, rng, rates, T0, 4 * 60)  # the history
    # Six more hours, every comment evaluated. At alpha = 1e-5 per look a false spike is rare, not
    # impossible (seed 35000 at 2 a window on two posts makes one: the estimated baseline is 1.5):
    # 200 steady runs of 12 post-hours made none. Two in one run would be a broken threshold.
    assert len(stream(watch, rng, rates, T0 + timedelta(hours=4), 6 * 60)) <= 1


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**32 - 1), rate=st.floats(3.0, 6.0), posts=st.integers(1, 3))
def test_a_tenfold_burst_is_caught_within_one_window_and_announced_once(
    seed: int, rate: float, posts: int
) -> None:
    watch, rng = SpikeWatch(RULE), random.Random(seed)
    rates = {f"p{i}": rate for i in range(posts)}
    stream(watch, rng, rates, T0, 4 * 60)
    burst_at = T0 + timedelta(hours=4)
    first = stream(watch, rng, {**rates, "p0": 10 * rate}, burst_at, RULE.window_minutes)
    assert [s.post_id for s in first] == ["p0"]
    assert first[0].started_at <= burst_at + RULE.window
    # The burst goes on for an hour: the spike is the same one, not a new one per comment.
    assert stream(watch, rng, {**rates, "p0": 10 * rate}, burst_at + RULE.window, 45) == []
    assert watch.spiking() == {"ch": 1}


def test_a_spike_ends_when_the_post_calms_and_a_new_burst_starts_a_new_one() -> None:
    watch = SpikeWatch(RULE)
    at = T0 + timedelta(hours=5)
    spikes = [watch.observe("ch", "p1", at, at) for _ in range(12)]
    first = [s for s in spikes if s is not None]
    assert len(first) == 1
    assert watch.settle(at + timedelta(minutes=5)) == {"ch": 1}
    assert watch.settle(at + timedelta(minutes=20)) == {"ch": 0}  # the window is empty again
    later = at + timedelta(hours=1)
    again = [s for _ in range(30) if (s := watch.observe("ch", "p1", later, later)) is not None]
    assert len(again) == 1
    assert again[0].spike_id != first[0].spike_id


def test_a_late_poll_counts_comments_where_they_were_written() -> None:
    watch = SpikeWatch(RULE)
    now = T0 + timedelta(hours=5)
    written = now - timedelta(hours=2)  # a burst two hours ago, collected only now
    assert all(watch.observe("ch", "p1", written, now) is None for _ in range(40))
    assert watch.window_count("ch", "p1", now) == 0


def test_a_restart_does_not_announce_a_spike_in_course_again() -> None:
    now = T0 + timedelta(hours=5)
    held = [("ch", "p1", now - timedelta(minutes=3))] * 15
    watch = SpikeWatch(RULE)
    watch.warm(held, now)
    assert watch.spiking() == {"ch": 1}
    assert watch.observe("ch", "p1", now, now) is None


def test_old_counts_are_forgotten() -> None:
    watch = SpikeWatch(RULE)
    watch.observe("ch", "p1", T0, T0)
    later = T0 + RULE.history + RULE.window + timedelta(minutes=2)
    watch.settle(later)
    assert watch.window_count("ch", "p1", T0) == 0

"""The smooth daily shape (policy/smooth.py): it recovers a known smooth audience from simulated
posts, stays on its prior without evidence, and explores by its posterior's width."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.slots import poisson
from services.scheduler.policy import EngagementModel, InvalidRequest
from services.scheduler.policy.priors import prior_shape

MONDAY = datetime(2027, 1, 4, tzinfo=UTC)  # 07:00 WIB
HORIZONS = (60, 360, 1440)


def true_curve(coefficients: list[float], days: list[float]) -> list[float]:
    """The prior's shape times a smooth daily series and a day effect, written out here from the
    formula (not with smooth.py's code), 168 hours from Monday 00:00."""
    out = []
    for b in range(168):
        hour = b % 24
        series = sum(
            coefficients[2 * k] * math.cos(2 * math.pi * (k + 1) * hour / 24)
            + coefficients[2 * k + 1] * math.sin(2 * math.pi * (k + 1) * hour / 24)
            for k in range(len(coefficients) // 2)
        )
        out.append(prior_shape()[b] * math.exp(series + days[b // 24]))
    return out


def simulate(
    truth: list[float], seed: int, posts: int, reach: float, shape: str = "smooth"
) -> EngagementModel:
    """Posts at random instants over six weeks, each observed at +1 h, +6 h and +24 h with Poisson
    counts (the simulator's sampler) whose mean is the true audience's reach (the reach is the model's own exact formula,
    applied to the truth)."""
    rng = random.Random(seed)
    world = EngagementModel("instagram", "Asia/Jakarta", prior_activity=truth, exploration=0.0)
    model = EngagementModel("instagram", "Asia/Jakarta", shape=shape, exploration=0.0)
    half_life = world.half_life
    for n in range(posts):
        at = MONDAY + timedelta(minutes=5 * rng.randrange(42 * 288))
        total = poisson(rng, reach * world.expected(at))
        for horizon in HORIZONS:
            share = 1 - math.exp2(-horizon / half_life)
            model.observe(at, horizon, round(total * share), post_id=f"p{n}")
    return model


def log_shape_error(learned: list[float], truth: list[float]) -> float:
    """Largest gap between the two curves' logs after removing the level (which is the scale)."""
    gaps = [math.log(a / b) for a, b in zip(learned, truth, strict=True)]
    level = sum(gaps) / len(gaps)
    return max(abs(g - level) for g in gaps)


# derandomized: the same twelve audiences every run, so a bound near the fit's error cannot flake
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(
    st.lists(st.floats(-0.8, 0.8), min_size=6, max_size=6),
    st.lists(st.floats(-0.3, 0.3), min_size=7, max_size=7),
    st.integers(0, 2**32 - 1),
)
def test_the_fit_recovers_a_smooth_audience(coefficients: list[float], days: list[float], seed: int) -> None:
    truth = true_curve(coefficients, days)
    model = simulate(truth, seed, posts=160, reach=2000.0)
    learned = model.hourly()
    # 150 uniform draws: median 0.08, largest 0.18; hypothesis's corner cases (coefficients at the
    # bounds) reached 0.21 once, which is the same fit on a harder truth, not a fault
    assert log_shape_error(learned, truth) < 0.25
    # the best hour of the day is the truth's, or one next to it where the two are within 5 %
    daily = [sum(learned[h::24]) for h in range(24)]
    true_daily = [sum(truth[h::24]) for h in range(24)]
    best = max(range(24), key=daily.__getitem__)
    assert true_daily[best] >= 0.95 * max(true_daily)


def test_without_evidence_the_mean_is_the_prior() -> None:
    model = EngagementModel("facebook", "Asia/Makassar", shape="smooth")
    hourly = model.hourly()
    prior = prior_shape()
    assert [x / hourly[19] for x in hourly] == pytest.approx([x / prior[19] for x in prior])


def test_a_prior_like_audience_stays_where_it_is() -> None:
    truth = true_curve([0.0] * 6, [0.0] * 7)
    for seed in range(3):
        smooth = simulate(truth, seed, posts=40, reach=300.0)
        hourly = simulate(truth, seed, posts=40, reach=300.0, shape="hourly")
        assert log_shape_error(smooth.hourly(), truth) < log_shape_error(hourly.hourly(), truth)


def test_a_contradicting_audience_overturns_the_prior_within_weeks() -> None:
    # a dawn audience: the peak at 04-06 h where the prior is near its lowest
    dawn = [-0.2, 1.2, 0.0, 0.4, 0.3, 0.0]
    truth = true_curve(dawn, [0.0] * 7)
    model = simulate(truth, 11, posts=40, reach=300.0)
    daily = [sum(model.hourly()[h::24]) for h in range(24)]
    assert max(range(24), key=daily.__getitem__) in range(3, 8)


def test_draws_spread_where_the_evidence_is_thin() -> None:
    truth = true_curve([0.0] * 6, [0.0] * 7)
    young = simulate(truth, 3, posts=5, reach=300.0)
    old = simulate(truth, 3, posts=150, reach=300.0)
    for model in (young, old):
        model.exploration = 1.0

    def peaks(model: EngagementModel) -> set[int]:
        """The best hour of the day in 30 Thompson draws."""
        rng = random.Random(5)
        return {max(range(24), key=lambda h: sum(model.hourly(rng)[h::24])) for _ in range(30)}

    assert len(peaks(young)) > len(peaks(old))


def test_the_shape_is_kept_in_the_state_and_checked() -> None:
    model = EngagementModel("x", "Asia/Jakarta", shape="smooth")
    model.observe(MONDAY, 1440, 120)
    again = EngagementModel.from_dict(model.to_dict())
    assert again.shape == "smooth"
    assert again.hourly() == pytest.approx(model.hourly())
    with pytest.raises(InvalidRequest):
        EngagementModel("x", "Asia/Jakarta", shape="cubic")


def test_a_saved_state_at_the_default_exploration_follows_its_shapes_default() -> None:
    """A state saved before shapes existed holds the then default, 14 days: loaded as the smooth
    shape it takes the smooth shape's own; a number chosen on purpose is kept."""
    old = EngagementModel("x", "Asia/Jakarta", shape="hourly").to_dict()
    old.pop("shape")
    old["explore_days"] = 14.0
    assert EngagementModel.from_dict(old).explore_days == EngagementModel("x", "Asia/Jakarta").explore_days
    for shape in ("hourly", "smooth"):
        default = EngagementModel("x", "Asia/Jakarta", shape=shape)
        assert EngagementModel.from_dict(default.to_dict()).explore_days == default.explore_days
        chosen = EngagementModel("x", "Asia/Jakarta", shape=shape, explore_days=3.0)
        assert EngagementModel.from_dict(chosen.to_dict()).explore_days == 3.0


def best_hour(curve: list[float]) -> int:
    return max(range(24), key=lambda hour: sum(curve[hour::24]))


def test_an_audience_that_moves_is_followed_within_a_week() -> None:
    """A channel posts once a day at its best hour and once at a random hour; after three weeks
    its morning audience moves to the evening. A week later the model's best hour is the new
    audience's: the posts at the old best hour earned far less than the fit expected."""
    morning = true_curve([-0.2, 1.2, 0.0, 0.4, 0.3, 0.0], [0.0] * 7)
    evening = true_curve([1.04, -0.6, 0.0, 0.0, 0.0, 0.0], [0.0] * 7)
    rng = random.Random(2)
    model = EngagementModel("instagram", "Asia/Jakarta", shape="smooth", exploration=0.0)
    worlds = [
        EngagementModel("instagram", "Asia/Jakarta", prior_activity=t, exploration=0.0)
        for t in (morning, evening)
    ]
    for day in range(28):
        world = worlds[day >= 21]
        for hour in sorted({best_hour(model.hourly()), rng.randrange(24)}):
            at = MONDAY + timedelta(days=day, hours=hour - 7)  # at a local (WIB) hour
            total = poisson(rng, 300.0 * world.expected(at) * math.exp(rng.gauss(0, 0.5)))
            for horizon in HORIZONS:
                share = 1 - math.exp2(-horizon / world.half_life)
                model.observe(at, horizon, round(total * share), post_id=f"{day}/{hour}")
    true_daily = [sum(evening[hour::24]) for hour in range(24)]
    assert true_daily[best_hour(model.hourly())] >= 0.75 * max(true_daily)
    moved_at = model.to_dict()["moved_at"]
    assert isinstance(moved_at, int)
    assert 21 <= (moved_at / 1e6 - MONDAY.timestamp()) / 86400 < 28

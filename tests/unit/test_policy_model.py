"""The engagement model: its curve is the slot-world reach, and it learns from observations."""

from __future__ import annotations

import json
import math
import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduler.policy import ChannelRules, EngagementModel, JobRequest, choose_slot
from services.scheduler.policy.model import SHAPES
from services.scheduler.policy.priors import national_prior

MONDAY = datetime(2027, 1, 4, tzinfo=UTC)  # 08:00 WITA on a Monday


def wita(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour - 8, minutes=minute)


def brute_force_reach(hourly: list[float], local_start_minute: int, half_life: float) -> float:
    """slot-world.md step 1 written out: sum over 288 five-minute steps of a(t + 5k) w(k)."""
    total = 0.0
    for k in range(288):
        minute = (local_start_minute + 5 * k) % (7 * 1440)
        w = math.exp2(-5 * k / half_life) - math.exp2(-5 * (k + 1) / half_life)
        total += hourly[minute // 60] * w
    return total


@pytest.mark.parametrize("half_life", [24.0, 60.0, 102.0, 720.0])
def test_curve_is_the_reach_of_a_post(half_life: float) -> None:
    model = EngagementModel("instagram", "Asia/Makassar", prior_half_life_minutes=half_life, exploration=0.0)
    hourly = model.hourly()
    for day, hour, minute in [(0, 18, 55), (2, 7, 0), (6, 23, 30), (4, 12, 5)]:
        instant = wita(day, hour, minute)
        local_minute = day * 1440 + hour * 60 + minute
        assert model.expected(instant) == pytest.approx(
            brute_force_reach(hourly, local_minute, half_life), rel=1e-9
        )


def test_prior_follows_national_hours() -> None:
    model = EngagementModel.prior("facebook", "Asia/Jayapura")
    evening = model.expected(datetime(2027, 1, 5, 10, 0, tzinfo=UTC))  # 19:00 WIT
    morning = model.expected(datetime(2027, 1, 4, 23, 0, tzinfo=UTC))  # 08:00 WIT
    night = model.expected(datetime(2027, 1, 4, 18, 0, tzinfo=UTC))  # 03:00 WIT
    assert evening > morning > night
    assert national_prior()[19] == 0.625  # Kominfo x Katadata 2021: 62.5 % online 19-21 h


def feed(model: EngagementModel, rng: random.Random, weeks: int, hot_hour: int) -> None:
    """Three posts a day; the posts at ``hot_hour`` draw five times the reactions of the others."""
    for day in range(7 * weeks):
        for hour in (hot_hour, 15, 20):
            instant = wita(day, hour)
            mean = 200.0 * (5.0 if hour == hot_hour else 1.0) * math.exp(rng.gauss(0, 0.3))
            for horizon in (60, 360, 1440):
                share = 1 - math.exp2(-horizon / 60)
                model.observe(instant, horizon, round(mean * share), post_id=f"{day}-{hour}")


def test_learns_an_hour_the_prior_did_not_expect() -> None:
    model = EngagementModel.prior("instagram", "Asia/Makassar")
    assert model.expected(wita(14, 10)) < model.expected(wita(14, 20))  # prior: the evening
    feed(model, random.Random(3), weeks=2, hot_hour=10)
    # two weeks of the channel's own posts overturn the prior: close to the true ratio (5)
    learned = model.expected(wita(14, 10)) / model.expected(wita(14, 20))
    assert 3.5 < learned < 7.0
    feed(model, random.Random(4), weeks=4, hot_hour=10)
    assert 3.5 < model.expected(wita(14, 10)) / model.expected(wita(14, 20)) < 7.0  # and keeps to it
    model.exploration = 0.0
    now = wita(14, 6)
    job = JobRequest("j", "evergreen", now, None, now + timedelta(hours=23))
    rules = ChannelRules("ig", "instagram", "Asia/Makassar")
    decision = choose_slot(job, rules, [], model, now, random.Random(0))
    assert decision.slot is not None
    assert decision.slot.astimezone(model._zone).hour in (9, 10), decision.reason


def test_learns_the_half_life_from_horizons() -> None:
    """Reactions 80 % in at +1 h say X-like 24-minute decay, whatever the platform prior said."""
    model = EngagementModel.prior("instagram", "Asia/Makassar")
    for day in range(10):
        instant = wita(day, 19)
        for horizon in (60, 360, 1440):
            model.observe(instant, horizon, round(1000 * (1 - math.exp2(-horizon / 24))))
    model.expected(instant)
    assert model.half_life == pytest.approx(24, rel=0.25)


def test_state_round_trips_through_json() -> None:
    model = EngagementModel.prior("telegram", "Asia/Jakarta")
    feed(model, random.Random(1), weeks=1, hot_hour=12)
    copy = EngagementModel.from_dict(json.loads(json.dumps(model.to_dict())))
    for hour in (7, 12, 19):
        assert copy.expected(wita(9, hour)) == pytest.approx(model.expected(wita(9, hour)))


@pytest.mark.parametrize("shape", SHAPES)
def test_sample_is_a_draw_around_the_mean(shape: str) -> None:
    model = EngagementModel("instagram", "Asia/Makassar", exploration=0.25, shape=shape)
    instant = wita(1, 19)
    draws = [model.sample(instant, random.Random(seed)) for seed in range(200)]
    assert model.sample(instant, random.Random(5)) == draws[5]
    # the 24 hours' Gamma draws average to the mean; the smooth series is drawn in logs, so its
    # draws are log-normal around the mean curve (their median), with a longer upper tail
    centre = statistics.fmean(draws) if shape == "hourly" else statistics.median(draws)
    assert centre == pytest.approx(model.expected(instant), rel=0.1)
    assert min(draws) < model.expected(instant) < max(draws)


def test_greedy_sample_is_the_mean() -> None:
    model = EngagementModel("instagram", "Asia/Makassar", exploration=0.0)
    instant = wita(1, 19)
    assert model.sample(instant, random.Random(3)) == model.expected(instant)


def test_young_channel_tries_each_hour_of_the_day_once() -> None:
    model = EngagementModel.prior("x", "Asia/Makassar")
    now = MONDAY
    now_us = int(now.timestamp() * 1_000_000)
    curve = model.exploring_curve([], now_us)
    assert curve is not None
    night, evening = model.step_of(wita(0, 3)), model.step_of(wita(0, 19))
    assert curve[night] == pytest.approx(curve[evening], rel=0.05)  # untried 03:00 may be as good
    assert model.curve()[night] < 0.5 * model.curve()[evening]  # the mean still says it is not
    # a post planned at 03:00 counts as trying it: the optimism there is gone
    planned = [int(wita(0, 3).timestamp() * 1_000_000)]
    again = model.exploring_curve(planned, now_us)
    assert again is not None
    assert again[night] < 0.5 * again[evening]


def test_exploration_ends_after_the_channels_first_weeks() -> None:
    model = EngagementModel.prior("instagram", "Asia/Makassar")
    feed(model, random.Random(2), weeks=1, hot_hour=19)
    still_young = int(wita(round(model.explore_days) - 1, 9).timestamp() * 1_000_000)
    assert model.exploring_curve([], still_young) is not None
    later = int(wita(round(model.explore_days) + 3, 9).timestamp() * 1_000_000)
    assert model.exploring_curve([], later) is None

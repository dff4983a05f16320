"""The slot policy's ceiling (bench/truth_model.py): its model told each channel's truth.

Judged by what the ceiling did not write: the simulator's own reach sums (``World.life``), its
greedy oracle and its independent feasibility check.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from bench.policy_options import Knobs, knobs_of, policy_arguments
from bench.slots import World, policy_model, simulate
from bench.truth_model import TruthModel, in_family, tell_now
from services.scheduler.policy import JobRequest
from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.priors import prior_shape
from services.scheduler.policy.rules import to_us
from services.scheduler.policy.series import HARMONICS, PARAMS, multipliers
from services.scheduler.policy.slots import expected_at
from tests.unit.test_slot_sim import START, tiny_world


def late_night(rng: random.Random) -> list[float]:
    """An audience the national prior (evening and morning peaks) gets wrong."""
    return [round((1.0 if b % 24 in (23, 0, 1, 2) else 0.08) * rng.uniform(0.8, 1.2), 4) for b in range(168)]


def lunchtime(rng: random.Random) -> list[float]:
    return [round((1.0 if b % 24 in (11, 12, 13) else 0.1) * rng.uniform(0.8, 1.2), 4) for b in range(168)]


def dawn(rng: random.Random) -> list[float]:
    return [round((1.0 if b % 24 in (3, 4, 5) else 0.05) * rng.uniform(0.8, 1.2), 4) for b in range(168)]


def day(n: float, hours: float = 0) -> datetime:
    return START + timedelta(days=n, hours=hours)


def seasonal_world() -> dict[str, Any]:
    """One channel: its audience moves at day 7 (a hidden season), and a public Ramadan from day
    14 to 21 has a season of its own; after it, the base audience again."""
    rng = random.Random(5)
    raw = tiny_world()
    raw["weeks"], raw["content"] = 4, []
    ig = {**raw["channels"][0], "activity": late_night(rng), "blackouts": []}
    ig["seasons"] = [
        {"start": day(7).isoformat(), "end": day(14).isoformat(), "activity": lunchtime(rng)},
        {"start": day(14).isoformat(), "end": day(21).isoformat(), "activity": dawn(rng)},
    ]
    raw["channels"] = [ig]
    raw["calendar"] = [{"name": "ramadan", "start": day(14).isoformat(), "end": day(21).isoformat()}]
    return raw


def true_mu(world: World, at: datetime) -> float:
    """The simulator's expected reactions of an average post at ``at``, without crowding."""
    ch = world.channels["ig"]
    return ch.base_reach * ch.life[world.index_floor(at)]


def ceiling(world: World, from_day: float) -> TruthModel:
    model = policy_model(world, world.channels["ig"], "smooth", None, from_day)
    assert isinstance(model, TruthModel)
    return model


def test_the_truth_curve_is_the_simulators_and_follows_seasons() -> None:
    world = World(seasonal_world())
    model = ceiling(world, 0)
    ch = world.channels["ig"]
    # now, then the post (its 24 h inside one audience), then which regime model answers for it
    cases = [
        (day(2, 10), day(3, 23), None),  # base audience
        (day(8, 10), day(9, 12), None),  # the moved audience, no calendar period: from its start
        (day(10), day(15, 4), "ramadan"),  # Ramadan ahead: its regime model has Ramadan's truth
        (day(15), day(16, 3), "ramadan"),
        (day(15), day(22, 23), None),  # in Ramadan, the ordinary curve is what follows it
    ]
    for now, at, regime in cases:
        tell_now(model, now)
        answering = model if regime is None else model.regime_model(regime)
        assert answering.curve()[model.step_of(at)] == pytest.approx(true_mu(world, at), rel=1e-9)
        assert answering.curve(random.Random(1)) == answering.curve()  # nothing left to draw
        assert model.exploring_curve([], to_us(now)) is None
        assert (model.half_life, model.crowding) == (ch.half_life, ch.crowding)


def test_before_its_day_the_ceiling_is_the_learning_model() -> None:
    world = World(seasonal_world())
    model, plain = (
        ceiling(world, 7),
        EngagementModel.prior("instagram", "Asia/Makassar", calendar=world.calendar),
    )
    tell_now(model, day(6, 23))
    assert model.curve() == plain.curve()
    now_us = to_us(day(6, 23))
    assert model.exploring_curve([], now_us) == plain.exploring_curve([], now_us)
    assert model.regime_model("ramadan").curve() == plain.regime_model("ramadan").curve()
    assert (model.half_life, model.crowding) == (plain.half_life, plain.crowding)
    tell_now(model, day(7))
    assert model.curve()[model.step_of(day(8, 12))] == pytest.approx(true_mu(world, day(8, 12)), rel=1e-9)


def late_night_world() -> dict[str, Any]:
    raw = tiny_world()
    rng = random.Random(11)
    for channel in raw["channels"]:
        channel["activity"] = late_night(rng)
    return raw


def test_the_ceiling_captures_at_least_the_learning_policy_and_breaks_no_rule() -> None:
    raw = late_night_world()
    learned, truth = simulate(raw), simulate(raw, truth_from_day=0)
    assert truth["violations"] == 0  # the bench's own feasibility check, not the policy's
    assert truth["sum_mu"]["policy"] >= learned["sum_mu"]["policy"]
    assert truth["captured_vs_oracle"] >= 0.95  # the bench's greedy oracle knows the same truth
    assert truth["sum_mu"]["oracle"] == learned["sum_mu"]["oracle"]
    never = simulate(raw, truth_from_day=1000)  # the truth never on: exactly the learning policy
    assert never["sum_mu"] == learned["sum_mu"]
    assert never["missed"] == learned["missed"]


@pytest.mark.parametrize("truth_from_day", [None, 0.0])
def test_the_models_own_settings_reach_it_learning_or_ceiling(truth_from_day: float | None) -> None:
    """``--explore-days`` and ``--thompson-share`` reach each channel's model, so that a tuning
    row that changed them is a command, not a throwaway wrapper."""
    world = World(tiny_world())
    ch = next(iter(world.channels.values()))
    plain = policy_model(world, ch, "smooth", None, truth_from_day)
    changed = policy_model(
        world, ch, "smooth", None, truth_from_day, Knobs(explore_days=3.0, thompson_share=0.5)
    )
    assert (changed.explore_days, changed.exploration) == (3.0, 0.5)
    assert plain.exploration is None
    assert plain.explore_days == EngagementModel("x", "UTC").explore_days


def test_the_mean_the_policy_reads_is_the_truth_once_on() -> None:
    """The policy's mean path (``expected_at``: the expected engagement ``place`` and ``replan``
    compare) reads the ceiling's truth, not only its draws; and a fit run while the truth is on
    still learns with the learned half-life, not the truth's."""
    raw = seasonal_world()
    raw["channels"][0]["half_life_minutes"] = 200  # the truth's, far from instagram's prior 60
    world = World(raw)
    model = policy_model(world, world.channels["ig"], "smooth", None, 0.0)
    assert isinstance(model, TruthModel)
    at = day(3, 20)
    tell_now(model, at)
    request = JobRequest(job_id="j", priority="evergreen", arrived_at=at, not_before=None, deadline=None)
    tz = world.channels["ig"].tz
    assert expected_at(request, model, [], to_us(at), tz, world.grid) == pytest.approx(
        true_mu(world, at), rel=0.02
    )
    model.observe(at - timedelta(hours=30), 1440, 50, post_id="p")
    model.hourly()  # a fit while the truth is on, as any learned read would run
    learned = model._learned_half_life
    assert learned < 150
    assert model._posts["p"].exposure_h == pytest.approx(learned)


def test_the_familys_ceiling_knows_the_smooth_models_closest_hours() -> None:
    """``--truth-family``: hours already in the family come back as they are (a fixed point), any
    other hours keep their total, and the ceiling's model answers with the projection."""
    rng = random.Random(5)
    theta = [rng.uniform(-0.7, 0.7) for _ in range(PARAMS)]
    theta[2 * HARMONICS :] = [t - sum(theta[2 * HARMONICS :]) / 7 for t in theta[2 * HARMONICS :]]
    inside = [p * x for p, x in zip(prior_shape(), multipliers(theta), strict=True)]
    assert in_family(inside) == pytest.approx(inside, rel=1e-9)
    outside = late_night(rng)
    projected = in_family(outside)
    assert sum(projected) == pytest.approx(sum(outside))
    assert in_family(projected) == pytest.approx(projected, rel=1e-9)
    assert max(range(168), key=projected.__getitem__) % 24 in (22, 23, 0, 1, 2, 3)
    world = World(tiny_world())
    ch = next(iter(world.channels.values()))
    model = policy_model(world, ch, "smooth", None, 0.0, Knobs(truth_family=True))
    assert isinstance(model, TruthModel)
    assert list(model.truth.activity) == pytest.approx(in_family(ch.activity))
    assert knobs_of(parsed(["--truth-from-day", "0", "--truth-family"])).truth_family


def parsed(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    policy_arguments(parser)
    return parser.parse_args(argv)

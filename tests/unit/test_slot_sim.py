"""The slot simulator on a tiny world: no violations, deterministic reference sums, exact truth."""

from __future__ import annotations

import math
import random
import statistics
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bench.policy_options import Knobs
from bench.slots import LIFE_STEPS, Post, World, poisson, policy_instant, reported_instant, simulate
from services.scheduler.policy.priors import national_prior

WITA = timezone(timedelta(hours=8))
START = datetime(2027, 1, 4, tzinfo=WITA)


def tiny_world(seed: int = 3) -> dict[str, Any]:
    rng = random.Random(seed)
    activity = [round(a * math.exp(rng.gauss(0, 0.2)), 4) for a in national_prior()]
    channels = [
        {
            "id": "ig",
            "platform": "instagram",
            "timezone": "Asia/Makassar",
            "activity": activity,
            "half_life_minutes": 60,
            "base_reach": 800,
            "crowding": 0.3,
            "min_gap_minutes": 120,
            "max_posts_per_day": 3,
            "habitual_times": ["09:00", "19:00"],
            "blackouts": [{"start": "2027-01-09T22:00:00+08:00", "end": "2027-01-10T08:00:00+08:00"}],
        },
        {
            "id": "x",
            "platform": "x",
            "timezone": "Asia/Jakarta",
            "activity": list(reversed(activity)),
            "half_life_minutes": 24,
            "base_reach": 300,
            "crowding": 0.5,
            "min_gap_minutes": 30,
            "max_posts_per_day": 5,
            "habitual_times": ["08:00"],
            "blackouts": [],
        },
    ]
    content = []
    for n in range(30):
        arrives = START + timedelta(hours=9 + 8 * n + rng.randrange(6), minutes=rng.randrange(60))
        priority = ("normal", "normal", "evergreen", "urgent")[n % 4]
        content.append(
            {
                "id": f"c-{n:03d}",
                "arrives_at": arrives.isoformat(),
                "channels": ["ig", "x"] if n % 3 else ["ig"],
                "priority": priority,
                "not_before": (arrives + timedelta(hours=3)).isoformat() if n % 7 == 1 else None,
                "deadline": None if priority == "evergreen" else (arrives + timedelta(hours=30)).isoformat(),
                "freshness_half_life_hours": None if priority == "evergreen" else 12,
                "quality": round(math.exp(rng.gauss(0, 0.3)), 3),
            }
        )
    return {
        "name": "tiny",
        "seed": seed,
        "start": START.isoformat(),
        "weeks": 1.5,
        "warmup_weeks": 0.5,
        "grid_minutes": 5,
        "channels": channels,
        "content": content,
    }


def test_tiny_world_has_no_violations_and_fixed_reference_sums() -> None:
    first, second = simulate(tiny_world()), simulate(tiny_world())
    assert first["violations"] == 0
    for name in ("oracle", "habitual", "immediate", "random"):
        assert first["sum_mu"][name] == second["sum_mu"][name] > 0
    assert first["sum_mu"]["policy"] == second["sum_mu"]["policy"]  # one seed, one result
    assert first["sum_mu"]["oracle"] >= first["sum_mu"]["immediate"]
    assert first["captured_vs_oracle"] > 0.7
    assert set(first) >= {"world", "items", "lift_vs_habitual", "missed", "policy_seconds"}


def test_reference_sums_do_not_depend_on_the_seed() -> None:
    """Only the policy and random strategies draw random numbers."""
    one, other = simulate(tiny_world(seed=3)), simulate({**tiny_world(seed=3), "seed": 99})
    for name in ("oracle", "habitual", "immediate"):
        assert one["sum_mu"][name] == other["sum_mu"][name]


def test_another_draw_runs_the_policy_anew_on_the_same_world() -> None:
    """``--draw``: the policy's and the observations' randomness change, the world does not."""
    first, again, other = (simulate(tiny_world(), knobs=Knobs(draw=d)) for d in (0, 0, 1))
    assert again == {**first, "policy_seconds": again["policy_seconds"]}
    assert other["sum_mu"]["policy"] != first["sum_mu"]["policy"]
    for name in ("oracle", "habitual", "immediate", "random"):
        assert other["sum_mu"][name] == first["sum_mu"][name]
    assert other["violations"] == 0


def test_the_policy_sees_published_posts_at_their_reported_instants() -> None:
    """As in production: a published post at the instant its publisher reported, off the whole
    second and within 3 s of its slot; a planned one at its slot (a bench on whole minutes hid a
    model defect that only such instants showed)."""
    world = World(tiny_world())
    posts = [Post(12 * n, n, job) for n, job in enumerate(world.jobs[:40])]
    reported = [reported_instant(world, p) for p in posts]
    for post, at in zip(posts, reported, strict=True):
        assert timedelta(0) < at - world.at(post.idx) < timedelta(seconds=3)
        assert policy_instant(world, post, {id(post)}) == world.at(post.idx)
        assert policy_instant(world, post, set()) == at
    assert sum(1 for at in reported if at.microsecond) > 35
    assert reported == [reported_instant(world, p) for p in posts]  # drawn from the key, no state


def test_true_reach_is_the_slot_world_sum() -> None:
    world = World(tiny_world())
    ch = world.channels["ig"]
    for idx in (0, 101, 777, 1500):
        local = world.at(idx).astimezone(ch.tz)
        direct = 0.0
        for k in range(LIFE_STEPS):
            step = (world.at(idx) + timedelta(minutes=5 * k)).astimezone(ch.tz)
            w = math.exp2(-5 * k / ch.half_life) - math.exp2(-5 * (k + 1) / ch.half_life)
            direct += ch.activity[step.weekday() * 24 + step.hour] * w
        assert ch.life[idx] == pytest.approx(direct, rel=1e-9), local


@pytest.mark.parametrize("mean", [0.5, 12.0, 75.0, 900.0])
def test_poisson_draws_have_the_right_mean_and_spread(mean: float) -> None:
    rng = random.Random(1)
    draws = [poisson(rng, mean) for _ in range(4000)]
    assert statistics.fmean(draws) == pytest.approx(mean, rel=0.05, abs=0.05)
    assert statistics.pvariance(draws) == pytest.approx(mean, rel=0.15, abs=0.1)


def test_worldgen_is_deterministic_and_valid() -> None:
    from bench.worldgen import AUDIENCES, generate

    first, again = generate(4), generate(4)
    assert first == again
    assert generate(5) != first
    world = World(first)  # the simulator accepts it
    assert world.jobs
    for channel in first["channels"]:
        assert len(channel["activity"]) == 168
        assert min(channel["activity"]) > 0
        assert channel["audience"] in AUDIENCES
    forced = generate(6, audience="lunchtime,late_night")
    assert [c["audience"] for c in forced["channels"]][:2] == ["lunchtime", "late_night"]

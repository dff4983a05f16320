"""A young channel's trials spread around the clock (policy/explore.py, ``Exploring(spread=)``).

With one optimism for every untried hour, the freshness an item loses while it waits chose the
untried hour nearest its arrival, so a channel whose items arrive by day never tried a night hour
in its first days. The rule is checked on its own (the optimism grows with the hours from the
nearest trial) and on a world drawn with bench.adversarial's own dawn audience, judged by
bench.slots' simulator and oracle, with the spread and without it. The spread is on by default
(docs/scheduling.md, "settings compared over 128 worlds"); these tests keep what it does true.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import slots as sim
from services.scheduler.policy.explore import EXPLORE_OPTIMISM, Exploring, raise_untried
from tests.unit.adversarial_worlds import TZ, dawn_world


def around_the_clock(a: int, b: int) -> int:
    return min(abs(a - b), 24 - abs(a - b))


def test_a_night_hour_far_from_every_trial_outranks_the_hour_beside_one() -> None:
    hourly = [1.0] * 168
    by_day = [[(hod, 1.0)] for hod in range(7, 19)]  # trials started 07-18 h, each in its own hour
    raised = raise_untried(hourly, by_day, spread=1.0)
    assert raised is not None
    assert raised[19] == pytest.approx(EXPLORE_OPTIMISM)  # beside the 18 h trial: the plain optimism
    assert raised[1] > raised[3] > raised[19]  # 01 h is 6 h from any trial, 03 h is 4 h from 07 h
    assert raised[7] == 1.0  # a tried hour keeps its own estimate


@given(st.sets(st.integers(0, 23), min_size=1, max_size=23), st.integers(0, 6))
def test_the_optimism_grows_with_the_hours_from_the_nearest_trial(starts: set[int], day: int) -> None:
    trials = [[(day * 24 + hod, 1.0)] for hod in sorted(starts)]
    raised = raise_untried([1.0] * 168, trials, spread=1.0)
    assert raised is not None
    untried = [hod for hod in range(24) if hod not in starts]
    far = {hod: min(around_the_clock(hod, s) for s in starts) for hod in untried}
    for a in untried:
        for b in untried:
            if far[a] > far[b]:
                assert raised[a] > raised[b]
            if far[a] == far[b]:
                assert raised[a] == raised[b]


def trial_hours_and_share(seed: int, spread: float) -> tuple[set[int], float, int]:
    """(local hours the first week's posts started at, the policy's share of the oracle's μ,
    violations) on a dawn audience whose items arrive 07-18 h, by bench.slots."""
    raw = dawn_world(seed)
    world = sim.World(raw)
    scheds, _, violations, _ = sim.run_policy(world, "smooth", Exploring(spread=spread))
    oracle, _ = sim.run_reference(world, "oracle", random.Random(f"{world.seed}/oracle"))
    channel = world.channels["instagram-0"]
    first_week = world.start + timedelta(days=7)
    hours = {
        world.at(p.idx).astimezone(TZ).hour
        for p in scheds["instagram-0"].posts
        if world.at(p.idx) < first_week
    }

    def earned(sched: sim.Schedule) -> float:
        return sum(world.schedule_mu(channel, sched).values())

    violations = max(violations, sim.final_violations(world, scheds))
    return hours, earned(scheds["instagram-0"]) / earned(oracle["instagram-0"]), violations


def test_a_dawn_audience_is_tried_in_the_first_week_and_found() -> None:
    """Over three draws (seeds 1-3): with the spread every draw tries the small hours (00-07 h) in
    its first week and the policy earns more of the oracle than with one optimism for every
    untried hour; violations 0."""
    spread = [trial_hours_and_share(seed, 1.0) for seed in (1, 2, 3)]
    flat = [trial_hours_and_share(seed, 0.0) for seed in (1, 2, 3)]
    assert all(bad == 0 for _, _, bad in spread + flat)
    assert all(hours & set(range(0, 7)) for hours, _, _ in spread), [h for h, _, _ in spread]
    share_spread = sum(share for _, share, _ in spread) / 3
    share_flat = sum(share for _, share, _ in flat) / 3
    assert share_spread > share_flat + 0.05, (share_flat, share_spread)

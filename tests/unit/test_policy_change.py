"""The change-point test that dates an audience's move (policy/change.py).

Checked on literal tables (a run of misses is dated at its first post; a lone weak item is not a
move), by hypothesis over any history (what it returns is always a miss that starts a run long
enough and far enough under the earlier posts), and against the quality spread of bench.adversarial's worlds
(log-normal sigma up to 0.9): how often a channel whose audience never moved is told it did.
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from bench import slots as sim
from services.scheduler.policy import EngagementModel
from services.scheduler.policy.change import CHANGE_MAX_RUN, CHANGE_MIN_BEFORE, CHANGE_MIN_RUN, change_point
from services.scheduler.policy.explore import Exploring
from services.scheduler.policy.smooth import MOVE_POSTS, MOVE_RATIO, MOVED_WEIGHT, moved_since
from tests.unit.adversarial_worlds import TZ, lunch_then_dawn_world

DAY_US = 86_400_000_000


def noisy(rng: random.Random, n: int, sigma: float, level: float = 1.0) -> list[float]:
    """Ratios to the fit of ``n`` posts whose items' quality is log-normal(sigma) around ``level``."""
    return [level * math.exp(rng.gauss(-sigma * sigma / 2, sigma)) for _ in range(n)]


def test_a_run_of_misses_is_dated_at_its_first_post() -> None:
    rng = random.Random(1)
    ratios = [*noisy(rng, 20, 0.5), 0.05, 0.08, 0.04, 0.1]
    times = [d * DAY_US for d in range(len(ratios))]
    assert change_point(times, ratios, None, 3.0) == times[20]
    # smooth.py's median test dates the move at its window's edge, two good posts before it
    assert moved_since(times, ratios, None) == times[-MOVE_POSTS] == times[18]


def test_a_lone_weak_item_or_two_is_not_a_move() -> None:
    rng = random.Random(2)
    base = noisy(rng, 20, 0.5)
    times = [d * DAY_US for d in range(23)]
    assert change_point(times, [*base, 1.0, 0.02, 1.1], None, 3.0) is None
    assert change_point(times[:22], [*base, 0.02, 0.03], None, 3.0) is None  # under CHANGE_MIN_RUN


def test_only_posts_after_the_last_move_count() -> None:
    rng = random.Random(3)
    ratios = noisy(rng, 20, 0.5) + [0.05] * 4
    times = [d * DAY_US for d in range(len(ratios))]
    assert change_point(times, ratios, times[15], 3.0) is None  # 5 earlier posts: too few to judge
    assert change_point(times, ratios, times[14], 3.0) == times[20]


@given(
    st.lists(st.floats(0.0, 20.0, allow_nan=False), min_size=0, max_size=40),
    st.integers(0, 40),
    st.floats(0.5, 6.0),
)
def test_a_dated_move_starts_a_run_that_misses_after_enough_posts(
    ratios: list[float], first: int, z: float
) -> None:
    times = [d * DAY_US for d in range(len(ratios))]
    after = first * DAY_US
    moved = change_point(times, ratios, after, z)
    if moved is None:
        return
    counted = [(t, r) for t, r in zip(times, ratios, strict=True) if t >= after]
    at = [t for t, _ in counted].index(moved)
    run = [r for _, r in counted[at:]]
    assert at >= CHANGE_MIN_BEFORE
    assert len(run) >= CHANGE_MIN_RUN
    assert CHANGE_MIN_RUN <= len(run) <= CHANGE_MAX_RUN
    assert run[0] < MOVE_RATIO  # dated at a miss
    assert statistics.median(run) < MOVE_RATIO
    # the run sits z standard errors under the earlier posts, by their spread (floored)
    before = [math.log(max(r, 1e-6)) for _, r in counted[:at]]
    logs = [math.log(max(r, 1e-6)) for r in run]
    spread = max(statistics.stdev(before), 0.3) * math.sqrt(1 / len(run) + 1 / len(before))
    assert statistics.fmean(before) - statistics.fmean(logs) >= z * spread - 1e-9


def test_fewer_false_moves_than_the_median_test_and_moves_seen_sooner() -> None:
    """Channels whose audience stays, 42 posts of items with quality spread sigma 0.9 (the widest of
    bench.adversarial), the test asked after every post as the fit does: at 3 standard errors
    about two thirds as many are told their audience moved as by smooth.py's median test (~0.3).
    A move that takes the audience away (a tenth of what it earned) is seen by its fourth post in
    nine channels of ten; the median test cannot see it before its fourth (MOVE_POSTS needs a
    median of six under MOVE_RATIO)."""
    rng = random.Random(4)
    false_change = false_median = seen = 0
    channels = 150
    times = [d * DAY_US for d in range(42)]
    for _ in range(channels):
        stays = noisy(rng, 42, 0.9)
        false_change += any(change_point(times[:n], stays[:n], None, 3.0) is not None for n in range(2, 43))
        false_median += any(moved_since(times[:n], stays[:n], None) is not None for n in range(2, 43))
        moves = stays[:21] + noisy(rng, 4, 0.9, 0.1)
        seen += any(change_point(times[:n], moves[:n], None, 3.0) is not None for n in range(22, 26))
    assert false_change < 0.8 * false_median, (false_change, false_median)
    assert false_change < 0.2 * channels
    assert seen > 0.9 * channels, seen


def habit_after_a_move(seed: int, exploring: Exploring) -> tuple[int | None, int | None, datetime]:
    """A channel that keeps posting each item at 12:00 on its arrival day while its lunchtime
    audience moves to dawn (test_policy_reexplore's world, bench.adversarial's sampler), its
    counts drawn from bench.slots' truth (``World.mu``, Poisson at +1 h, +6 h, +24 h).
    Returns (the post after which the model first dates a move, counted from the true move;
    the dated move, in days from the true one; the true move)."""
    raw = lunch_then_dawn_world(seed)
    world = sim.World(raw)
    channel = world.channels["instagram-0"]
    move = datetime.fromisoformat(raw["channels"][0]["seasons"][0]["start"])
    model = EngagementModel("instagram", "Asia/Jakarta", exploring=exploring)
    rng, earlier = random.Random(f"change/{seed}"), list[int]()
    days: set[object] = set()
    for job in world.jobs:
        noon = job.item.arrives.astimezone(TZ).replace(hour=12, minute=0)
        if noon.date() in days or job.item.arrives > noon:
            continue
        days.add(noon.date())
        idx = world.index_floor(noon)
        mu = world.mu(job, idx, world.pressure(channel, earlier, idx))
        earlier.append(idx)
        total = sum(sim.poisson(rng, mu * (math.exp2(-a / 60) - math.exp2(-b / 60))) for a, b in SPANS)
        for horizon in sim.HORIZONS:  # cumulative counts; the +24 h one last
            share = (1 - math.exp2(-horizon / 60)) / (1 - math.exp2(-1440 / 60))
            model.observe(noon, horizon, round(total * share), post_id=job.key)
        model.curve()  # the fit, and with it the detector, runs as the scheduler would ask
        moved = model.to_dict()["moved_at"]
        if moved is not None:
            after = sum(1 for d in days if str(d) >= move.date().isoformat())
            return after, (int(str(moved)) // 1_000_000 - int(move.timestamp())) // 86_400, move
    return None, None, move


SPANS = ((0, 60), (60, 360), (360, 1440))


def test_a_move_is_seen_sooner_and_dated_nearer_than_by_the_median_test() -> None:
    """Over five draws of the world (seeds 1-5, the first tried): the change-point test sees the
    move after fewer posts than smooth.py's median test (3 against 4-5) and dates it on the day
    of the move or within two days after it (the first miss), where the median test dates it at
    its window's edge, one to four days before the move (its earlier good posts then count as
    the new audience's)."""
    for seed in (1, 2, 3, 4, 5):
        change_after, change_dated, _ = habit_after_a_move(seed, Exploring(change_z=3.0))
        median_after, median_dated, _ = habit_after_a_move(seed, Exploring())
        assert change_after is not None
        assert change_dated is not None
        assert median_after is not None
        assert median_dated is not None
        assert change_after < median_after, (seed, change_after, median_after)
        assert 0 <= change_dated <= 2, (seed, change_dated)
        assert median_dated < 0, (seed, median_dated)


def test_the_rules_hold_with_the_test_on() -> None:
    """bench.slots' simulator re-checks every decision and the final schedule on its own
    feasibility code: with the change-point test on (and the posts before a move at a tenth),
    a channel whose audience moves breaks no rule, over three draws of the world."""
    for seed in (1, 2, 3):
        result = sim.simulate(
            lunch_then_dawn_world(seed), "smooth", Exploring(change_z=3.0, moved_weight=0.1)
        )
        assert result["violations"] == 0, result


def test_the_choice_is_kept_in_the_state_and_older_states_keep_the_median_test() -> None:
    chosen = Exploring(change_z=3.0, moved_weight=0.1)
    model = EngagementModel("x", "Asia/Jakarta", exploring=chosen)
    assert EngagementModel.from_dict(model.to_dict()).exploring == chosen
    saved = {**model.to_dict(), "exploring": {"reexplore_days": 7.0, "gate_z": 0.0}}  # before the test
    assert EngagementModel.from_dict(saved).exploring == Exploring(7.0, 0.0, 0.0, MOVED_WEIGHT)

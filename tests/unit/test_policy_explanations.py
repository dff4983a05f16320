"""A slot's explanation adds up: its numbers are the terms of the expected engagement, and when the
chosen slot is not the one with the most audience (or the most expected engagement), the reason
names what made it win: crowding, freshness, exploration, or a move that made room."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from services.scheduler.policy import ChannelRules, EngagementModel, JobRequest, choose_slot, place
from services.scheduler.policy.slots import Decision

START = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # Monday 09:00 WITA


def case(rng: random.Random) -> tuple[Decision, JobRequest]:
    prior = [math.exp(rng.gauss(0, 0.5)) for _ in range(168)]
    model = EngagementModel(
        "instagram",
        "Asia/Makassar",
        prior_activity=prior,
        crowding=rng.uniform(0.3, 1.5),
        exploration=rng.choice((0.0, 0.0, 1.0)),
        explore_days=0.0,
    )
    now = START + timedelta(minutes=5 * rng.randrange(200))
    fresh = rng.choice((None, 2.0, 6.0, 24.0))
    job = JobRequest(
        "j",
        "evergreen" if fresh is None else "normal",
        now,
        None,
        now + timedelta(hours=rng.choice((6, 12, 36))),
        fresh if fresh is not None else math.inf,
    )
    taken = sorted(now + timedelta(minutes=5 * rng.randrange(-20, 300)) for _ in range(rng.randrange(4)))
    rules = ChannelRules("ig", "instagram", "Asia/Makassar")
    return choose_slot(job, rules, taken, model, now, random.Random(rng.random())), job


def clause(d: Decision) -> str:
    """Check that the reason's numbers are the decision's terms; return which clause it used."""
    best, runner = d.chosen_terms, d.runner_up_terms
    assert best is not None
    assert d.expected_engagement is not None
    assert math.isclose(best.expected, d.expected_engagement, rel_tol=1e-9)
    if runner is None:
        return "alone"
    assert d.runner_up_engagement is not None
    assert math.isclose(runner.expected, d.runner_up_engagement, rel_tol=1e-9)
    if runner.expected > best.expected:
        assert d.reason.startswith("Chosen to learn")
        assert best.score >= runner.score  # the draw it was chosen on did rank it first
        for number in (best.score, runner.score, best.expected, runner.expected):
            assert f"{number:.4g}" in d.reason
        return "learn"
    if runner.audience > best.audience:
        assert f"larger audience ({runner.audience:.4g} against {best.audience:.4g})" in d.reason
        assert f"(expected {runner.expected:.4g} against {best.expected:.4g})" in d.reason
        if "posts near it" in d.reason:
            assert best.crowding > runner.crowding
            assert f"{runner.crowding:.0%} of it against {best.crowding:.0%}" in d.reason
            return "crowding"
        assert best.freshness > runner.freshness
        assert f"keeps {runner.freshness:.0%} of its value against {best.freshness:.0%}" in d.reason
        return "freshness"
    assert d.reason.startswith("Best expected audience")
    return "best"


def test_explanations_add_up_and_name_what_won() -> None:
    rng = random.Random(5)
    seen: Counter[str] = Counter()
    for _ in range(150):
        decision, _job = case(rng)
        if decision.slot is not None:
            seen[clause(decision)] += 1
    # every way a slot other than the biggest audience can win was met and explained
    assert min(seen[k] for k in ("crowding", "freshness", "learn", "best")) > 0, seen


def test_a_move_that_made_room_is_named() -> None:
    from tests.unit.test_policy_slots import at, learned, rules

    model = learned(hot_hour=10)
    one_a_day = rules(max_posts_per_day=1)
    now = at("2027-01-18T06:00:00+08:00")
    evergreen = JobRequest("a", "evergreen", now, None, now + timedelta(days=3))
    news = JobRequest("b", "normal", now, None, at("2027-01-18T12:00:00+08:00"))
    decision, moves = place(
        news, [(evergreen, at("2027-01-18T10:00:00+08:00"))], one_a_day, [], model, now, random.Random(0)
    )
    assert moves[0] is not None
    assert "Room was made by moving a from Mon 18 Jan 10:00 WITA" in decision.reason


def test_patience_reaches_the_weekend_after_next() -> None:
    """Every instant of a long window is a candidate: with next Sunday taken (one post a day), an
    evergreen item waits for the Sunday after next, where this audience is."""
    sunday_only = [3.0 if b // 24 == 6 and 9 <= b % 24 <= 12 else 0.1 for b in range(168)]
    model = EngagementModel(
        "facebook",
        "Asia/Makassar",
        prior_activity=sunday_only,
        crowding=0.0,
        exploration=0.0,
        explore_days=0.0,
    )
    monday = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # Monday 09:00 WITA
    job = JobRequest("j", "evergreen", monday, None, monday + timedelta(days=13), math.inf)
    next_sunday = monday + timedelta(days=6)
    one_a_day = ChannelRules("fb", "facebook", "Asia/Makassar", max_posts_per_day=1)
    decision = choose_slot(job, one_a_day, [next_sunday], model, monday, random.Random(0))
    assert decision.slot is not None
    local = decision.slot.astimezone(one_a_day.zone)
    assert (local.weekday(), local.day) == (6, 17)

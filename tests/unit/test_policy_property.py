"""Property: whatever the rules, jobs and existing posts, a decision never breaks a hard rule.

The checks here are written from slot-world.md directly (brute force over instants and windows),
not with the policy's interval code, so the two implementations check each other.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.policy import (
    Blackout,
    Cap,
    ChannelRules,
    EngagementModel,
    JobRequest,
    choose_slot,
)
from services.scheduler.policy.model import SHAPES

BASE = datetime(2027, 3, 26, tzinfo=UTC)  # two days before Europe's spring DST change
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Amsterdam", "Australia/Sydney")
GRID = timedelta(minutes=5)


def minutes(lo: int, hi: int) -> st.SearchStrategy[timedelta]:
    return st.integers(lo, hi).map(lambda m: timedelta(minutes=m))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ChannelRules, JobRequest, list[datetime], datetime]:
    tz = draw(st.sampled_from(ZONES))
    blackouts = tuple(
        Blackout(BASE + start, BASE + start + length, f"b{i}")
        for i, (start, length) in enumerate(
            draw(st.lists(st.tuples(minutes(0, 4 * 1440), minutes(5, 1440)), max_size=2))
        )
    )
    caps = tuple(
        Cap(limit, window)
        for limit, window in draw(st.lists(st.tuples(st.integers(1, 3), minutes(10, 1440)), max_size=2))
    )
    rules = ChannelRules(
        channel="ch",
        platform=draw(st.sampled_from(("instagram", "x", "facebook", "telegram"))),
        timezone=tz,
        min_gap=draw(minutes(0, 240)),
        max_posts_per_day=draw(st.none() | st.integers(1, 4)),
        caps=caps,
        blackouts=blackouts,
        paused=draw(st.booleans().map(lambda b: b and draw(st.integers(0, 9)) == 0)),
    )
    # taken posts at arbitrary seconds, including ones that already break rules among themselves
    taken = [BASE + timedelta(seconds=s) for s in draw(st.lists(st.integers(0, 5 * 86400), max_size=12))]
    now = BASE + draw(minutes(0, 3 * 1440)) + timedelta(seconds=draw(st.integers(0, 59)))
    arrived = now - draw(minutes(0, 600))
    not_before = draw(st.none() | minutes(0, 1440).map(lambda d: arrived + d))
    deadline = draw(st.none() | minutes(0, 2 * 1440).map(lambda d: now + d))
    job = JobRequest(
        job_id="j",
        priority=draw(st.sampled_from(("urgent", "normal", "evergreen"))),
        arrived_at=arrived,
        not_before=not_before,
        deadline=deadline,
        freshness_half_life_hours=draw(st.none() | st.floats(0.5, 48)),
    )
    return rules, job, taken, now


def breaks(rules: ChannelRules, taken: list[datetime], t: datetime, urgent: bool) -> str | None:
    """The first rule a post at ``t`` breaks, checked the slow, obvious way."""
    for b in rules.blackouts:
        if b.start <= t < b.end:
            return "blackout"
    if not urgent and any(abs(t - x) < rules.min_gap for x in taken):
        return "min_gap"
    if rules.max_posts_per_day is not None:
        tz = ZoneInfo(rules.timezone)
        same_day = sum(1 for x in taken if x.astimezone(tz).date() == t.astimezone(tz).date())
        if same_day >= rules.max_posts_per_day:
            return "max_posts_per_day"
    for cap in rules.caps:
        posts = sorted([*taken, t])
        # the fullest window of length W containing t starts at one of the posts at or before t
        for first in (p for p in posts if p <= t):
            if (
                t - first < cap.window
                and sum(1 for p in posts if first <= p < first + cap.window) > cap.limit
            ):
                return "cap"
    return None


def window(job: JobRequest, now: datetime) -> tuple[datetime, datetime]:
    anchor = max(job.arrived_at, job.not_before or job.arrived_at)
    earliest = max(now, anchor)
    start = BASE + -(-(earliest - BASE) // GRID) * GRID
    return start, job.deadline if job.deadline is not None else anchor + timedelta(days=7)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**32 - 1), st.sampled_from(SHAPES))
def test_no_decision_breaks_a_hard_rule(
    scenario: tuple[ChannelRules, JobRequest, list[datetime], datetime], seed: int, shape: str
) -> None:
    rules, job, taken, now = scenario
    model = EngagementModel.prior(rules.platform, rules.timezone, shape=shape)
    decision = choose_slot(job, rules, taken, model, now, random.Random(seed))
    urgent = job.priority == "urgent"
    start, end = window(job, now)
    if rules.paused:
        assert decision.slot is None
        assert decision.binding_constraint == "paused"
        return
    if decision.slot is None:
        # giving up is only allowed when truly nothing fits: check every grid instant
        t = start
        while t <= end:
            assert breaks(rules, taken, t, urgent) is not None, f"{t} was allowed: {decision.reason}"
            t += GRID
        assert decision.binding_constraint
        return
    slot = decision.slot
    assert slot.tzinfo == UTC
    assert (slot - BASE) % GRID == timedelta(0)
    assert start <= slot <= end
    assert breaks(rules, taken, slot, urgent) is None, decision.reason
    if urgent:  # the first allowed instant, no later
        t = start
        while t < slot:
            assert breaks(rules, taken, t, urgent) is not None
            t += GRID
    if decision.runner_up is not None:
        assert breaks(rules, taken, decision.runner_up, urgent) is None

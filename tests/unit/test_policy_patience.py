"""Patience: a job's whole window is scored, up to its deadline, however far the deadline is.

An audience that is only online at weekends is worth waiting for when the deadline allows, even
the weekend after next. The check is a brute force over every 5-minute instant of the window
through the model's public ``expected``, independent of the chooser's grid and interval code, so a
truncated candidate list or a capped horizon shows as a better instant the chooser did not see.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.policy import Blackout, ChannelRules, EngagementModel, JobRequest, choose_slot

TZ = ZoneInfo("Asia/Makassar")
MONDAY = datetime(2027, 1, 4, tzinfo=TZ)
STEP = timedelta(minutes=5)


def weekend_audience() -> list[float]:
    """Saturday and Sunday 08-20 h; every other hour a twentieth of it."""
    return [1.0 if b // 24 >= 5 and 8 <= b % 24 < 20 else 0.05 for b in range(168)]


def greedy_model() -> EngagementModel:
    return EngagementModel(
        "website", str(TZ), prior_activity=weekend_audience(), exploration=0.0, explore_days=0.0
    )


def best_by_brute_force(
    model: EngagementModel, start: datetime, end: datetime, blocked: list[Blackout]
) -> float:
    best, t = 0.0, start
    while t <= end:
        if not any(b.start <= t < b.end for b in blocked):
            best = max(best, model.expected(t))
        t += STEP
    return best


def test_an_evergreen_item_waits_for_the_weekend_after_next_when_the_next_is_blocked() -> None:
    model = greedy_model()
    silence = Blackout(MONDAY + timedelta(days=5), MONDAY + timedelta(days=7), "masa tenang")
    rules = ChannelRules(channel="web", platform="website", timezone=str(TZ), blackouts=(silence,))
    job = JobRequest("j", "evergreen", MONDAY + timedelta(hours=9), None, MONDAY + timedelta(days=13))
    decision = choose_slot(job, rules, [], model, job.arrived_at, random.Random(1))
    assert decision.slot is not None
    local = decision.slot.astimezone(TZ)
    assert local.date() in ((MONDAY + timedelta(days=12)).date(), (MONDAY + timedelta(days=13)).date())
    assert 8 <= local.hour < 20


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arrival_minutes=st.integers(0, 5 * 1440 - 1),
    window_minutes=st.integers(60, 16 * 1440),
    silence=st.none() | st.tuples(st.integers(0, 14 * 1440), st.integers(60, 3 * 1440)),
)
def test_the_chosen_instant_is_the_best_of_the_whole_window(
    arrival_minutes: int, window_minutes: int, silence: tuple[int, int] | None
) -> None:
    model = greedy_model()
    arrived = MONDAY + timedelta(minutes=arrival_minutes)
    deadline = arrived + timedelta(minutes=window_minutes)
    blocked = (
        [Blackout(MONDAY + timedelta(minutes=silence[0]), MONDAY + timedelta(minutes=sum(silence)), "b")]
        if silence
        else []
    )
    rules = ChannelRules(channel="web", platform="website", timezone=str(TZ), blackouts=tuple(blocked))
    job = JobRequest("j", "evergreen", arrived, None, deadline)
    decision = choose_slot(job, rules, [], model, arrived, random.Random(1))
    start = MONDAY + timedelta(minutes=-(-arrival_minutes // 5) * 5)
    best = best_by_brute_force(model, start, deadline, blocked)
    if best == 0.0:
        assert decision.slot is None
        return
    assert decision.slot is not None
    assert start <= decision.slot <= deadline
    assert model.expected(decision.slot) >= best * (1 - 1e-9)

"""choose_slot against tables of literal datetimes: every hard rule at its edge, in local time."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduler.policy import (
    Blackout,
    Cap,
    ChannelRules,
    EngagementModel,
    InvalidRequest,
    JobRequest,
    choose_slot,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def flat(platform: str, tz: str) -> EngagementModel:
    """Every hour alike and no crowding: a normal job then takes the earliest allowed instant."""
    return EngagementModel(
        platform, tz, prior_activity=[1.0] * 168, crowding=0.0, exploration=0.0, explore_days=0.0
    )


@dataclass(frozen=True)
class Case:
    name: str
    rules: ChannelRules
    now: str
    expected: str | None  # the slot, any offset; None = no feasible instant
    binding: str | None
    taken: tuple[str, ...] = ()
    priority: str = "normal"
    not_before: str | None = None
    deadline: str | None = None
    arrived: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def rules(tz: str = "Asia/Makassar", **kw: object) -> ChannelRules:
    return ChannelRules(channel="ch", platform="instagram", timezone=tz, **kw)  # type: ignore[arg-type]


SILENCE = Blackout(at("2027-02-10T22:00:00+08:00"), at("2027-02-11T06:00:00+08:00"), "masa tenang")

CASES = [
    Case("wita: grid rounds up", rules(), "2027-01-04T10:02:30+08:00", "2027-01-04T10:05:00+08:00", None),
    Case(
        "wita: min gap both sides",
        rules(min_gap=timedelta(hours=2)),
        "2027-01-04T09:00:00+08:00",
        "2027-01-04T12:00:00+08:00",
        "min_gap",
        taken=("2027-01-04T10:00:00+08:00",),
    ),
    Case(
        "wita: a later post also keeps the gap",
        rules(min_gap=timedelta(hours=2)),
        "2027-01-04T09:00:00+08:00",
        "2027-01-04T09:00:00+08:00",
        None,
        taken=("2027-01-04T11:00:00+08:00",),
    ),
    Case(
        "wib: day full until local midnight",
        rules("Asia/Jakarta", max_posts_per_day=2),
        "2027-01-04T22:00:00+07:00",
        "2027-01-05T00:00:00+07:00",
        "max_posts_per_day",
        taken=("2027-01-04T09:00:00+07:00", "2027-01-04T20:00:00+07:00"),
    ),
    Case(
        "wit: local day ends while the UTC day goes on",
        rules("Asia/Jayapura", max_posts_per_day=2),
        "2027-01-04T23:40:00+09:00",
        "2027-01-04T15:00:00+00:00",
        "max_posts_per_day",
        taken=("2027-01-04T10:00:00+09:00", "2027-01-04T23:30:00+09:00"),
    ),
    Case(
        "wit: yesterday's posts in UTC are today's locally",
        rules("Asia/Jayapura", max_posts_per_day=1),
        "2027-01-05T08:00:00+09:00",
        "2027-01-06T00:00:00+09:00",
        "max_posts_per_day",
        taken=("2027-01-04T23:30:00+00:00",),  # 08:30 WIT on the 5th
    ),
    Case(
        "dst spring: a 23-hour day in Amsterdam",
        rules("Europe/Amsterdam", max_posts_per_day=1),
        "2027-03-28T10:00:00+02:00",
        "2027-03-28T22:00:00+00:00",
        "max_posts_per_day",
        taken=("2027-03-28T01:00:00+01:00",),
    ),
    Case(
        "dst autumn: a 25-hour day in Amsterdam",
        rules("Europe/Amsterdam", max_posts_per_day=1),
        "2027-10-31T12:00:00+01:00",
        "2027-10-31T23:00:00+00:00",
        "max_posts_per_day",
        taken=("2027-10-31T00:30:00+02:00",),
    ),
    Case(
        "cap: frees exactly when the oldest post leaves the 24 h window",
        rules(caps=(Cap(2, timedelta(hours=24)),)),
        "2027-01-04T13:00:00+00:00",
        "2027-01-05T10:00:00+00:00",
        "cap:2/24h",
        taken=("2027-01-04T10:00:00+00:00", "2027-01-04T12:00:00+00:00"),
    ),
    Case(
        "cap: a run of posts in the future blocks back from its end",
        rules(caps=(Cap(2, timedelta(hours=3)),)),
        "2027-01-04T09:00:00+00:00",
        "2027-01-04T09:00:00+00:00",
        None,
        taken=("2027-01-04T12:00:00+00:00", "2027-01-04T13:00:00+00:00"),
    ),
    Case(
        "cap: one post per 10 minutes",
        rules(caps=(Cap(1, timedelta(minutes=10)),)),
        "2027-01-04T09:00:00+00:00",
        "2027-01-04T09:10:00+00:00",
        "cap:1/10m",
        taken=("2027-01-04T09:00:00+00:00",),
    ),
    Case(
        "blackout across midnight",
        rules(blackouts=(SILENCE,)),
        "2027-02-10T21:58:00+08:00",
        "2027-02-11T06:00:00+08:00",
        "blackout:masa tenang",
    ),
    Case(
        "deadline inside the blackout",
        rules(blackouts=(SILENCE,)),
        "2027-02-10T22:30:00+08:00",
        None,
        "blackout:masa tenang",
        deadline="2027-02-11T05:00:00+08:00",
    ),
    Case(
        "urgent during the blackout waits for its end: the silence is law",
        rules(blackouts=(SILENCE,), min_gap=timedelta(hours=2)),
        "2027-02-10T23:17:00+08:00",
        "2027-02-11T06:00:00+08:00",
        "blackout:masa tenang",
        priority="urgent",
    ),
    Case(
        "urgent is exempt from the minimum gap",
        rules(min_gap=timedelta(hours=2)),
        "2027-01-04T10:01:00+08:00",
        "2027-01-04T10:05:00+08:00",
        "urgent",
        taken=("2027-01-04T10:00:00+08:00",),
        priority="urgent",
    ),
    Case(
        "urgent still respects the daily budget",
        rules(max_posts_per_day=1),
        "2027-01-04T10:01:00+08:00",
        "2027-01-05T00:00:00+08:00",
        "max_posts_per_day",
        taken=("2027-01-04T08:00:00+08:00",),
        priority="urgent",
    ),
    Case(
        "deadline shorter than the minimum gap: nothing allowed",
        rules(min_gap=timedelta(hours=2)),
        "2027-01-04T10:00:00+08:00",
        None,
        "min_gap",
        taken=("2027-01-04T09:30:00+08:00",),
        deadline="2027-01-04T10:30:00+08:00",
    ),
    Case(
        "deadline shorter than the minimum gap: the one allowed instant",
        rules(min_gap=timedelta(hours=2)),
        "2027-01-04T10:00:00+08:00",
        "2027-01-04T11:30:00+08:00",
        "min_gap",
        taken=("2027-01-04T09:30:00+08:00",),
        deadline="2027-01-04T11:30:00+08:00",
    ),
    Case(
        "embargo: not before 08:02 goes out 08:05",
        rules(),
        "2027-01-05T06:00:00+08:00",
        "2027-01-05T08:05:00+08:00",
        "not_before",
        not_before="2027-01-05T08:02:00+08:00",
    ),
    Case(
        "embargo past the deadline",
        rules(),
        "2027-01-05T06:00:00+08:00",
        None,
        "not_before",
        not_before="2027-01-05T08:00:00+08:00",
        deadline="2027-01-05T07:00:00+08:00",
    ),
    Case(
        "deadline already passed",
        rules(),
        "2027-01-05T06:00:00+08:00",
        None,
        "deadline",
        arrived="2027-01-04T06:00:00+08:00",
        deadline="2027-01-05T05:00:00+08:00",
    ),
    Case("paused", rules(paused=True), "2027-01-04T10:00:00+08:00", None, "paused"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_choose_slot_table(case: Case) -> None:
    now = at(case.now)
    job = JobRequest(
        job_id="job-1",
        priority=case.priority,
        arrived_at=at(case.arrived) if case.arrived else now,
        not_before=at(case.not_before) if case.not_before else None,
        deadline=at(case.deadline) if case.deadline else None,
    )
    decision = choose_slot(
        job,
        case.rules,
        [at(t) for t in case.taken],
        flat("instagram", case.rules.timezone),
        now,
        random.Random(1),
    )
    assert decision.binding_constraint == case.binding, decision.reason
    if case.expected is None:
        assert decision.slot is None
        assert decision.expected_engagement is None
    else:
        assert decision.slot == at(case.expected), decision.reason
        assert decision.slot.tzinfo == UTC
        assert decision.expected_engagement is not None
    assert decision.reason


def test_evening_peak_chosen_in_local_time() -> None:
    """With the national prior, evergreen content goes out in the 19:00-21:00 local peak."""
    slots = {}
    for tz in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"):
        model = EngagementModel("instagram", tz, exploration=0.0, explore_days=0.0)
        now = at("2027-01-04T06:00:00+00:00")
        job = JobRequest("j", "evergreen", now, None, now + timedelta(hours=20))
        decision = choose_slot(job, rules(tz), [], model, now, random.Random(0))
        assert decision.slot is not None
        local = decision.slot.astimezone(model._zone)
        assert 19 <= local.hour < 21, decision.reason
        slots[tz] = decision.slot
        assert decision.runner_up is not None
        assert abs(decision.runner_up - decision.slot) >= timedelta(hours=1)
    # the same local hour is an hour earlier in UTC for each zone further east
    assert slots["Asia/Jakarta"] - slots["Asia/Makassar"] == timedelta(hours=1)
    assert slots["Asia/Makassar"] - slots["Asia/Jayapura"] == timedelta(hours=1)


def test_news_trades_the_peak_for_freshness() -> None:
    """A 1-hour half-life is not worth waiting 10 hours for the evening; evergreen is."""
    model = EngagementModel("instagram", "Asia/Makassar", exploration=0.0, explore_days=0.0)
    now = at("2027-01-04T09:00:00+08:00")
    fast = JobRequest("a", "normal", now, None, None, freshness_half_life_hours=1.0)
    slow = JobRequest("b", "evergreen", now, None, now + timedelta(hours=14))
    first = choose_slot(fast, rules(), [], model, now, random.Random(0)).slot
    second = choose_slot(slow, rules(), [], model, now, random.Random(0)).slot
    assert first is not None
    assert second is not None
    assert first - now < timedelta(hours=2)
    assert second.astimezone(model._zone).hour in (19, 20)


def test_thompson_draws_are_reproducible_and_explore() -> None:
    model = EngagementModel("instagram", "Asia/Makassar", exploration=0.25, explore_days=0.0)
    now = at("2027-01-04T00:00:00+08:00")
    job = JobRequest("j", "evergreen", now, None, None)
    first = [choose_slot(job, rules(), [], model, now, random.Random(s)).slot for s in range(20)]
    again = [choose_slot(job, rules(), [], model, now, random.Random(s)).slot for s in range(20)]
    assert first == again
    assert len(set(first)) > 1  # the prior is uncertain, so the draws differ


def test_naive_datetimes_are_refused() -> None:
    job = JobRequest(
        "j", "normal", datetime(2027, 1, 4, 9), None, None
    )  # naive on purpose: it must be refused
    with pytest.raises(InvalidRequest, match="no UTC offset"):
        choose_slot(
            job, rules(), [], flat("x", "Asia/Jakarta"), at("2027-01-04T09:00:00+07:00"), random.Random(0)
        )


def test_unknown_priority_is_refused() -> None:
    now = at("2027-01-04T09:00:00+07:00")
    with pytest.raises(InvalidRequest, match="priority"):
        choose_slot(
            JobRequest("j", "asap", now, None, None),
            rules(),
            [],
            flat("x", "Asia/Jakarta"),
            now,
            random.Random(0),
        )


def test_seven_day_window_without_deadline() -> None:
    """Evergreen without deadline: a full channel for 6 days still finds day 7, never day 8."""
    now = at("2027-01-04T00:00:00+08:00")
    taken = [now + timedelta(days=d, hours=12) for d in range(6)]
    r = rules(max_posts_per_day=1)
    job = JobRequest("j", "evergreen", now, None, None)
    decision = choose_slot(job, r, taken, flat("instagram", "Asia/Makassar"), now, random.Random(0))
    assert decision.slot == at("2027-01-10T00:00:00+08:00")
    taken.append(now + timedelta(days=6, hours=12))
    decision = choose_slot(job, r, taken, flat("instagram", "Asia/Makassar"), now, random.Random(0))
    assert decision.slot == at("2027-01-11T00:00:00+08:00")  # the window's last instant, inclusive


# ------------------------------------------------------------------ replan
def learned(hot_hour: int) -> EngagementModel:
    """A channel two weeks old whose audience turned out to read at ``hot_hour`` (WITA)."""
    model = EngagementModel("instagram", "Asia/Makassar", exploration=0.0, crowding=0.0, explore_days=0.0)
    first = at("2027-01-04T00:00:00+08:00")
    for day in range(14):
        for hour in (hot_hour, 15, 20):
            instant = first + timedelta(days=day, hours=hour)
            reactions = 1000 if hour == hot_hour else 200
            for horizon in (60, 360, 1440):
                model.observe(
                    instant, horizon, round(reactions * (1 - 2 ** (-horizon / 60))), post_id=f"{day}-{hour}"
                )
    return model


def test_replan_moves_planned_jobs_to_what_was_learned_and_keeps_the_gap() -> None:
    from services.scheduler.policy import replan

    model = learned(hot_hour=10)
    now = at("2027-01-18T06:00:00+08:00")
    gap = rules(min_gap=timedelta(hours=1))
    jobs = [
        (JobRequest("a", "evergreen", now, None, now + timedelta(hours=12)), at("2027-01-18T16:00:00+08:00")),
        (JobRequest("b", "evergreen", now, None, now + timedelta(hours=13)), at("2027-01-18T17:00:00+08:00")),
        (JobRequest("u", "urgent", now, None, now + timedelta(hours=2)), at("2027-01-18T06:00:00+08:00")),
    ]
    out = replan(jobs, gap, [], model, now, random.Random(0))
    assert out[2] is None  # urgent never moves
    slots = [d.slot if d is not None else slot for d, (_, slot) in zip(out, jobs, strict=True)]
    assert all(d is not None and d.slot is not None for d in out[:2])
    first, second = slots[0], slots[1]
    assert first is not None
    assert second is not None
    assert {s.astimezone(gap.zone).hour for s in (first, second)} <= {9, 10, 11}
    assert abs(first - second) >= timedelta(hours=1)  # each saw the other's new slot
    assert out == replan(jobs, gap, [], model, now, random.Random(9))  # greedy: deterministic


def test_replan_keeps_a_slot_that_is_good_enough() -> None:
    from services.scheduler.policy import replan

    model = learned(hot_hour=10)
    now = at("2027-01-18T06:00:00+08:00")
    job = JobRequest("a", "evergreen", now, None, now + timedelta(hours=12))
    best = choose_slot(job, rules(), [], model, now, random.Random(0)).slot
    assert best is not None
    assert replan([(job, best)], rules(), [], model, now, random.Random(0)) == [None]


def test_replan_keeps_a_young_channels_explorations() -> None:
    from services.scheduler.policy import replan

    model = EngagementModel.prior("instagram", "Asia/Makassar")
    now = at("2027-01-04T06:00:00+08:00")
    job = JobRequest("a", "evergreen", now, None, now + timedelta(hours=23))
    planned = at("2027-01-05T03:00:00+08:00")  # a night hour tried on purpose
    assert replan([(job, planned)], rules(), [], model, now, random.Random(0)) == [None]


# ------------------------------------------------------------------ place: making room on arrival
def test_place_moves_a_planned_job_to_make_room_under_a_daily_cap() -> None:
    from services.scheduler.policy import place

    model = learned(hot_hour=10)
    one_a_day = rules(max_posts_per_day=1)
    now = at("2027-01-18T06:00:00+08:00")
    # planned first: an evergreen item with three days to go, on today's peak
    evergreen = JobRequest("a", "evergreen", now, None, now + timedelta(days=3))
    today_peak = at("2027-01-18T10:00:00+08:00")
    news = JobRequest("b", "normal", now, None, at("2027-01-18T12:00:00+08:00"))  # today or never
    alone = choose_slot(news, one_a_day, [today_peak], model, now, random.Random(0))
    assert alone.slot is None
    assert alone.binding_constraint == "max_posts_per_day"

    decision, moves = place(news, [(evergreen, today_peak)], one_a_day, [], model, now, random.Random(0))
    assert decision.slot == today_peak  # the news takes today's peak ...
    moved = moves[0]
    assert moved is not None
    # ... the evergreen a later day's peak (the days' own multipliers are alike: either is right)
    assert moved.slot in (at("2027-01-19T10:00:00+08:00"), at("2027-01-20T10:00:00+08:00"))
    assert (decision, moves) == place(
        news, [(evergreen, today_peak)], one_a_day, [], model, now, random.Random(7)
    )  # greedy on the mean: deterministic


def test_place_never_takes_a_planned_jobs_slot_away() -> None:
    from services.scheduler.policy import place

    model = learned(hot_hour=10)
    one_a_day = rules(max_posts_per_day=1)
    now = at("2027-01-18T06:00:00+08:00")
    planned = at("2027-01-18T10:00:00+08:00")
    noon = at("2027-01-18T12:00:00+08:00")
    first = JobRequest("a", "normal", now, None, noon)  # has no other day to go to
    news = JobRequest("b", "normal", now, None, noon)
    decision, moves = place(news, [(first, planned)], one_a_day, [], model, now, random.Random(0))
    assert decision.slot is None
    assert moves == [None]
    urgent = JobRequest("u", "urgent", now, None, now + timedelta(days=3))  # urgent never moves
    decision, moves = place(news, [(urgent, planned)], one_a_day, [], model, now, random.Random(0))
    assert decision.slot is None
    assert moves == [None]


def test_place_is_choose_slot_when_nothing_is_in_the_way() -> None:
    from services.scheduler.policy import place

    model = learned(hot_hour=10)
    gap = rules(min_gap=timedelta(hours=1))
    now = at("2027-01-18T06:00:00+08:00")
    job = JobRequest("b", "normal", now, None, now + timedelta(hours=12))
    planned = [(JobRequest("a", "evergreen", now, None, None), at("2027-01-18T16:00:00+08:00"))]
    plain = choose_slot(job, gap, [planned[0][1]], model, now, random.Random(0))
    assert place(job, planned, gap, [], model, now, random.Random(0)) == (plain, [None])
    assert place(job, [], gap, [planned[0][1]], model, now, random.Random(0)) == (plain, [])


def test_place_keeps_a_young_channels_explorations() -> None:
    from services.scheduler.policy import place

    model = EngagementModel.prior("instagram", "Asia/Makassar")
    now = at("2027-01-04T06:00:00+08:00")
    one_a_day = rules(max_posts_per_day=1)
    planned = at("2027-01-04T20:00:00+08:00")
    evergreen = JobRequest("a", "evergreen", now, None, now + timedelta(days=3))
    news = JobRequest("b", "normal", now, None, at("2027-01-04T23:00:00+08:00"))
    decision, moves = place(news, [(evergreen, planned)], one_a_day, [], model, now, random.Random(0))
    assert decision.slot is None
    assert moves == [None]

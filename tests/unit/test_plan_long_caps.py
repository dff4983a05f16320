"""Rolling caps longer than a day, through the pure plan and the real slot policy: the posts a
cap counts may lie days (a month, for X's free tier) before the job's window, and normal and
urgent jobs alike must leave room for them (docs: urgent jobs obey caps, the platform enforces
them)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from services.scheduler.placement import reach
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.retention import LONGEST_RULE_REACH, kept_for
from services.scheduler.store import JobStore
from shared.channels import Channel, ChannelDirectory, RollingCap
from shared.events import ContentApproved, JobPlanned, JobState, OutcomeStatus, Priority
from tests.unit.test_plan import CH, T0, approved, outcome

DAY = 24 * 60
MONTH = timedelta(days=30)


def _plan(store: JobStore, *caps: RollingCap) -> Plan:
    channel = Channel(id=CH, platform="mastodon", timezone="Asia/Jakarta", min_gap_minutes=0, caps=caps)
    return Plan(
        ChannelDirectory(channels=(channel,)),
        PolicyChooser(rng=random.Random(1)),
        PlanSettings(),
        store=store,
    )


def _approved(
    cid: str,
    at: datetime,
    deadline: datetime | None,
    *,
    not_before: datetime | None = None,
    priority: Priority = Priority.NORMAL,
) -> ContentApproved:
    ev = approved(cid, at=at, not_before=not_before, priority=priority)
    return ev.model_copy(update={"deadline": deadline})


def _published(plan: Plan, cid: str, at: datetime) -> datetime:
    """Approve ``cid`` at ``at`` to go within ten minutes, fire it, publish it: its instant."""
    plan.handle(CH, _approved(cid, at, at + timedelta(minutes=10)), at)
    t = at
    while not [d for d in plan.fire(t).due if d.purpose == "publish"]:
        t += timedelta(minutes=1)
        assert t <= at + timedelta(minutes=10), f"{cid} never fired"
    plan.handle(CH, outcome(cid, OutcomeStatus.PUBLISHED, at=t, post_id=cid), t)
    return t


def _placed(plan: Plan, ev: ContentApproved, now: datetime) -> JobPlanned:
    return [j for j in plan.handle(CH, ev, now).jobs if j.content_id == ev.content_id][-1]


@pytest.mark.parametrize("priority", [Priority.NORMAL, Priority.URGENT])
def test_a_post_30_hours_ago_counts_under_a_cap_of_one_per_48_hours(
    store: JobStore, priority: Priority
) -> None:
    plan = _plan(store, RollingCap(limit=1, window_minutes=2 * DAY))
    ta = _published(plan, "a", T0)
    now = ta + timedelta(hours=30)
    b = _placed(plan, _approved("b", now, now + timedelta(hours=10), priority=priority), now)
    assert b.state is JobState.UNSCHEDULABLE, f"b at {b.slot}, {b.slot and b.slot - ta} after a"
    assert b.explanation is not None
    assert b.explanation.binding_constraint == "cap:1/2d"


def test_a_new_job_that_may_move_a_planned_one_still_counts_a_post_30_hours_ago(store: JobStore) -> None:
    # A planned job on the channel sends the new one through place_new's movable path.
    plan = _plan(store, RollingCap(limit=1, window_minutes=2 * DAY))
    ta = _published(plan, "a", T0)
    later = _placed(
        plan, _approved("c", ta, ta + timedelta(hours=110), not_before=ta + timedelta(hours=100)), ta
    )
    assert later.state is JobState.SCHEDULED
    now = ta + timedelta(hours=30)
    b = _placed(plan, _approved("b", now, now + timedelta(hours=10)), now)
    assert b.state is JobState.UNSCHEDULABLE, f"b at {b.slot}, {b.slot and b.slot - ta} after a"


@pytest.mark.parametrize("priority", [Priority.NORMAL, Priority.URGENT])
def test_a_month_long_cap_counts_the_whole_month(store: JobStore, priority: Priority) -> None:
    plan = _plan(store, RollingCap(limit=3, window_minutes=30 * DAY))
    first = _published(plan, "a", T0)
    _published(plan, "b", T0 + timedelta(days=10))
    _published(plan, "c", T0 + timedelta(days=20))
    now = T0 + timedelta(days=25)
    tight = _placed(plan, _approved("d", now, now + timedelta(days=2), priority=priority), now)
    assert tight.state is JobState.UNSCHEDULABLE, f"d at {tight.slot}, {tight.slot and tight.slot - first}"
    assert tight.explanation is not None
    assert tight.explanation.binding_constraint == "cap:3/30d"
    # With room past the month after the first post, the job waits for it.
    roomy = _placed(plan, _approved("e", now, now + timedelta(days=10), priority=priority), now)
    assert roomy.slot is not None
    assert roomy.slot >= first + MONTH


def test_a_cap_longer_than_the_calendar_counts_every_post_and_raises_nothing(store: JobStore) -> None:
    plan = _plan(store, RollingCap(limit=1, window_minutes=10**10))  # some 19,000 years
    ta = _published(plan, "a", T0)
    now = ta + timedelta(days=400)
    b = _placed(plan, _approved("b", now, now + timedelta(days=2)), now)
    assert b.state is JobState.UNSCHEDULABLE


def _channel(**kw: object) -> Channel:
    return Channel.model_validate({"id": CH, "platform": "x", "timezone": "Asia/Jakarta", **kw})


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        # a local day (max_posts_per_day) lasts at most 25 h; X's own cap is 100 / 15 min
        (_channel(), timedelta(hours=25)),
        (_channel(caps=[{"limit": 1500, "window_minutes": 30 * DAY}]), MONTH),
        (_channel(caps=[{"limit": 2, "window_minutes": 2 * DAY}]), timedelta(days=2)),
        (_channel(min_gap_minutes=3 * DAY), timedelta(days=3)),
    ],
)
def test_the_read_reaches_as_far_as_the_channels_longest_rule(channel: Channel, expected: timedelta) -> None:
    assert reach(channel) == expected


def test_a_post_a_monthly_cap_counts_is_not_forgotten_after_the_week_of_retention(store: JobStore) -> None:
    # A finished job is forgotten after the retention (7 days by default); a post forgotten no
    # longer counts, and a monthly cap would then see only the last week.
    plan = _plan(store, RollingCap(limit=1, window_minutes=30 * DAY))
    ta = _published(plan, "a", T0)
    t = ta
    while t < ta + timedelta(days=9):  # its engagement measurements fire; it finishes at +24 h
        plan.fire(t)
        t += timedelta(hours=1)
    plan.forget_finished(t)
    now = ta + timedelta(days=9)
    b = _placed(plan, _approved("b", now, now + timedelta(days=5)), now)
    assert b.state is JobState.UNSCHEDULABLE, f"b at {b.slot}, {b.slot and b.slot - ta} after a"
    plan.forget_finished(ta + timedelta(days=32))  # past the cap's reach: forgotten now
    later = ta + timedelta(days=32)
    c = _placed(plan, _approved("c", later, later + timedelta(days=1)), later)
    assert c.state is JobState.SCHEDULED


def test_a_finished_job_is_kept_as_long_as_the_longest_rule_reaches_up_to_a_year() -> None:
    week, month = timedelta(days=7), timedelta(days=30)
    assert kept_for(week, []) == week
    assert kept_for(week, [timedelta(days=2)]) == week
    assert kept_for(week, [timedelta(days=2), month]) == month
    assert kept_for(week, [timedelta(days=10**6)]) == LONGEST_RULE_REACH

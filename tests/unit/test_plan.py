"""The plan, pure: events and ``now`` in, effects out — over both job stores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduler.chooser import Moves, NaiveChooser, SlotAsk
from services.scheduler.plan import Effects, Plan, PlanSettings
from services.scheduler.store import JobStore
from services.scheduler.store_memory import MemoryJobStore
from shared.channels import Channel, ChannelDirectory
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    EngagementObserved,
    JobPlanned,
    JobState,
    OperatorAction,
    OperatorDecided,
    OutcomeStatus,
    PlatformError,
    Priority,
    PublishOutcome,
    SlotExplanation,
)
from shared.lifecycle import IllegalTransition, can, check

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 WITA
CH = "mastodon-demo"
DIRECTORY = ChannelDirectory(
    channels=(
        Channel(id=CH, platform="mastodon", timezone="Asia/Makassar"),
        Channel(id="x-demo", platform="x", timezone="Asia/Jakarta"),
    )
)


@pytest.fixture
def plan(store: JobStore) -> Plan:
    return Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)


def approved(
    content_id: str,
    *,
    at: datetime = T0,
    not_before: datetime | None = None,
    deadline: datetime | None = None,
    topic_key: str | None = None,
    priority: Priority = Priority.NORMAL,
    channels: tuple[str, ...] = (CH,),
) -> ContentApproved:
    return ContentApproved(
        event_id=f"e-{content_id}",
        occurred_at=at,
        content_id=content_id,
        topic_key=topic_key,
        priority=priority,
        not_before=not_before,
        deadline=deadline,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=at),
        submitted_by="yuyun",
        variants=tuple(
            ChannelVariant(channel=c, content=Content(text=f"text {content_id}")) for c in channels
        ),
    )


def outcome(content_id: str, status: OutcomeStatus, attempt: int = 1, **kw: object) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o-{content_id}-{status}-{attempt}",
        occurred_at=kw.pop("at", T0),
        job_id=f"{content_id}:{CH}",
        content_id=content_id,
        channel=CH,
        platform="mastodon",
        attempt=attempt,
        status=status,
        **kw,
    )


def control(action: ControlAction, content_id: str | None = None, **kw: object) -> ControlIssued:
    return ControlIssued(
        event_id=f"c-{action}",
        occurred_at=T0,
        action=action,
        content_id=content_id,
        by="opa",
        reason="because",
        **kw,
    )


def states(fx: Effects) -> list[tuple[str, str]]:
    return [(j.job_id, j.state.value) for j in fx.jobs]


def test_an_approved_item_becomes_one_job_per_channel(plan: Plan) -> None:
    fx = plan.handle(CH, approved("c1", channels=(CH, "x-demo")), T0)
    assert states(fx) == [("c1:mastodon-demo", "scheduled")]
    assert plan.handle("x-demo", approved("c1", channels=(CH, "x-demo")), T0).jobs[0].job_id == "c1:x-demo"


def test_redelivery_plans_nothing_new(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    assert plan.handle(CH, approved("c1"), T0).jobs == []


def test_a_job_fires_at_its_slot_and_not_before(plan: Plan) -> None:
    plan.handle(CH, approved("c1", not_before=T0 + timedelta(minutes=5)), T0)
    assert plan.fire(T0 + timedelta(minutes=4)).due == []
    fx = plan.fire(T0 + timedelta(minutes=5, seconds=1))
    assert [d.job_id for d in fx.due] == ["c1:mastodon-demo"]
    assert states(fx) == [("c1:mastodon-demo", "due")]
    assert plan.fire(T0 + timedelta(minutes=6)).due == []  # fires once


def test_withdrawn_and_superseded_jobs_never_fire(plan: Plan) -> None:
    later = T0 + timedelta(minutes=5)
    plan.handle(CH, approved("c1", not_before=later), T0)
    plan.handle(CH, approved("c2", not_before=later, topic_key="jembatan"), T0)
    plan.handle(CH, control(ControlAction.WITHDRAW, "c1"), T0)
    fx = plan.handle(
        CH, approved("c3", at=T0 + timedelta(seconds=1), not_before=later, topic_key="jembatan"), T0
    )
    assert ("c2:mastodon-demo", "superseded") in states(fx)
    superseded = plan.job("c2:mastodon-demo")
    assert superseded is not None
    assert superseded.superseded_by == "c3"
    assert [d.content_id for d in plan.fire(later + timedelta(seconds=1)).due] == ["c3"]


def test_an_older_version_arriving_late_is_superseded_at_once(plan: Plan) -> None:
    plan.handle(CH, approved("new", at=T0 + timedelta(minutes=1), topic_key="k"), T0)
    fx = plan.handle(CH, approved("old", at=T0, topic_key="k"), T0)
    assert states(fx) == [("old:mastodon-demo", "superseded")]


def test_a_withdrawal_of_a_job_that_fired_stays_on_it(plan: Plan) -> None:
    # The attempt under way cannot be recalled; the job keeps its state and the withdrawal
    # (tests/unit/test_withdraw_races.py: it ends the job as it comes back).
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0 + timedelta(seconds=1))
    fx = plan.handle(CH, control(ControlAction.WITHDRAW, "c1"), T0)
    assert states(fx) == [("c1:mastodon-demo", "due")]
    assert fx.jobs[0].withdrawal is not None
    assert fx.due == []
    assert "may still post it" in (fx.jobs[0].note or "")


def test_pause_holds_and_resume_replans_without_a_burst(plan: Plan) -> None:
    plan.handle(CH, control(ControlAction.PAUSE, channels=(CH,)), T0)
    for i in range(3):
        plan.handle(CH, approved(f"c{i}"), T0)
    assert plan.fire(T0 + timedelta(minutes=1)).due == []
    assert {s for _, s in states(plan.handle(CH, approved("c9"), T0))} == {"paused"}
    later = T0 + timedelta(hours=2)
    fx = plan.handle(CH, control(ControlAction.RESUME, channels=(CH,)), later)
    assert sorted(s for _, s in states(fx)) == ["scheduled"] * 4
    assert all(j.slot is not None and j.slot >= later for j in fx.jobs)


def test_jobs_late_after_downtime_are_replanned_not_burst(plan: Plan) -> None:
    plan.handle(CH, approved("c1", not_before=T0 + timedelta(minutes=1)), T0)
    fx = plan.fire(T0 + timedelta(hours=1))  # the scheduler was down for an hour
    assert fx.due == []
    assert fx.jobs[0].state is JobState.SCHEDULED
    assert fx.jobs[0].note is not None
    assert "re-planned" in fx.jobs[0].note


def test_the_retry_path_re_emits_the_job_at_retry_at(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    retry_at = T0 + timedelta(seconds=30)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, retry_at=retry_at), T0 + timedelta(seconds=1))
    assert states(fx) == [("c1:mastodon-demo", "retrying")]
    assert plan.fire(T0 + timedelta(seconds=29)).due == []
    due = plan.fire(retry_at + timedelta(seconds=0.2)).due
    assert [(d.job_id, d.attempt) for d in due] == [("c1:mastodon-demo", 2)]


def test_stale_outcomes_are_ignored(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, retry_at=T0), T0)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.FAILED, attempt=1), T0)
    assert fx.jobs == []


def test_publishing_schedules_engagement_measurements(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.PUBLISHED, post_id="9", url="https://m/9"), T0)
    hours = [1, 6, 24]
    for h in hours:
        due = plan.fire(T0 + timedelta(hours=h, seconds=1)).due
        assert [(d.purpose, d.horizon_minutes, d.post_id) for d in due] == [("measure", h * 60, "9")]


def test_engagement_is_learned_by_the_channel(plan: Plan) -> None:
    event = EngagementObserved(
        event_id="g",
        occurred_at=T0,
        job_id="c1:mastodon-demo",
        content_id="c1",
        channel=CH,
        platform="mastodon",
        published_at=T0,
        horizon_minutes=60,
        reactions=4,
        comments=0,
        shares=1,
    )
    assert len(plan.handle(CH, event, T0).channels) == 1


def test_a_channel_that_needs_reauth_parks_its_jobs(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.NEEDS_REAUTH), T0)
    assert fx.channels[0].needs_reauth
    plan.handle(CH, approved("c2"), T0)
    assert plan.fire(T0 + timedelta(seconds=1)).due == []
    fx = plan.handle(CH, control(ControlAction.RESUME, channels=(CH,)), T0 + timedelta(minutes=1))
    assert ("c2:mastodon-demo", "scheduled") in states(fx)


def test_a_reconnect_replans_the_parked_jobs_once_and_keeps_an_operators_pause(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.NEEDS_REAUTH), T0)
    plan.handle(CH, approved("c2"), T0)
    assert plan.fire(T0 + timedelta(seconds=1)).due == []
    later = T0 + timedelta(minutes=1)
    fx = plan.handle(CH, control(ControlAction.RECONNECTED, channels=(CH,)), later)
    assert not fx.channels[0].needs_reauth
    replanned = fx
    assert sorted(states(fx)) == [("c1:mastodon-demo", "scheduled"), ("c2:mastodon-demo", "scheduled")]
    assert {j.attempt for j in fx.jobs if j.job_id == "c1:mastodon-demo"} == {2}
    # The announcement again (a second worker, a redelivery): nothing is parked, nothing moves.
    assert plan.handle(CH, control(ControlAction.RECONNECTED, channels=(CH,)), later).jobs == []
    slots = sorted(j.slot for j in replanned.jobs if j.slot is not None)
    due = [d.job_id for slot in slots for d in plan.fire(slot + timedelta(seconds=1)).due]
    assert sorted(due) == ["c1:mastodon-demo", "c2:mastodon-demo"]
    # A reconnect lifts the re-authorisation park only: a person's pause stays.
    plan.handle(CH, approved("c3"), later)
    plan.handle(CH, control(ControlAction.PAUSE, channels=(CH,)), later)
    fx = plan.handle(CH, control(ControlAction.RECONNECTED, channels=(CH,)), later)
    assert fx.channels[0].paused
    assert plan.fire(slots[-1] + timedelta(days=2)).due == []


def test_unknown_channels_are_reported_not_crashed(plan: Plan) -> None:
    fx = plan.handle("nope", approved("c1"), T0)
    assert "unknown channel" in fx.notes[0]


def test_a_restored_plan_fires_what_the_old_one_would(store: JobStore) -> None:
    first = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    fx = first.handle(CH, approved("c1", not_before=T0 + timedelta(minutes=5)), T0)
    second = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)
    from services.scheduler.planner import restore_row
    from shared.codec import encode

    rows = [restore_row(encode(j), 0) for j in fx.jobs]
    store.put_raw([r for r in rows if r is not None])
    second.index_restored([0])
    assert [d.job_id for d in second.fire(T0 + timedelta(minutes=5, seconds=1)).due] == ["c1:mastodon-demo"]


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        (JobState.SCHEDULED, JobState.DUE, True),
        (JobState.SCHEDULED, JobState.WITHDRAWN, True),
        (JobState.DUE, JobState.WITHDRAWN, False),
        (JobState.PUBLISHED, JobState.RETRYING, False),
        (JobState.UNCONFIRMED, JobState.PUBLISHED, True),
        (JobState.WITHDRAWN, JobState.SCHEDULED, False),
        (JobState.PAUSED, JobState.SCHEDULED, True),
    ],
)
def test_the_lifecycle_table(old: JobState, new: JobState, allowed: bool) -> None:
    assert can(old, new) is allowed
    if not allowed:
        with pytest.raises(IllegalTransition, match=f"{old.value} → {new.value}"):
            check("j", old, new)


def test_a_job_that_cannot_fit_is_reported_at_planning_time(plan: Plan) -> None:
    late = approved("c1", not_before=T0 + timedelta(hours=2))
    late = late.model_copy(update={"deadline": T0 + timedelta(hours=1)})
    fx = plan.handle(CH, late, T0)
    assert states(fx) == [("c1:mastodon-demo", "unschedulable")]
    assert [(o.status, o.error.code if o.error else None) for o in fx.outcomes] == [
        (OutcomeStatus.UNSCHEDULABLE, "deadline")
    ]
    assert plan.handle(CH, fx.outcomes[0], T0).jobs == []  # its own report, routed back, changes nothing


GROUPED = ChannelDirectory(
    channels=(
        Channel(id="ig-pemprov", platform="instagram", timezone="Asia/Makassar", group="kaltim", rank=0),
        Channel(id="ig-gubernur", platform="instagram", timezone="Asia/Makassar", group="kaltim", rank=1),
        Channel(id="x-wagub", platform="x", timezone="Asia/Makassar", group="kaltim", rank=2),
    )
)


def test_the_official_account_posts_a_topic_before_the_leaders(store: JobStore) -> None:
    from services.scheduler.router import route

    plan = Plan(GROUPED, NaiveChooser(), PlanSettings(), store=store)
    item = approved("c1", channels=("ig-pemprov", "ig-gubernur", "x-wagub"))
    assert states(plan.handle("ig-pemprov", item, T0)) == [("c1:ig-pemprov", "scheduled")]
    leader = plan.handle("ig-gubernur", item, T0).jobs[0]
    assert (leader.state, leader.waits_for) == (JobState.WAITING, ("ig-pemprov",))
    assert plan.handle("x-wagub", item, T0).jobs[0].waits_for == ("ig-pemprov", "ig-gubernur")
    assert [d.channel for d in plan.fire(T0 + timedelta(seconds=1)).due] == ["ig-pemprov"]

    published = PublishOutcome(
        event_id="o1",
        occurred_at=T0 + timedelta(minutes=2),
        job_id="c1:ig-pemprov",
        content_id="c1",
        channel="ig-pemprov",
        platform="instagram",
        attempt=1,
        status=OutcomeStatus.PUBLISHED,
        post_id="1",
    )
    assert route(published, GROUPED) == ["ig-pemprov", "ig-gubernur", "x-wagub"]
    released = plan.handle("ig-gubernur", published, T0 + timedelta(minutes=2)).jobs[-1]
    assert released.state is JobState.SCHEDULED
    assert released.slot is not None
    assert released.slot >= published.occurred_at
    still = plan.handle("x-wagub", published, T0 + timedelta(minutes=2)).jobs[-1]
    assert (still.state, still.waits_for) == (JobState.WAITING, ("ig-gubernur",))


def test_learning_moves_scheduled_jobs_through_the_policy() -> None:
    from services.scheduler.chooser import NaiveChooser

    class Mover(NaiveChooser):
        def replan(self, jobs, channel, fixed, now):  # type: ignore[no-untyped-def]
            from shared.events import SlotExplanation

            return [SlotExplanation(chosen=j.slot + timedelta(hours=1), reason="better later") for j in jobs]

    plan = Plan(DIRECTORY, Mover(), PlanSettings(), store=MemoryJobStore())
    plan.handle(CH, approved("c1", not_before=T0 + timedelta(hours=3)), T0)
    event = EngagementObserved(
        event_id="g",
        occurred_at=T0,
        job_id="old:mastodon-demo",
        content_id="old",
        channel=CH,
        platform="mastodon",
        published_at=T0 - timedelta(hours=1),
        horizon_minutes=60,
        reactions=4,
        comments=0,
        shares=1,
    )
    moved = [j for j in plan.handle(CH, event, T0).jobs if j.job_id == "c1:mastodon-demo"]
    assert moved[0].slot == T0 + timedelta(hours=4)
    assert plan.handle(CH, event, T0 + timedelta(minutes=30)).jobs == []  # at most hourly


def test_a_new_job_can_move_a_planned_one_through_the_policy(store: JobStore) -> None:
    class MakesRoom(NaiveChooser):
        def place(self, ask: SlotAsk, pending: Sequence[JobPlanned]) -> tuple[SlotExplanation, Moves]:
            moved: Moves = [
                SlotExplanation(chosen=j.slot + timedelta(days=1), reason="room")
                for j in pending
                if j.slot is not None
            ]
            return SlotExplanation(chosen=pending[0].slot, reason="its evening"), moved

    plan = Plan(DIRECTORY, MakesRoom(), PlanSettings(), store=store)
    first = plan.handle(CH, approved("c1", not_before=T0 + timedelta(hours=9)), T0).jobs[0]
    assert first.slot == T0 + timedelta(hours=9)
    fx = plan.handle(CH, approved("c2"), T0 + timedelta(minutes=1))
    by_id = {j.job_id: j for j in fx.jobs}
    assert by_id["c1:mastodon-demo"].slot == T0 + timedelta(hours=33)
    assert by_id["c2:mastodon-demo"].slot == T0 + timedelta(hours=9)
    assert plan.job("c1:mastodon-demo").slot == T0 + timedelta(hours=33)  # type: ignore[union-attr]
    # the moved job fires at its new slot only
    assert [d.job_id for d in plan.fire(T0 + timedelta(hours=9, seconds=1)).due] == ["c2:mastodon-demo"]


def test_under_a_daily_cap_of_one_the_real_policy_keeps_every_job_feasible() -> None:
    from services.scheduler.policy_chooser import PolicyChooser

    capped = ChannelDirectory(
        channels=(Channel(id=CH, platform="mastodon", timezone="Asia/Makassar", max_posts_per_day=1),)
    )
    plan = Plan(capped, PolicyChooser(), PlanSettings(), store=MemoryJobStore())
    for n in range(4):
        item = approved(f"c{n}", at=T0 + timedelta(minutes=n))
        item = item.model_copy(update={"deadline": T0 + timedelta(days=3)})
        plan.handle(CH, item, T0 + timedelta(minutes=n))
    jobs = [plan.job(f"c{n}:mastodon-demo") for n in range(4)]
    slots = sorted(j.slot for j in jobs if j is not None and j.slot is not None)
    days = [(s + timedelta(hours=8)).date() for s in slots]  # local days in WITA
    assert len(days) == len(set(days)), "two posts on one local day under a cap of one"
    assert all(T0 <= s <= T0 + timedelta(days=3) for s in slots)


def _decided(content_id: str, action: OperatorAction, attempt: int = 1, at: datetime = T0) -> OperatorDecided:
    return OperatorDecided(
        event_id=f"d-{content_id}-{action}",
        occurred_at=at,
        job_id=f"{content_id}:{CH}",
        content_id=content_id,
        channel=CH,
        platform="mastodon",
        attempt=attempt,
        actor="opa",
        action=action,
        reason="seen on the channel: gone",
    )


def test_an_operators_retry_of_an_unconfirmed_job_re_emits_it_and_keeps_the_platforms_error(
    plan: Plan,
) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    said = PlatformError(code="timeout", message="no answer")
    plan.handle(CH, outcome("c1", OutcomeStatus.UNCONFIRMED, error=said), T0)
    later = T0 + timedelta(minutes=5)
    fx = plan.handle(CH, _decided("c1", OperatorAction.RETRY, at=later), later)
    assert states(fx) == [("c1:mastodon-demo", "retrying")]
    assert fx.jobs[0].last_error == said
    due = plan.fire(later + timedelta(seconds=1)).due
    assert [(d.job_id, d.attempt) for d in due] == [("c1:mastodon-demo", 2)]


def test_a_decision_on_an_earlier_attempt_is_stale(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, retry_at=T0), T0)
    assert plan.handle(CH, _decided("c1", OperatorAction.DISCARD, attempt=1), T0).jobs == []


def test_a_decision_reaches_the_channels_its_outcome_would() -> None:
    from services.scheduler.router import route

    decision = _decided("c1", OperatorAction.MARK_PUBLISHED).model_copy(
        update={"channel": "ig-pemprov", "job_id": "c1:ig-pemprov"}
    )
    assert route(decision, GROUPED) == ["ig-pemprov", "ig-gubernur", "x-wagub"]

"""The plan under commands it cannot honour: far-future instants, and commands that raise half-way.

A far-future ``not_before`` or ``deadline`` (year 9999 once overflowed the plan's date arithmetic and
crashed the scheduler in a loop; the event model now refuses it, and anything it lets through up to 2200 that lies past the plan's horizon) makes the job unschedulable with its reason. A command that
raises after it changed some jobs leaves the plan exactly as before it, so the planner can
dead-letter it and the next commands meet a plan they can trust.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.ingest.settings import IngestSettings
from services.scheduler.chooser import NaiveChooser, SlotAsk
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.settings import SchedulerSettings
from services.scheduler.store import JobStore
from shared.events import (
    ControlAction,
    ControlIssued,
    JobState,
    OutcomeStatus,
    Priority,
    SlotExplanation,
)
from shared.horizon import DEFAULT_HORIZON
from tests.unit.test_plan import CH, DIRECTORY, T0, approved

FAR = datetime(2199, 12, 31, 23, 0, tzinfo=UTC)  # inside the event model's range, far past the plan's horizon


class PoisonedChooser(NaiveChooser):
    """Raises for the jobs it is told are poisoned, like a chooser with a bug for one input."""

    def __init__(self) -> None:
        self.poisoned: set[str] = set()

    def choose(self, ask: SlotAsk) -> SlotExplanation:
        if ask.job.job_id in self.poisoned:
            raise ArithmeticError(f"cannot place {ask.job.job_id}")
        return super().choose(ask)


@pytest.mark.parametrize("chooser", [NaiveChooser, PolicyChooser])
@pytest.mark.parametrize("priority", [Priority.NORMAL, Priority.URGENT])
@pytest.mark.parametrize("field", ["not_before", "deadline"])
def test_a_year_2199_instant_makes_the_job_unschedulable_with_its_reason(
    chooser: type[NaiveChooser | PolicyChooser], priority: Priority, field: str
) -> None:
    plan = Plan(DIRECTORY, chooser(), PlanSettings())
    event = approved("far", priority=priority).model_copy(update={field: FAR})

    fx = plan.handle(CH, event, T0)

    (job,) = fx.jobs
    assert job.state is JobState.UNSCHEDULABLE
    assert job.explanation is not None
    assert job.explanation.binding_constraint == field
    assert "2199-12-31" in job.explanation.reason
    assert "days ahead" in job.explanation.reason
    (report,) = fx.outcomes
    assert report.status is OutcomeStatus.UNSCHEDULABLE
    assert report.error is not None
    assert report.error.code == field
    # The channel goes on: the next item is planned as usual.
    nxt = plan.handle(CH, approved("next"), T0)
    assert [j.state for j in nxt.jobs] == [JobState.SCHEDULED]


def test_an_instant_inside_the_horizon_is_planned() -> None:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(horizon=timedelta(days=30)))
    inside = plan.handle(CH, approved("in", not_before=T0 + timedelta(days=29)), T0)
    outside = plan.handle(CH, approved("out", not_before=T0 + timedelta(days=31)), T0)
    assert inside.jobs[0].slot == T0 + timedelta(days=29)
    assert outside.jobs[0].state is JobState.UNSCHEDULABLE


@pytest.mark.parametrize("field", ["not_before", "deadline"])
def test_what_ingest_refuses_as_too_far_the_scheduler_does_not_plan_either(
    field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One horizon: the scheduler's plan settings come from the same setting as ingest's check."""
    monkeypatch.setenv("WARTA_SCHEDULE_HORIZON_DAYS", "30")
    ingest, scheduler = IngestSettings(), SchedulerSettings()
    assert scheduler.plan_settings().horizon == ingest.schedule_horizon == timedelta(days=30)
    plan = Plan(DIRECTORY, PolicyChooser(), scheduler.plan_settings())
    inside = approved("in").model_copy(update={field: T0 + timedelta(days=29)})
    past = approved("past").model_copy(update={field: T0 + timedelta(days=31)})

    assert plan.handle(CH, inside, T0).jobs[0].state is JobState.SCHEDULED
    (job,) = plan.handle(CH, past, T0).jobs
    assert job.state is JobState.UNSCHEDULABLE
    assert job.explanation is not None
    assert "more than 30 days ahead" in job.explanation.reason


def test_the_default_horizon_is_ingests_default() -> None:
    # A deadline 500 days out once passed ingest's 400-day check nowhere but sat in a 10-year plan.
    assert PlanSettings().horizon == DEFAULT_HORIZON == timedelta(days=400)
    plan = Plan(DIRECTORY, PolicyChooser(), PlanSettings())
    event = approved("far").model_copy(update={"deadline": T0 + timedelta(days=500)})
    assert plan.handle(CH, event, T0).jobs[0].state is JobState.UNSCHEDULABLE


def test_a_command_that_raises_half_way_leaves_the_plan_as_it_was(store: JobStore) -> None:
    chooser = PoisonedChooser()
    plan = Plan(DIRECTORY, chooser, PlanSettings(), store=store)
    later = T0 + timedelta(hours=3)
    (old,) = plan.handle(CH, approved("old", not_before=later, topic_key="k"), T0).jobs
    taken_before = list(plan.channel_plan(CH).taken)  # type: ignore[union-attr]

    # The newer version first supersedes "old" (a change to the plan), then fails to be placed.
    chooser.poisoned.add(f"new:{CH}")
    newer = approved("new", at=T0 + timedelta(minutes=1), not_before=later, topic_key="k")
    with pytest.raises(ArithmeticError):
        plan.handle(CH, newer, T0)

    assert plan.job(old.job_id) == old  # not superseded
    assert plan.job(f"new:{CH}") is None
    assert store.ref_of(f"new:{CH}") is None
    assert list(plan.channel_plan(CH).taken) == taken_before  # type: ignore[union-attr]
    # The old job still fires at its slot, once.
    fired = plan.fire(later)
    assert [d.job_id for d in fired.due] == [old.job_id]

    # After the fix, the same command (a replay of the dead letter) is planned normally.
    chooser.poisoned.clear()
    fx = plan.handle(CH, newer, T0 + timedelta(minutes=5))
    assert {j.job_id: j.state for j in fx.jobs} == {f"new:{CH}": JobState.SCHEDULED}


def test_a_resume_that_raises_keeps_the_channel_paused(store: JobStore) -> None:
    chooser = PoisonedChooser()
    plan = Plan(DIRECTORY, chooser, PlanSettings(), store=store)

    def control(action: ControlAction, n: int) -> ControlIssued:
        return ControlIssued(
            event_id=f"c{n}", occurred_at=T0, action=action, channels=(CH,), by="ops", reason="test"
        )

    plan.handle(CH, control(ControlAction.PAUSE, 1), T0)
    (held,) = plan.handle(CH, approved("held"), T0).jobs
    assert held.state is JobState.PAUSED

    chooser.poisoned.add(held.job_id)
    with pytest.raises(ArithmeticError):
        plan.handle(CH, control(ControlAction.RESUME, 2), T0)
    channel = plan.channel_plan(CH)
    assert channel is not None
    assert channel.paused
    assert channel.pause_reason == "test"
    assert plan.job(held.job_id) == held


def test_a_job_whose_firing_raises_is_parked_with_the_error_and_the_others_fire(store: JobStore) -> None:
    chooser = PoisonedChooser()
    plan = Plan(DIRECTORY, chooser, PlanSettings(), store=store)
    slot = T0 + timedelta(minutes=5)
    (late,) = plan.handle(CH, approved("late", not_before=slot), T0).jobs
    (other,) = plan.handle(CH, approved("other", not_before=slot), T0).jobs

    # Ten minutes past the slot: both are re-planned, not burst; re-planning "late" raises.
    chooser.poisoned.add(late.job_id)
    fx = plan.fire(slot + timedelta(minutes=10))

    by_id = {j.job_id: j for j in fx.jobs}
    assert by_id[late.job_id].state is JobState.UNSCHEDULABLE
    explanation = by_id[late.job_id].explanation
    assert explanation is not None
    assert "could not be fired: ArithmeticError" in explanation.reason
    assert by_id[other.job_id].state is JobState.SCHEDULED
    assert [o.job_id for o in fx.outcomes] == [late.job_id]  # reported, so it shows in the status
    assert plan.job(late.job_id) == by_id[late.job_id]

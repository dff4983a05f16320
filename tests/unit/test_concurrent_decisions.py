"""Two people deciding on the same view of a job: only the first decision in the log takes effect.

The console orders decisions by reading them back (``DecisionOrder``); the scheduler applies a
decision only while the record it was judged on is the job's current one. Together: whatever two
consoles answered, a discard followed by a retry of the same unconfirmed job (the pair that sent
a discarded post after all) settles the job once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.console.actions import ActionRequest, operator_decision
from services.console.claims import DecisionOrder
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.store import JobStore
from shared.events import JobState, OperatorAction, OperatorDecided, OutcomeStatus
from shared.operator_decisions import judged_basis, still_applies
from tests.unit.test_plan import CH, DIRECTORY, T0, approved, outcome

JOB = f"c1:{CH}"


@pytest.fixture
def plan(store: JobStore) -> Plan:
    return Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)


def _unconfirmed(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.UNCONFIRMED), T0)


def _decide(plan: Plan, action: OperatorAction, by: str, n: int) -> OperatorDecided:
    job = plan.job(JOB)
    assert job is not None
    url = "https://m.example/@warta/1" if action is OperatorAction.MARK_PUBLISHED else None
    return operator_decision(job, ActionRequest(action, by, "checked", url), T0, f"d{n}")


@pytest.mark.parametrize(
    ("first", "second", "ends"),
    [
        (OperatorAction.DISCARD, OperatorAction.RETRY, JobState.FAILED),
        (OperatorAction.RETRY, OperatorAction.DISCARD, JobState.RETRYING),
        (OperatorAction.MARK_PUBLISHED, OperatorAction.RETRY, JobState.PUBLISHED),
        (OperatorAction.DISCARD, OperatorAction.MARK_PUBLISHED, JobState.FAILED),
    ],
)
def test_of_two_decisions_judged_on_one_record_only_the_first_takes_effect(
    plan: Plan, first: OperatorAction, second: OperatorAction, ends: JobState
) -> None:
    _unconfirmed(plan)
    a, b = _decide(plan, first, "opa", 1), _decide(plan, second, "tia", 2)  # both saw it unconfirmed
    assert a.judged == b.judged
    applied = plan.handle(CH, a, T0 + timedelta(seconds=1))
    assert [j.state for j in applied.jobs] == [ends]
    later = plan.handle(CH, b, T0 + timedelta(seconds=2))
    assert later.jobs == []
    assert "judged on an earlier state" in later.notes[0]
    job = plan.job(JOB)
    assert job is not None
    assert job.state is ends
    assert [d.attempt for d in plan.fire(T0 + timedelta(minutes=1)).due] == (
        [2] if ends is JobState.RETRYING else []
    )


def test_a_decision_on_the_current_state_and_an_older_one_naming_none_still_apply(plan: Plan) -> None:
    _unconfirmed(plan)
    job = plan.job(JOB)
    assert job is not None
    decision = _decide(plan, OperatorAction.DISCARD, "opa", 1)
    assert decision.judged == judged_basis(job) == "unconfirmed@1"
    assert still_applies(decision, job)
    assert still_applies(decision.model_copy(update={"judged": None}), job)  # written before it
    assert not still_applies(decision.model_copy(update={"judged": "failed@1"}), job)


def test_the_log_order_names_the_first_decision_per_record(plan: Plan) -> None:
    _unconfirmed(plan)
    order = DecisionOrder(timedelta(minutes=2))
    a, b = _decide(plan, OperatorAction.DISCARD, "opa", 1), _decide(plan, OperatorAction.RETRY, "tia", 2)
    order.seen(a)
    order.seen(b)
    assert order.first(b) == a
    assert order.first(a) == a
    order.expire(T0 + timedelta(minutes=1))
    assert len(order) == 1
    order.expire(T0 + timedelta(minutes=2))
    assert len(order) == 0


def test_a_redelivered_outcome_rewriting_the_record_does_not_void_a_decision(plan: Plan) -> None:
    _unconfirmed(plan)
    decision = _decide(plan, OperatorAction.DISCARD, "opa", 1)
    plan.handle(CH, outcome("c1", OutcomeStatus.UNCONFIRMED), T0)  # the same outcome again
    fx = plan.handle(CH, decision, T0 + timedelta(seconds=1))
    assert [j.state for j in fx.jobs] == [JobState.FAILED]

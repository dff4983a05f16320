"""A plan restored from a changelog that lost a job's ``due`` record still settles the job.

The job went out (its ``JobDue`` is on the broker), so its outcomes arrive for an attempt the
restored plan still holds as scheduled. They must move the job on, not be dropped: dropped, the
job re-fired the same attempt, the publisher's ledger skipped it, and it stayed due for good.
"""

from __future__ import annotations

from datetime import timedelta

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.store import JobStore
from shared.codec import encode
from shared.events import ControlAction, JobPlanned, JobState, OutcomeStatus
from tests.unit.test_plan import CH, DIRECTORY, T0, approved, control, outcome

JOB = f"c1:{CH}"


def restored(store: JobStore, records: list[JobPlanned]) -> Plan:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)
    rows = [restore_row(encode(r), 0) for r in records]
    store.put_raw([r for r in rows if r is not None])
    plan.index_restored([0])
    return plan


def fired_but_not_recorded(store: JobStore) -> Plan:
    """The old crash: ``JobDue`` written, the ``due`` plan record not."""
    first = Plan(DIRECTORY, NaiveChooser(), PlanSettings())
    planned = first.handle(CH, approved("c1"), T0).jobs
    fx = first.fire(T0)
    assert [d.attempt for d in fx.due] == [1]
    assert fx.jobs[0].state is JobState.DUE
    return restored(store, planned)


def test_a_retry_of_an_attempt_the_plan_lost_is_acted_on(store: JobStore) -> None:
    plan = fired_but_not_recorded(store)
    retry_at = T0 + timedelta(seconds=30)
    plan.handle(CH, outcome("c1", OutcomeStatus.ATTEMPTED), T0)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, retry_at=retry_at), T0)
    assert [(j.state, j.attempt) for j in fx.jobs] == [(JobState.RETRYING, 2)]
    due = plan.fire(retry_at + timedelta(seconds=1)).due
    assert [(d.job_id, d.attempt) for d in due] == [(JOB, 2)]


def test_a_re_fire_answered_with_the_settled_outcome_ends_the_job(store: JobStore) -> None:
    plan = fired_but_not_recorded(store)
    assert [d.attempt for d in plan.fire(T0 + timedelta(seconds=1)).due] == [1]  # same attempt again
    # The publisher's ledger already settled attempt 1 and answers the redelivery with it.
    plan.handle(CH, outcome("c1", OutcomeStatus.PUBLISHED, post_id="9"), T0 + timedelta(seconds=2))
    job = plan.job(JOB)
    assert job is not None
    assert job.state is JobState.PUBLISHED


def test_a_failure_of_a_lost_attempt_fails_the_job_instead_of_re_firing_it(store: JobStore) -> None:
    plan = fired_but_not_recorded(store)
    plan.handle(CH, outcome("c1", OutcomeStatus.FAILED), T0)
    assert plan.fire(T0 + timedelta(minutes=1)).due == []
    job = plan.job(JOB)
    assert job is not None
    assert job.state is JobState.FAILED


def test_after_re_authorisation_a_parked_job_fires_a_new_attempt(store: JobStore) -> None:
    # The ledger settled attempt 1 as needs-reauth: firing attempt 1 again would be skipped.
    plan = restored(store, [])
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.NEEDS_REAUTH), T0)
    plan.handle(CH, control(ControlAction.RESUME, channels=(CH,)), T0 + timedelta(minutes=1))
    due = plan.fire(T0 + timedelta(minutes=2)).due
    assert [(d.job_id, d.attempt) for d in due] == [(JOB, 2)]
    # A duplicate of the parking outcome is stale now and cannot park the new attempt.
    assert plan.handle(CH, outcome("c1", OutcomeStatus.NEEDS_REAUTH), T0).jobs == []

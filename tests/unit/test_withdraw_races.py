"""A withdrawal is never lost to the order things happen in — over both job stores.

A withdrawal that meets a job in a publisher's hands (due, attempted) or waiting for a person
(unconfirmed, failed, dead) stays on the job and ends it as it comes back to the scheduler; one
that overtakes its approval waits in the channel's record for it. A job withdrawn or replaced
whose attempt may be on the platform is looked up before it ends. Crafted event sequences through
the real plan (services/scheduler/withdrawals.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.store import JobStore
from services.scheduler.store_memory import MemoryJobStore
from shared.channel_events import MAX_WITHDRAWALS_REMEMBERED
from shared.codec import encode
from shared.events import (
    ChannelStateRecorded,
    ControlAction,
    ControlIssued,
    JobPlanned,
    JobState,
    OperatorAction,
    OutcomeStatus,
    PlatformError,
)
from shared.operator_decisions import judged_basis
from tests.unit.test_plan import CH, DIRECTORY, T0, _decided, approved, outcome
from tests.unit.test_supersession import v1_in_flight_then_v2

JOB = f"c1:{CH}"
BUSY = PlatformError(code="server_error", message="503 from the platform")
REVOKED = PlatformError(code="invalid_grant", message="revoked")
DAY = timedelta(days=1)


@pytest.fixture
def plan(store: JobStore) -> Plan:
    return Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)


def withdraw(content_id: str, at: datetime) -> ControlIssued:
    return ControlIssued(
        event_id=f"w-{content_id}-{at.timestamp()}",
        occurred_at=at,
        action=ControlAction.WITHDRAW,
        content_id=content_id,
        channels=(CH,),
        by="opa",
        reason="wrong figures",
    )


def reconnected(at: datetime) -> ControlIssued:
    return ControlIssued(
        event_id=f"r-{at.timestamp()}",
        occurred_at=at,
        action=ControlAction.RECONNECTED,
        channels=(CH,),
        by="system",
        reason="connected again",
    )


def fired(plan: Plan, start: datetime, end: datetime) -> list[str]:
    """Fire minute by minute from ``start`` to ``end``: the job ids handed to a publisher."""
    out, t = [], start
    while t <= end:
        out += [d.job_id for d in plan.fire(t).due if d.purpose == "publish"]
        t += timedelta(minutes=1)
    return out


def state(plan: Plan, job_id: str = JOB) -> JobState:
    job = plan.job(job_id)
    assert job is not None
    return job.state


def in_flight_then_withdrawn(plan: Plan) -> datetime:
    """c1 handed to the publisher, then withdrawn while its call runs. Returns then."""
    plan.handle(CH, approved("c1"), T0)
    assert [d.job_id for d in plan.fire(T0 + timedelta(seconds=1)).due] == [JOB]
    at = T0 + timedelta(seconds=2)
    fx = plan.handle(CH, withdraw("c1", at), at)
    assert [(j.job_id, j.state) for j in fx.jobs] == [(JOB, JobState.DUE)]  # the attempt can't be recalled
    return at


def restarted(plan: Plan, channel_record: ChannelStateRecorded | None = None) -> Plan:
    """A new plan restored from ``plan``'s job records (and a channel record), as after a restart."""
    again = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    jobs = [j for j in (plan.job(JOB),) if j is not None]
    again.store.put_raw([row for row in (restore_row(encode(j), 0) for j in jobs) if row is not None])
    again.index_restored([0])
    if channel_record is not None:
        again.restore_channel(channel_record)
    return again


# ---- a withdrawal that meets a job in a publisher's hands -------------------------------------


@pytest.mark.parametrize("deferred", [False, True])
def test_a_withdrawal_while_due_ends_the_job_at_the_publishers_retry(plan: Plan, deferred: bool) -> None:
    at = in_flight_then_withdrawn(plan)
    retry = outcome("c1", OutcomeStatus.RETRY, at=at, error=BUSY, retry_at=at + timedelta(minutes=1))
    fx = plan.handle(CH, retry.model_copy(update={"deferred": deferred}), at)
    assert [j.state for j in fx.jobs] == [JobState.RETRYING, JobState.WITHDRAWN]
    assert "wrong figures" in (fx.jobs[-1].note or "")
    assert fired(plan, at, at + DAY) == []


def test_a_withdrawal_while_due_ends_the_job_parked_for_re_authorisation(plan: Plan) -> None:
    at = in_flight_then_withdrawn(plan)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.NEEDS_REAUTH, at=at, error=REVOKED), at)
    assert [j.state for j in fx.jobs] == [JobState.NEEDS_REAUTH, JobState.WITHDRAWN]
    later = at + timedelta(minutes=5)
    assert plan.handle(CH, reconnected(later), later).jobs == []
    assert fired(plan, later, later + DAY) == []


def test_the_withdrawal_on_a_job_survives_a_restart(plan: Plan) -> None:
    at = in_flight_then_withdrawn(plan)
    again = restarted(plan)
    retry = outcome("c1", OutcomeStatus.RETRY, at=at, error=BUSY, retry_at=at + timedelta(minutes=1))
    assert again.handle(CH, retry, at).jobs[-1].state is JobState.WITHDRAWN
    assert fired(again, at, at + DAY) == []


@pytest.mark.parametrize("settled", [OutcomeStatus.FAILED, OutcomeStatus.DEAD])
def test_a_withdrawn_job_a_person_retries_ends_withdrawn(plan: Plan, settled: OutcomeStatus) -> None:
    """An operator's Retry, or a dead letter replayed (the console sends the same decision)."""
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", settled, error=BUSY), T0)
    plan.handle(CH, withdraw("c1", T0), T0)
    later = T0 + timedelta(hours=1)
    fx = plan.handle(CH, _decided("c1", OperatorAction.RETRY, at=later), later)
    assert [j.state for j in fx.jobs] == [JobState.RETRYING, JobState.WITHDRAWN]
    assert fx.due == []
    assert fired(plan, later, later + DAY) == []


def test_published_by_the_attempt_under_way_it_stays_published_and_says_so(plan: Plan) -> None:
    at = in_flight_then_withdrawn(plan)
    fx = plan.handle(CH, outcome("c1", OutcomeStatus.PUBLISHED, at=at, post_id="p1"), at)
    assert [j.state for j in fx.jobs] == [JobState.PUBLISHED]
    assert "already published on this channel" in (fx.jobs[0].note or "")


def test_a_withdrawal_of_a_published_job_says_the_post_stays(plan: Plan) -> None:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", OutcomeStatus.PUBLISHED, post_id="p1"), T0)
    fx = plan.handle(CH, withdraw("c1", T0), T0)
    assert [j.state for j in fx.jobs] == [JobState.PUBLISHED]
    assert "a withdrawal deletes no post" in (fx.jobs[0].note or "")


def test_unanswered_look_ups_leave_a_withdrawn_job_to_a_person(plan: Plan) -> None:
    """The publisher could not tell whether its attempt is on the platform: not ended unproven,
    not tried again either."""
    at = in_flight_then_withdrawn(plan)
    retry = outcome("c1", OutcomeStatus.RETRY, at=at, error=BUSY, retry_at=at + timedelta(minutes=5))
    fx = plan.handle(CH, retry.model_copy(update={"reconcile_first": True}), at)
    assert [j.state for j in fx.jobs] == [JobState.UNCONFIRMED]
    assert "may be on the platform" in (fx.jobs[0].note or "")
    assert fired(plan, at, at + DAY) == []


# ---- a withdrawal that overtakes its approval ---------------------------------------------------


def test_a_withdrawal_read_before_its_approval_stores_the_job_withdrawn(plan: Plan) -> None:
    fx = plan.handle(CH, withdraw("c1", T0), T0)
    assert fx.jobs == []
    assert [set(c.withdrawals) for c in fx.channels] == [{"c1"}]
    later = T0 + timedelta(seconds=3)
    fx = plan.handle(CH, approved("c1", not_before=T0 + timedelta(hours=6)), later)
    assert [(j.job_id, j.state) for j in fx.jobs] == [(JOB, JobState.WITHDRAWN)]
    assert "wrong figures" in (fx.jobs[0].note or "")
    assert [c.withdrawals for c in fx.channels] == [{}]  # applied, forgotten
    assert fired(plan, later, later + DAY) == []


def test_the_early_withdrawal_survives_a_restart(plan: Plan) -> None:
    snapshot = plan.handle(CH, withdraw("c1", T0), T0).channels[-1]
    again = restarted(plan, ChannelStateRecorded.model_validate_json(encode(snapshot)))
    fx = again.handle(CH, approved("c1"), T0 + timedelta(seconds=3))
    assert [j.state for j in fx.jobs] == [JobState.WITHDRAWN]


def test_early_withdrawals_are_bounded_by_age_and_number(plan: Plan) -> None:
    kept = PlanSettings().retention
    plan.handle(CH, withdraw("old", T0), T0)
    at = T0 + kept
    for i in range(MAX_WITHDRAWALS_REMEMBERED + 1):
        fx = plan.handle(CH, withdraw(f"w{i:04d}", at), at)
    remembered = fx.channels[-1].withdrawals
    assert len(remembered) == MAX_WITHDRAWALS_REMEMBERED
    assert "old" not in remembered  # too old
    assert "w0000" not in remembered  # the oldest of too many
    assert f"w{MAX_WITHDRAWALS_REMEMBERED:04d}" in remembered


def test_a_withdrawal_of_an_item_for_another_channel_plans_nothing_there(plan: Plan) -> None:
    plan.handle(CH, withdraw("c1", T0), T0)
    fx = plan.handle("x-demo", approved("c1", channels=("x-demo",)), T0)
    assert [(j.job_id, j.state) for j in fx.jobs] == [("c1:x-demo", JobState.SCHEDULED)]


# ---- a person's retry of an unconfirmed job that may no longer go out is a look-up -------------


def unconfirmed_then_retried(plan: Plan, why: str) -> tuple[datetime, JobPlanned]:
    """v1 in flight, replaced by v2 or withdrawn (``why``), comes back unconfirmed; a person
    retries it. Returns then and the due job."""
    if why == "superseded":
        v1_in_flight_then_v2(plan)
    else:
        plan.handle(CH, approved("v1"), T0)
        plan.fire(T0)
        plan.handle(CH, withdraw("v1", T0), T0)
    plan.handle(CH, outcome("v1", OutcomeStatus.UNCONFIRMED, error=BUSY), T0 + timedelta(seconds=10))
    job = plan.job(f"v1:{CH}")
    assert job is not None
    later = T0 + timedelta(hours=1)
    decision = _decided("v1", OperatorAction.RETRY, at=later).model_copy(update={"judged": judged_basis(job)})
    fx = plan.handle(CH, decision, later)
    assert [j.state for j in fx.jobs] == [JobState.RETRYING, JobState.DUE]  # as the lifecycle allows
    assert [(d.job_id, d.attempt) for d in fx.due] == [(f"v1:{CH}", 2)]
    # A deadline already past: the publisher looks the attempt up and sends nothing.
    assert fx.due[0].deadline is not None
    assert fx.due[0].deadline < T0 + timedelta(seconds=10)
    return later, fx.jobs[-1]


@pytest.mark.parametrize("why", ["superseded", "withdrawn"])
def test_found_by_the_look_up_it_is_published(plan: Plan, why: str) -> None:
    at, _ = unconfirmed_then_retried(plan, why)
    fx = plan.handle(CH, outcome("v1", OutcomeStatus.PUBLISHED, 2, at=at, post_id="p1"), at)
    assert [j.state for j in fx.jobs] == [JobState.PUBLISHED]


@pytest.mark.parametrize("why", ["superseded", "withdrawn"])
def test_proven_absent_by_the_look_up_it_ends(plan: Plan, why: str) -> None:
    at, _ = unconfirmed_then_retried(plan, why)
    passed = PlatformError(code="deadline_passed", message="the deadline passed")
    answer = outcome("v1", OutcomeStatus.RETRY, 2, at=at, error=passed, retry_at=at, deferred=True)
    fx = plan.handle(CH, answer, at)
    assert fx.jobs[-1].state.value == why
    assert f"v1:{CH}" not in fired(plan, at, at + DAY)


@pytest.mark.parametrize("why", ["superseded", "withdrawn"])
def test_still_unknown_after_the_look_up_it_waits_for_a_person(plan: Plan, why: str) -> None:
    at, _ = unconfirmed_then_retried(plan, why)
    fx = plan.handle(CH, outcome("v1", OutcomeStatus.UNCONFIRMED, 2, at=at, error=BUSY), at)
    assert [j.state for j in fx.jobs] == [JobState.UNCONFIRMED]

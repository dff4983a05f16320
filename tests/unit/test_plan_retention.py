"""Finished jobs leave the plan after the retention, and nothing brings a forgotten job back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.retention import PastRetention, expired, finished_at
from services.scheduler.store import JobStore, SqliteJobStore
from services.scheduler.store_memory import MemoryJobStore
from shared.codec import encode
from shared.events import ControlAction, JobState, OperatorAction, OperatorDecided, OutcomeStatus
from tests.unit.test_plan import CH, DIRECTORY, T0, approved, control, outcome

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@pytest.fixture
def plan(store: JobStore) -> Plan:
    # Engagement measured at +1 h only, so a published job is finished an hour after it went out.
    settings = PlanSettings(retention=WEEK, horizons=(timedelta(hours=1),))
    return Plan(DIRECTORY, NaiveChooser(), settings, store=store)


def _published(plan: Plan, content_id: str) -> None:
    plan.handle(CH, approved(content_id), T0)
    plan.fire(T0 + timedelta(minutes=10))
    plan.handle(CH, outcome(content_id, OutcomeStatus.PUBLISHED, post_id="p1", url="https://m/1"), T0)


def test_a_finished_job_is_forgotten_only_once_its_retention_has_passed(plan: Plan) -> None:
    _published(plan, "c1")
    job_id = f"c1:{CH}"
    measured = plan.fire(T0 + timedelta(hours=1, seconds=1))  # the one measurement: now finished
    assert [d.purpose for d in measured.due] == ["measure"]
    finished = plan.job(job_id)
    assert finished is not None
    assert finished_at(finished) == T0 + timedelta(hours=1, seconds=1)
    assert plan.forget_finished(T0 + timedelta(hours=1) + WEEK).forgotten == []
    fx = plan.forget_finished(T0 + timedelta(hours=1, seconds=2) + WEEK)
    assert [j.job_id for j in fx.forgotten] == [job_id]
    assert fx  # effects with only tombstones are still written
    assert plan.job(job_id) is None
    assert plan.forget_finished(T0 + 2 * WEEK).forgotten == []  # once


def test_jobs_still_moving_are_never_forgotten(plan: Plan) -> None:
    plan.handle(CH, approved("waiting", not_before=T0 + 30 * DAY), T0)  # scheduled a month ahead
    _published(plan, "measuring")  # its measurement never fired: not finished
    plan.handle(CH, approved("unsure"), T0)
    plan.fire(T0 + timedelta(minutes=10))
    plan.handle(CH, outcome("unsure", OutcomeStatus.UNCONFIRMED), T0)  # waits for a person
    assert plan.forget_finished(T0 + 20 * DAY).forgotten == []
    for content_id in ("waiting", "unsure"):
        assert plan.job(f"{content_id}:{CH}") is not None


@pytest.mark.parametrize(
    ("state", "finished"),
    [
        (JobState.PUBLISHED, True),
        (JobState.FAILED, True),
        (JobState.DEAD, True),
        (JobState.WITHDRAWN, True),
        (JobState.SUPERSEDED, True),
        (JobState.UNCONFIRMED, False),
        (JobState.SCHEDULED, False),
        (JobState.RETRYING, False),
        (JobState.DUE, False),
        (JobState.ATTEMPTED, False),
        (JobState.PAUSED, False),
        (JobState.UNSCHEDULABLE, False),
        (JobState.NEEDS_REAUTH, False),
    ],
)
def test_which_states_are_finished(plan: Plan, state: JobState, finished: bool) -> None:
    plan.handle(CH, approved("c1"), T0)
    job = plan.job(f"c1:{CH}")
    assert job is not None
    job = job.model_copy(update={"state": state})
    assert expired(job, T0 + WEEK, WEEK) is finished
    assert expired(job, T0 + WEEK - timedelta(seconds=1), WEEK) is False


def test_the_oldest_go_first_and_a_sweep_takes_at_most_its_limit(plan: Plan) -> None:
    for i in range(5):
        plan.handle(CH, approved(f"w{i}", not_before=T0 + DAY), T0 + i * timedelta(minutes=1))
        plan.handle(CH, control(ControlAction.WITHDRAW, f"w{i}"), T0 + i * timedelta(minutes=1))
    later = T0 + WEEK + timedelta(hours=1)
    first = plan.forget_finished(later, limit=2).forgotten
    assert [j.content_id for j in first] == ["w0", "w1"]
    assert [j.content_id for j in plan.forget_finished(later, limit=10).forgotten] == ["w2", "w3", "w4"]


def test_late_outcomes_and_decisions_for_a_forgotten_job_change_nothing(plan: Plan) -> None:
    _published(plan, "c1")
    plan.fire(T0 + timedelta(hours=2))
    now = T0 + 2 * WEEK
    assert plan.forget_finished(now).forgotten
    for late in (
        outcome("c1", OutcomeStatus.RETRY, retry_at=now),
        outcome("c1", OutcomeStatus.PUBLISHED, post_id="p1", url="https://m/1"),
    ):
        fx = plan.handle(CH, late, now)
        assert fx.jobs == []
        assert fx.due == []
    decision = OperatorDecided(
        event_id="d1",
        occurred_at=now,
        job_id=f"c1:{CH}",
        content_id="c1",
        channel=CH,
        platform="mastodon",
        attempt=1,
        actor="opa",
        action=OperatorAction.RETRY,
        reason="again",
    )
    assert plan.handle(CH, decision, now).jobs == []
    assert plan.job(f"c1:{CH}") is None
    assert plan.fire(now + DAY).due == []


def test_a_redelivered_approval_of_a_forgotten_job_is_refused_not_planned(plan: Plan) -> None:
    _published(plan, "c1")
    plan.fire(T0 + timedelta(hours=2))
    now = T0 + 2 * WEEK
    assert plan.forget_finished(now).forgotten
    with pytest.raises(PastRetention, match="retention"):
        plan.handle(CH, approved("c1"), now)  # the planner dead-letters it
    assert plan.job(f"c1:{CH}") is None
    assert plan.fire(now + DAY).due == []


def test_a_new_approval_within_the_retention_is_planned(plan: Plan) -> None:
    fx = plan.handle(CH, approved("fresh", at=T0), T0 + WEEK - timedelta(seconds=1))
    assert [j.state for j in fx.jobs] == [JobState.SCHEDULED]


def test_a_restored_plan_forgets_what_the_live_one_would(plan: Plan, store: JobStore) -> None:
    _published(plan, "measured")
    _published(plan, "measuring")
    plan.fire(T0 + timedelta(hours=1, seconds=1))  # both measured: both finished
    plan.handle(CH, approved("later", not_before=T0 + DAY), T0)
    plan.handle(CH, control(ControlAction.WITHDRAW, "later"), T0 + timedelta(hours=2))
    records = [j for j in (plan.job(f"{c}:{CH}") for c in ("measured", "measuring", "later")) if j]
    restored_store = type(store)() if isinstance(store, MemoryJobStore) else SqliteJobStore(":memory:")
    rows = [restore_row(encode(j), 0) for j in records]
    restored_store.put_raw([r for r in rows if r is not None])
    restored = Plan(DIRECTORY, NaiveChooser(), PlanSettings(retention=WEEK), store=restored_store)
    restored.channel_plan(CH)
    restored.index_restored([0])
    forgotten = []
    for now in (T0 + WEEK, T0 + WEEK + timedelta(hours=1, seconds=1), T0 + WEEK + timedelta(hours=2)):
        live = sorted(j.content_id for j in plan.forget_finished(now).forgotten)
        assert sorted(j.content_id for j in restored.forget_finished(now).forgotten) == live
        forgotten.append(live)
    assert forgotten == [[], ["measured", "measuring"], ["later"]]

"""A failed or dead job is settled by a person as an unconfirmed one is: retried, marked published
by hand, or discarded — through the scheduler's plan, into the console's view and the status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.console.actions import ActionRefused, ActionRequest, allowed_actions, operator_decision
from services.console.view import ConsoleView, job_json
from services.ingest.status_view import StatusView
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.store import JobStore
from shared.events import Event, JobPlanned, JobState, OperatorAction, OperatorDecided, OutcomeStatus
from shared.lifecycle import can
from tests.unit.test_plan import CH, DIRECTORY, T0, approved, outcome

JOB = f"c1:{CH}"
URL = "https://m.example/@warta/7"
A, P, F, D, R = OperatorAction, JobState.PUBLISHED, JobState.FAILED, JobState.DEAD, JobState.RETRYING


@pytest.mark.parametrize(
    ("old", "new", "by_platform", "by_operator"),
    [
        (F, P, False, True),  # posted by hand
        (D, P, False, True),
        (D, F, False, True),  # discarded
        (F, F, True, True),
        (F, R, True, True),
        (JobState.UNCONFIRMED, P, True, True),
        (P, F, False, False),  # published stays published, whoever asks
        (JobState.DUE, F, True, True),
        (JobState.WITHDRAWN, P, False, False),
    ],
)
def test_the_lifecycle_table_names_what_a_person_may_do(
    old: JobState, new: JobState, by_platform: bool, by_operator: bool
) -> None:
    assert (can(old, new), can(old, new, by_operator=True)) == (by_platform, by_operator)


def test_a_discarded_job_offers_what_is_left_to_decide() -> None:
    assert allowed_actions(F, decided=A.DISCARD) == [A.RETRY, A.MARK_PUBLISHED]
    assert allowed_actions(P, decided=A.MARK_PUBLISHED) == []


@pytest.fixture
def plan(store: JobStore) -> Plan:
    return Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)


def _settled(plan: Plan, status: OutcomeStatus) -> JobPlanned:
    plan.handle(CH, approved("c1"), T0)
    plan.fire(T0)
    plan.handle(CH, outcome("c1", status), T0)
    job = plan.job(JOB)
    assert job is not None
    return job


def _decide(job: JobPlanned, action: OperatorAction, by: str = "opa", n: int = 1) -> OperatorDecided:
    url = URL if action is A.MARK_PUBLISHED else None
    return operator_decision(job, ActionRequest(action, by, "tidak perlu lagi", url), T0, f"d{n}")


def test_a_discarded_dead_job_is_failed_seen_to_and_not_retried_by_a_rival_decision(plan: Plan) -> None:
    dead = _settled(plan, OutcomeStatus.DEAD)
    assert {a.value for a in allowed_actions(dead.state, dead.decided)} == {
        "retry",
        "mark_published",
        "discard",
    }
    discard, rival = _decide(dead, A.DISCARD), _decide(dead, A.RETRY, "tia", 2)  # two consoles at once
    fx = plan.handle(CH, discard, T0 + timedelta(seconds=1))
    assert [(j.state, j.decided) for j in fx.jobs] == [(F, A.DISCARD)]
    assert fx.jobs[0].note == "discard by opa: tidak perlu lagi"
    assert plan.handle(CH, rival, T0 + timedelta(seconds=2)).jobs == []  # judged on the dead job
    assert plan.fire(T0 + timedelta(minutes=5)).due == []

    console, status = ConsoleView(), StatusView()
    status.apply(approved("c1"))
    events: list[Event] = [dead, discard, *fx.jobs]
    for event in events:
        console.apply(event)
        status.apply(event)
    assert console.problems() == []  # seen to: off "needs attention" ...
    assert console.jobs_by_state()[(CH, "failed")] == 1  # ... still there by state
    assert console.recent_audit()[0].action == "discard"
    assert console.outcomes[("mastodon", "discarded")] == 1
    assert job_json(fx.jobs[0])["actions"] == ["retry", "mark_published"]
    item = status.find("c1")
    assert item is not None
    assert (item.channels[CH].state, item.channels[CH].note) == ("failed", "discard by opa: tidak perlu lagi")

    # A later retry, judged on the discarded job, applies: a person changed their mind.
    again = plan.handle(CH, _decide(fx.jobs[0], A.RETRY, n=3), T0 + timedelta(seconds=3))
    assert [(j.state, j.attempt, j.decided) for j in again.jobs] == [(R, 2, None)]


def test_a_failed_job_marked_published_by_hand_is_published_with_its_url(plan: Plan) -> None:
    failed = _settled(plan, OutcomeStatus.FAILED)
    fx = plan.handle(CH, _decide(failed, A.MARK_PUBLISHED), T0 + timedelta(seconds=1))
    assert [(j.state, j.url, j.post_id) for j in fx.jobs] == [(P, URL, None)]
    console = ConsoleView()
    console.apply(failed)
    assert [j.job_id for j in console.problems()] == [JOB]
    console.apply(fx.jobs[0])
    assert console.problems() == []


def test_a_discarded_job_is_not_discarded_twice() -> None:
    discarded = JobPlanned.model_validate({**_failed_record(), "decided": "discard"})
    with pytest.raises(ActionRefused, match="not allowed"):
        _decide(discarded, A.DISCARD)


def _failed_record() -> dict[str, object]:
    return {
        "event_id": "j1", "occurred_at": T0, "job_id": JOB, "content_id": "c1", "channel": CH,
        "platform": "mastodon", "state": "failed", "arrived_at": T0, "approved_at": T0,
        "content": {"text": "x"},
    }  # fmt: skip

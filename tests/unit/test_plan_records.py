"""The plan's pure parts, by table: when a channel holds its jobs, when a job lies past the
horizon, and that every record about a job carries the job's own keys."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.scheduler.plan_records import (
    beyond_horizon,
    measure_due,
    new_job,
    publish_due,
    unschedulable_outcome,
)
from services.scheduler.plan_state import ChannelPlan
from shared.channels import Channel
from shared.events import JobPlanned, JobState, OutcomeStatus, SlotExplanation
from tests.unit.test_plan import CH, T0, approved

CHANNEL = Channel(id=CH, platform="mastodon", timezone="Asia/Makassar")
HORIZON = timedelta(days=30)


def a_job(**update: object) -> JobPlanned:
    job = new_job(approved("c1"), CHANNEL, approved("c1").variants[0].content, "sch-0", T0)
    return job.model_copy(update=update)


@pytest.mark.parametrize(
    ("paused", "needs_reauth", "held"),
    [
        (False, False, None),
        (True, False, (JobState.PAUSED, "paused: election silence")),
        (False, True, (JobState.NEEDS_REAUTH, "the channel needs re-authorisation")),
        (True, True, (JobState.PAUSED, "paused: election silence")),  # the pause is said first
    ],
)
def test_a_channel_holds_its_jobs_while_paused_or_waiting_for_reauthorisation(
    paused: bool, needs_reauth: bool, held: tuple[JobState, str] | None
) -> None:
    plan = ChannelPlan(CHANNEL, paused=paused, pause_reason="election silence", needs_reauth=needs_reauth)
    assert plan.holding() == held


@pytest.mark.parametrize(
    ("not_before", "deadline", "binding"),
    [
        (None, None, None),
        (T0 + HORIZON, T0 + HORIZON, None),  # the horizon itself is inside
        (T0 + HORIZON + timedelta(seconds=1), None, "not_before"),
        (None, T0 + HORIZON + timedelta(seconds=1), "deadline"),
        (T0 + HORIZON * 2, T0 + HORIZON * 3, "not_before"),  # the earlier field is named
    ],
)
def test_a_job_past_the_horizon_is_refused_with_the_field_that_lies_there(
    not_before: datetime | None, deadline: datetime | None, binding: str | None
) -> None:
    job = a_job(deadline=deadline)
    why = beyond_horizon(job, not_before, T0, HORIZON)
    assert (why.binding_constraint if why else None) == binding
    if why is not None:
        assert why.chosen is None
        assert f"more than {HORIZON.days} days ahead" in why.reason


def test_every_record_about_a_job_carries_its_keys_and_the_given_event_id() -> None:
    published = T0 + timedelta(hours=2)
    job = a_job(
        slot=T0 + timedelta(hours=1),
        attempt=2,
        published_at=published,
        post_id="p1",
        measure_at=(published + timedelta(hours=1),),
        explanation=SlotExplanation(chosen=None, binding_constraint="deadline", reason="too late"),
    )
    due = publish_due(job, "sch-1", T0)
    measure = measure_due(job, "sch-2", T0)
    outcome = unschedulable_outcome(job, "sch-3", T0)
    for record, event_id in ((due, "sch-1"), (measure, "sch-2"), (outcome, "sch-3")):
        assert record.event_id == event_id
        assert record.occurred_at == T0
        keys = (record.job_id, record.content_id, record.channel, record.platform, record.attempt)
        assert keys == (job.job_id, job.content_id, job.channel, job.platform, 2)
    assert (due.purpose, due.slot, due.content) == ("publish", job.slot, job.content)
    assert (measure.purpose, measure.slot, measure.horizon_minutes) == ("measure", job.measure_at[0], 60)
    assert outcome.status is OutcomeStatus.UNSCHEDULABLE
    assert outcome.error is not None
    assert (outcome.error.code, outcome.error.message) == ("deadline", "too late")

"""The clash rule (design guarantee 3): an older version of a topic never goes out after a newer
one was approved, whatever the older one was doing when the newer one came — over both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Effects, Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.router import route
from services.scheduler.store import JobStore
from services.scheduler.store_memory import MemoryJobStore
from shared.codec import encode
from shared.events import ContentApproved, JobState, OperatorAction, OutcomeStatus, PlatformError
from tests.unit.test_plan import CH, DIRECTORY, T0, _decided, approved, outcome

BUSY = PlatformError(code="503", message="busy")
TOPIC = "jembatan"
X = "x-demo"


@pytest.fixture
def plan(store: JobStore) -> Plan:
    return Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)


def fired_until(plan: Plan, start: datetime, end: datetime) -> list[str]:
    """Fire minute by minute, publishing whatever comes due; the content ids posted."""
    posted, t = [], start
    while t <= end:
        for due in plan.fire(t).due:
            if due.purpose == "publish":
                posted.append(due.content_id)
                published = outcome(due.content_id, OutcomeStatus.PUBLISHED, due.attempt, at=t, post_id="p")
                plan.handle(CH, published, t)
        t += timedelta(minutes=1)
    return posted


def v1_in_flight_then_v2(plan: Plan) -> datetime:
    """v1 is handed to the publisher; 5 s later v2 of the same topic is approved. Returns then."""
    plan.handle(CH, approved("v1", topic_key=TOPIC), T0)
    assert [d.content_id for d in plan.fire(T0).due] == ["v1"]
    t2 = T0 + timedelta(seconds=5)
    fx = plan.handle(CH, approved("v2", at=t2, not_before=T0 + timedelta(hours=9), topic_key=TOPIC), t2)
    # v1 is the publisher's now: the scheduler cannot recall it.
    assert [(j.job_id, j.state) for j in fx.jobs] == [("v2:mastodon-demo", JobState.SCHEDULED)]
    return t2


@pytest.mark.parametrize("retry_after", [timedelta(hours=1), timedelta(hours=12)])
def test_an_older_version_handed_back_for_a_retry_is_superseded(plan: Plan, retry_after: timedelta) -> None:
    t2 = v1_in_flight_then_v2(plan)
    at = T0 + timedelta(seconds=10)
    fx = plan.handle(CH, outcome("v1", OutcomeStatus.RETRY, at=at, error=BUSY, retry_at=at + retry_after), at)
    assert [(j.job_id, j.state) for j in fx.jobs] == [
        ("v1:mastodon-demo", JobState.RETRYING),  # the publisher's answer, kept for the record
        ("v1:mastodon-demo", JobState.SUPERSEDED),
    ]
    assert fx.jobs[-1].superseded_by == "v2"
    assert fired_until(plan, t2, t2 + timedelta(days=2)) == ["v2"]


# An unconfirmed one is looked up first: tests/unit/test_withdraw_races.py.
@pytest.mark.parametrize("settled", [OutcomeStatus.FAILED, OutcomeStatus.DEAD])
def test_an_operators_retry_of_an_older_version_supersedes_it(plan: Plan, settled: OutcomeStatus) -> None:
    t2 = v1_in_flight_then_v2(plan)
    at = T0 + timedelta(seconds=10)
    assert (
        plan.handle(CH, outcome("v1", settled, at=at, error=BUSY), at).jobs[-1].state.value == settled.value
    )
    later = T0 + timedelta(hours=1)
    fx = plan.handle(CH, _decided("v1", OperatorAction.RETRY, at=later), later)
    assert [j.state for j in fx.jobs] == [JobState.RETRYING, JobState.SUPERSEDED]
    assert fired_until(plan, t2, t2 + timedelta(days=2)) == ["v2"]


def test_an_older_version_parked_for_re_authorisation_is_superseded(plan: Plan) -> None:
    v1_in_flight_then_v2(plan)
    at = T0 + timedelta(seconds=10)
    fx = plan.handle(CH, outcome("v1", OutcomeStatus.NEEDS_REAUTH, at=at, error=BUSY), at)
    assert [j.state for j in fx.jobs] == [JobState.NEEDS_REAUTH, JobState.SUPERSEDED]


def test_a_published_older_version_stays_published(plan: Plan) -> None:
    v1_in_flight_then_v2(plan)
    at = T0 + timedelta(seconds=10)
    fx = plan.handle(CH, outcome("v1", OutcomeStatus.PUBLISHED, at=at, post_id="p1"), at)
    assert [j.state for j in fx.jobs] == [JobState.PUBLISHED]
    job = plan.job("v1:mastodon-demo")
    assert job is not None
    assert job.state is JobState.PUBLISHED


def test_a_stale_job_is_superseded_as_it_fires(plan: Plan) -> None:
    """A plan restored holding an older version still retrying beside a newer one (written before
    the rule reached retries) lets the timer find it: it is superseded, not posted."""
    v1_in_flight_then_v2(plan)
    v1 = plan.job("v1:mastodon-demo")
    assert v1 is not None
    retrying = v1.model_copy(
        update={"state": JobState.RETRYING, "attempt": 2, "slot": T0 + timedelta(hours=1)}
    )
    plan.store.put_raw([row for row in [restore_row(encode(retrying), 0)] if row is not None])
    plan.index_restored([0])
    fx = plan.fire(T0 + timedelta(hours=1))
    assert fx.due == []
    assert [(j.job_id, j.state, j.superseded_by) for j in fx.jobs] == [
        ("v1:mastodon-demo", JobState.SUPERSEDED, "v2")
    ]


# ---- every channel: a version supersedes older ones also where it names no job ---------------


def routed(plan: Plan, event: ContentApproved, now: datetime) -> Effects:
    """``event`` as the router hands it on: to each channel it concerns, in order."""
    fx = Effects()
    for channel in route(event, DIRECTORY):
        fx.extend(plan.handle(channel, event, now))
    return fx


def test_an_approval_with_a_topic_reaches_every_channel() -> None:
    assert route(approved("c1", channels=(X,)), DIRECTORY) == [X]
    assert route(approved("c1", channels=(X,), topic_key=TOPIC), DIRECTORY) == [X, CH]


def test_a_newer_version_naming_fewer_channels_supersedes_the_older_on_all(plan: Plan) -> None:
    later = T0 + timedelta(hours=6)
    routed(plan, approved("v1", not_before=later, topic_key=TOPIC, channels=(CH, X)), T0)
    t2 = T0 + timedelta(minutes=10)
    fx = routed(plan, approved("v2", at=t2, not_before=later, topic_key=TOPIC, channels=(CH,)), t2)
    assert sorted((j.job_id, j.state.value, j.superseded_by) for j in fx.jobs) == [
        ("v1:mastodon-demo", "superseded", "v2"),
        ("v1:x-demo", "superseded", "v2"),
        ("v2:mastodon-demo", "scheduled", None),
    ]
    assert [d.job_id for d in plan.fire(later + timedelta(minutes=1)).due] == ["v2:mastodon-demo"]


def test_an_older_version_arriving_after_the_newer_is_superseded_on_every_channel(store: JobStore) -> None:
    """v2 (naming one channel) reaches the scheduler first; v1 (naming both) after it, and after
    a restart of the plan from its changelogs: v1 goes out nowhere."""
    first = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    t2 = T0 + timedelta(minutes=10)
    heard = routed(first, approved("v2", at=t2, topic_key=TOPIC, channels=(CH,)), t2)
    assert [(c.channel, list(c.topics)) for c in heard.channels] == [(X, [TOPIC])]
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=store)
    store.put_raw([row for j in heard.jobs if (row := restore_row(encode(j), 0)) is not None])
    for snapshot in heard.channels:
        plan.restore_channel(snapshot)
    plan.index_restored([0])
    fx = routed(plan, approved("v1", at=T0, topic_key=TOPIC, channels=(CH, X)), t2)
    assert sorted((j.job_id, j.state.value, j.superseded_by) for j in fx.jobs) == [
        ("v1:mastodon-demo", "superseded", "v2"),
        ("v1:x-demo", "superseded", "v2"),
    ]
    assert fx.channels == []  # nothing new heard: v1 is older than what x-demo knows


def test_a_channel_hears_each_version_once_and_forgets_after_the_retention(plan: Plan) -> None:
    t2 = T0 + timedelta(minutes=10)
    v2 = approved("v2", at=t2, topic_key=TOPIC, channels=(CH,))
    assert len(routed(plan, v2, t2).channels) == 1
    assert routed(plan, v2, t2).channels == []  # redelivered: nothing new
    week = t2 + PlanSettings().retention
    other = approved("w1", at=week, topic_key="banjir", channels=(CH,))
    [snapshot] = routed(plan, other, week).channels
    assert list(snapshot.topics) == ["banjir"]  # jembatan's v2 was accepted a retention ago

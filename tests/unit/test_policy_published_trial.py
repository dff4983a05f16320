"""A published post is one trial, not two, on production's own path.

The model holds a published post at the instant its publisher reported (``observe``), and the
plan hands the choice the channel's occupied instants, a published job at that same instant but
by way of epoch seconds in a float (``plan_state.occupied_instant``, the job store's REAL column).
The model's exploring curve knows a planned post it has already seen only by an equal instant, so
the round trip must give back the very microsecond: one microsecond off and the post is counted
twice, and an hour it only half reached counts as tried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.plan_state import ChannelPlan
from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.rules import to_us
from services.scheduler.store import SqliteJobStore
from shared.codec import decode_as, encode
from shared.events import JobPlanned, JobState
from tests.unit.test_plan_records import CHANNEL, a_job

ZONE = "Asia/Makassar"
# Past the whole minute by a third of a second: the hour a 60-minute post starts in then holds
# just under half of its reach, and a second count of the post would make it tried.
REPORTED = datetime(2026, 11, 26, 1, 0, 0, 333_333, tzinfo=UTC)
# Any instant of the years the deployment calendar covers and beyond, to the microsecond.
INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


def published(at: datetime) -> JobPlanned:
    """The job as the plan reads it back from ``schedule.jobs``, published at ``at``."""
    job = a_job(state=JobState.PUBLISHED, slot=at.replace(second=0, microsecond=0), published_at=at)
    return decode_as(encode(job), JobPlanned)


def production_taken(job: JobPlanned, store: SqliteJobStore | None) -> list[int]:
    """The channel's occupied instants as ``placement`` hands them to the choice, in microseconds;
    read from the job store when one is given, else from the plan's own array."""
    plan = ChannelPlan(CHANNEL)
    if store is None:
        plan.occupy(job)
    else:
        store.put(job, 0)
        plan.load_taken_from(lambda: store.occupied(CHANNEL.id))
    at = job.published_at
    assert at is not None
    day = timedelta(days=1)
    return [to_us(t) for t in plan.taken_between(at - day, at + day)]


def seen(platform: str, at: datetime) -> EngagementModel:
    model = EngagementModel.prior(platform, ZONE)
    model.observe(at, 60, 30, post_id="j1")
    return model


@settings(max_examples=150, deadline=None)
@given(
    at=INSTANTS,
    platform=st.sampled_from(["instagram", "x", "facebook", "telegram", "youtube"]),
)
def test_the_plans_instant_of_a_published_post_is_the_one_the_model_saw(at: datetime, platform: str) -> None:
    taken = production_taken(published(at), None)
    assert taken == [to_us(at)]
    model = seen(platform, at)
    now_us = to_us(at + timedelta(hours=2))
    assert model.exploring_curve(taken, now_us) == model.exploring_curve([], now_us)


@settings(max_examples=60, deadline=None)
@given(at=INSTANTS)
def test_so_is_the_job_stores(at: datetime) -> None:
    store = SqliteJobStore(":memory:")
    try:
        assert production_taken(published(at), store) == [to_us(at)]
    finally:
        store.close()


def test_a_microsecond_off_would_count_the_post_twice() -> None:
    """What the equality above guards: the same post a microsecond away is a second trial."""
    model = seen("instagram", REPORTED)
    now_us = to_us(REPORTED + timedelta(hours=2))
    alone = model.exploring_curve([], now_us)
    assert model.exploring_curve(production_taken(published(REPORTED), None), now_us) == alone
    assert model.exploring_curve([to_us(REPORTED) - 1], now_us) != alone

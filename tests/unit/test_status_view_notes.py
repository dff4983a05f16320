"""An item's status shows the job's current note: the newest plan record's, None included."""

from __future__ import annotations

from datetime import timedelta

from services.ingest.status_view import StatusView
from shared.events import Content, JobPlanned, JobState
from tests.unit.test_status_view import CH, T0, approved, published

PAUSE = "paused: masa tenang pilkada"


def planned(state: JobState, minutes: int, note: str | None) -> JobPlanned:
    return JobPlanned(
        event_id=f"p{minutes}", occurred_at=T0 + timedelta(minutes=minutes), job_id=f"c1:{CH}",
        content_id="c1", channel=CH, platform="mastodon", state=state,
        slot=T0 + timedelta(minutes=10), arrived_at=T0, approved_at=T0,
        content=Content(text="Jembatan Mahakam IV"), note=note,
    )  # fmt: skip


def note_of(view: StatusView) -> object:
    item = view.find("c1")
    assert item is not None
    return item.channels[CH].to_json()["note"]


def test_a_resumed_job_drops_its_pause_note() -> None:
    view = StatusView()
    view.apply(approved("c1"))
    view.apply(planned(JobState.PAUSED, 2, PAUSE))
    view.apply(planned(JobState.SCHEDULED, 3, None))  # resumed: re-planned, nothing to note
    assert note_of(view) is None


def test_the_note_follows_the_plan_also_once_the_post_is_out() -> None:
    view = StatusView()
    view.apply(approved("c1"))
    view.apply(planned(JobState.PAUSED, 2, PAUSE))
    view.apply(published("c1"))  # the outcome read before the plan records that led to it
    view.apply(planned(JobState.SCHEDULED, 3, None))
    view.apply(planned(JobState.PUBLISHED, 6, None))
    assert note_of(view) is None


def test_an_older_plan_record_read_late_does_not_bring_its_note_back() -> None:
    view = StatusView()
    view.apply(approved("c1"))
    view.apply(planned(JobState.SCHEDULED, 3, None))
    view.apply(planned(JobState.PAUSED, 2, PAUSE))  # redelivered or read late
    assert note_of(view) is None
    view.apply(planned(JobState.PAUSED, 4, PAUSE))
    view.apply(published("c1"))  # an outcome carries no note: the plan's stands
    assert note_of(view) == PAUSE

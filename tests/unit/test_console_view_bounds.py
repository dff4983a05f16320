"""The console's view stays bounded and answers from indexes, within the caller's channel scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.console.view import ConsoleView, Retention
from shared.events import (
    Content,
    ControlAction,
    ControlIssued,
    DeadLettered,
    JobPlanned,
    JobState,
)

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def job(
    n: int,
    state: JobState,
    at: datetime = T0,
    channel: str = "x-demo",
    slot: datetime | None = T0,
    v: str = "",
) -> JobPlanned:
    return JobPlanned(
        event_id=f"e{n}{state.value}{v}",
        occurred_at=at,
        job_id=f"c{n}:{channel}",
        content_id=f"c{n}",
        channel=channel,
        platform="x",
        state=state,
        slot=slot,
        arrived_at=T0,
        approved_at=T0,
        content=Content(text="x"),
    )


def only_x(channel: str) -> bool:
    return channel == "x-demo"


def test_finished_jobs_leave_after_their_retention_and_the_indexes_follow() -> None:
    view = ConsoleView(Retention(finished=7 * DAY, attention=30 * DAY))
    view.apply(job(1, JobState.PUBLISHED))
    view.apply(job(2, JobState.FAILED))
    view.apply(job(3, JobState.UNCONFIRMED))
    view.apply(job(4, JobState.SCHEDULED))
    assert view.expire(T0 + 7 * DAY - timedelta(seconds=1)) == 0
    assert view.expire(T0 + 7 * DAY) == 1
    assert "c1:x-demo" not in view.jobs
    assert view.expire(T0 + 30 * DAY) == 1
    # Unconfirmed waits for a person and a scheduled job is still to come: neither ever leaves.
    assert view.expire(T0 + 3650 * DAY) == 0
    assert sorted(view.jobs) == ["c3:x-demo", "c4:x-demo"]
    assert view.jobs_by_state() == {("x-demo", "unconfirmed"): 1, ("x-demo", "scheduled"): 1}
    assert [j.job_id for j in view.plan("x-demo", T0, T0 + DAY)] == ["c3:x-demo", "c4:x-demo"]
    assert [j.job_id for j in view.problems()] == ["c3:x-demo"]


def test_a_job_that_changed_is_not_dropped_by_its_older_record() -> None:
    view = ConsoleView(Retention(finished=DAY, attention=DAY))
    view.apply(job(1, JobState.FAILED))
    view.apply(job(1, JobState.RETRYING, at=T0 + DAY / 2))  # an operator's retry
    assert view.expire(T0 + 2 * DAY) == 0
    assert view.jobs["c1:x-demo"].state is JobState.RETRYING


def test_memory_follows_recent_traffic_not_history() -> None:
    view = ConsoleView(Retention(finished=DAY))
    for n in range(5000):
        at = T0 + timedelta(minutes=n)
        view.apply(job(n, JobState.PUBLISHED, at=at, slot=at))
        view.expire(at)
    assert len(view.jobs) <= 24 * 60 + 1
    assert sum(view.jobs_by_state().values()) == len(view.jobs)


def test_plan_reads_one_channels_slots_and_moves_with_a_replan() -> None:
    view = ConsoleView()
    view.apply(job(1, JobState.SCHEDULED, slot=T0 + timedelta(hours=3)))
    view.apply(job(2, JobState.SCHEDULED, slot=T0 + timedelta(hours=1)))
    view.apply(job(3, JobState.SCHEDULED, channel="telegram-demo"))
    view.apply(job(1, JobState.SCHEDULED, at=T0 + timedelta(seconds=1), slot=T0 + 2 * DAY, v="b"))
    assert [j.job_id for j in view.plan("x-demo", T0, T0 + DAY)] == ["c2:x-demo"]
    assert [j.job_id for j in view.plan("x-demo", T0 + 2 * DAY, T0 + 3 * DAY)] == ["c1:x-demo"]


def test_problems_page_newest_first_within_scope() -> None:
    view = ConsoleView()
    for n in range(7):
        channel = "x-demo" if n % 2 == 0 else "telegram-demo"
        view.apply(job(n, JobState.FAILED, at=T0 + timedelta(minutes=n), channel=channel))
    first = view.problems(only_x, limit=2)
    assert [j.job_id for j in first] == ["c6:x-demo", "c4:x-demo"]
    rest = view.problems(only_x, limit=2, before=(first[-1].occurred_at, first[-1].job_id))
    assert [j.job_id for j in rest] == ["c2:x-demo", "c0:x-demo"]


def test_dead_letters_are_kept_up_to_a_count_and_scoped() -> None:
    view = ConsoleView(Retention(dead_letters=3))
    for n in range(5):
        view.apply(
            DeadLettered(
                event_id=f"d{n}",
                occurred_at=T0,
                source_topic="publish.x",
                reason="bad",
                job_id=f"c{n}:x-demo" if n != 4 else None,
                channel="x-demo" if n != 4 else None,
            )
        )
    assert list(view.dead) == ["d2", "d3", "d4"]
    assert view.find_dead("c1:x-demo") is None
    assert view.find_dead("c3:x-demo") is view.dead["d3"]
    # An undecodable message names no channel: only a key for every channel sees it.
    letters, total = view.dead_letters(only_x)
    assert ([d.event_id for d in letters], total) == (["d3", "d2"], 2)
    assert view.dead_letters()[1] == 3
    assert view.dead_by_source == {"publish.x": 5}  # the metric counts every one ever seen


def test_audit_is_bounded_and_scoped_by_the_channels_it_concerns() -> None:
    view = ConsoleView(Retention(audit_entries=3))
    view.apply(job(1, JobState.SCHEDULED, channel="telegram-demo"))

    def control(n: int, action: ControlAction, **kw: object) -> ControlIssued:
        return ControlIssued(
            event_id=f"k{n}",
            occurred_at=T0 + timedelta(minutes=n),
            action=action,
            by="opa",
            reason=f"r{n}",
            **kw,
        )

    view.apply(control(0, ControlAction.PAUSE, channels=("x-demo",)))
    view.apply(control(1, ControlAction.PAUSE, channels=("telegram-demo",)))
    view.apply(control(2, ControlAction.WITHDRAW, content_id="c1"))
    view.apply(control(3, ControlAction.RESUME))
    assert len(view.audit) == 3
    assert [e.reason for e in view.recent_audit()] == ["r3", "r2", "r1"]
    assert [e.reason for e in view.recent_audit(only_x)] == ["r3"]  # all channels concern x-demo too

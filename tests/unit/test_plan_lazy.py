"""A restored plan reads its timers and occupied instants lazily: what it has not read yet still
fires at its time, and a step that changes a job it has not read yet is exact."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.store import JobStore
from shared.codec import encode
from shared.events import JobPlanned, JobState
from tests.unit.test_plan import CH, DIRECTORY, T0, approved

SMALL_PAGES = PlanSettings(timer_page=2)


def restored(store: JobStore, jobs: list[JobPlanned]) -> Plan:
    """A plan rebuilt from ``jobs`` (the changelog), reading timers two at a time."""
    rows = [restore_row(encode(j), 0) for j in jobs]
    store.put_raw([r for r in rows if r is not None])
    plan = Plan(DIRECTORY, NaiveChooser(), SMALL_PAGES, store=store)
    plan.index_restored([0])
    return plan


def planned(offsets: list[timedelta], topic_key: str | None = None) -> list[JobPlanned]:
    first = Plan(DIRECTORY, NaiveChooser(), PlanSettings())
    jobs: list[JobPlanned] = []
    for i, offset in enumerate(offsets):
        fx = first.handle(CH, approved(f"c{i}", not_before=T0 + offset, topic_key=topic_key), T0)
        jobs += fx.jobs
    return jobs


def fired_over(plan: Plan, until: datetime, step: timedelta) -> list[tuple[str, datetime]]:
    out = []
    now = T0
    while now <= until:
        out += [(d.job_id, now) for d in plan.fire(now).due]
        now += step
    return out


def test_a_job_due_far_beyond_the_first_pages_fires_at_its_time(store: JobStore) -> None:
    near = [timedelta(minutes=m) for m in (5, 6, 7, 8, 9)]
    far = timedelta(days=30)
    plan = restored(store, planned([*near, far]))
    fired = fired_over(plan, T0 + far + timedelta(minutes=1), timedelta(minutes=1))
    assert [job_id for job_id, _ in fired] == [f"c{i}:{CH}" for i in range(6)]  # each once, in order
    assert fired[-1][1] - (T0 + far) < timedelta(minutes=1)


def test_a_job_planned_after_the_restore_beyond_the_pages_read_fires(store: JobStore) -> None:
    plan = restored(store, planned([timedelta(minutes=m) for m in (5, 6, 7)]))
    assert plan.fire(T0).due == []  # the first page is read
    later = T0 + timedelta(days=3)
    plan.handle(CH, approved("late", not_before=later), T0)
    fired = fired_over(plan, later + timedelta(minutes=1), timedelta(minutes=1))
    assert [job_id for job_id, _ in fired] == [f"c{i}:{CH}" for i in range(3)] + [f"late:{CH}"]


def test_a_clash_replaces_a_job_whose_timer_is_not_read_yet(store: JobStore) -> None:
    far = T0 + timedelta(days=20)
    plan = restored(store, [*planned([timedelta(minutes=5), timedelta(minutes=6)]), *_topic_job(far)])
    assert plan.fire(T0).due == []  # reads the first page only: the far job is not in it
    fx = plan.handle(CH, approved("newer", at=T0 + timedelta(minutes=1), topic_key="bridge"), T0)
    replaced = {j.job_id: j.state for j in fx.jobs}
    assert replaced[f"old:{CH}"] is JobState.SUPERSEDED
    # The old job's instant no longer occupies the channel, read lazily from the store.
    channel = plan.channel_plan(CH)
    assert channel is not None
    assert far.timestamp() not in list(channel.taken)
    fired = fired_over(plan, far + timedelta(minutes=2), timedelta(hours=1))
    assert f"old:{CH}" not in [job_id for job_id, _ in fired]
    assert f"newer:{CH}" in [job_id for job_id, _ in fired]


def _topic_job(slot: datetime) -> list[JobPlanned]:
    first = Plan(DIRECTORY, NaiveChooser(), PlanSettings())
    return first.handle(CH, approved("old", not_before=slot, topic_key="bridge"), T0).jobs


def test_a_page_ends_between_instants_so_none_is_read_twice_or_skipped(store: JobStore) -> None:
    jobs = planned([timedelta(minutes=5)] * 3 + [timedelta(minutes=9)] * 2)
    rows = [restore_row(encode(j.model_copy(update={"slot": j.not_before})), 0) for j in jobs]
    store.put_raw([r for r in rows if r is not None])
    first, end = store.due_page(float("-inf"), 2)
    five, nine = ((T0 + timedelta(minutes=m)).timestamp() for m in (5, 9))
    assert [at for at, _ in first] == [five] * 3
    assert five < end <= nine
    rest, until = store.due_page(end, 2)
    assert len(rest) == 2
    assert until == float("inf")
    assert sorted(ref for _, ref in first + rest) == sorted({ref for _, ref in first + rest})

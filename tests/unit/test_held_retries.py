"""A retry that comes back while its channel is held (paused, or waiting for re-authorisation)
obeys the channel's rules once the channel is released, as any retry does: the real ``Plan``
with the real ``PolicyChooser``, pure, over both job stores.

The hold keeps the retry's retry_at as the earliest instant it may take, unplaced; the resume or
the reconnect that releases the channel places it from there (the gap, the caps, the deadline),
or finds it unschedulable with the rule named and says so at once. Nothing fires from a slot no
rule checked, whatever left it so (a record written before the rule existed, restored): the
firing path places it instead. And a resume re-reports nothing that did not change.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.plan_state import placed
from services.scheduler.planner import restore_row
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.store import JobStore
from services.scheduler.store_memory import MemoryJobStore
from shared import events
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.events import ControlAction, JobState, OutcomeStatus, PlatformError, Priority
from tests.unit.test_plan import CH, T0, approved, control
from tests.unit.test_plan import outcome as plan_outcome

BUSY = PlatformError(code="rate_limited", message="429")
REVOKED = PlatformError(code="invalid_grant", message="revoked")


def make_plan(store: JobStore, **rules: object) -> Plan:
    ch = Channel(id=CH, platform="mastodon", timezone="Asia/Makassar", **rules)
    return Plan(
        ChannelDirectory(channels=(ch,)), PolicyChooser(rng=random.Random(1)), PlanSettings(), store=store
    )


def outcome(
    cid: str, status: OutcomeStatus, at: datetime, attempt: int = 1, **kw: object
) -> events.PublishOutcome:
    error = REVOKED if status is OutcomeStatus.NEEDS_REAUTH else BUSY
    return plan_outcome(cid, status, attempt, at=at, error=error, **kw)


def channel_command(action: ControlAction, at: datetime) -> events.ControlIssued:
    return control(action, channels=(CH,)).model_copy(
        update={"occurred_at": at, "event_id": f"c-{action}-{at}"}
    )


def job(plan: Plan, cid: str) -> events.JobPlanned:
    found = plan.job(f"{cid}:{CH}")
    assert found is not None
    return found


def refused(plan: Plan, cid: str) -> str | None:
    """The rule ``cid``'s job is unschedulable for (it must be unschedulable)."""
    stuck = job(plan, cid)
    assert stuck.state is JobState.UNSCHEDULABLE
    assert stuck.explanation is not None
    return stuck.explanation.binding_constraint


def fire_until(plan: Plan, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """Fire minute by minute; what was handed to the publisher, and when."""
    out, t = [], start
    while t <= end:
        out += [(d.content_id, t) for d in plan.fire(t).due if d.purpose == "publish"]
        t += timedelta(minutes=1)
    return out


def in_flight(plan: Plan, cid: str) -> datetime:
    """Fire ``cid`` (alone on the channel); the instant it was handed to the publisher."""
    slot = job(plan, cid).slot
    assert slot is not None
    assert [d.content_id for d in plan.fire(slot).due] == [cid]
    return slot


def test_a_retry_past_the_deadline_that_came_back_during_a_pause_is_unschedulable_on_resume(
    store: JobStore,
) -> None:
    plan = make_plan(store)
    deadline = T0 + timedelta(minutes=30)
    plan.handle(CH, approved("c1", deadline=deadline), T0)
    t = in_flight(plan, "c1")
    plan.handle(CH, channel_command(ControlAction.PAUSE, t), t)
    # Retry-After of an hour: the platform would take it only after the deadline
    retry_at = deadline + timedelta(minutes=30)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=retry_at), t)
    held = job(plan, "c1")
    assert (held.state, held.slot, placed(held)) == (JobState.RETRYING, retry_at, False)

    resumed = t + timedelta(minutes=1)
    fx = plan.handle(CH, channel_command(ControlAction.RESUME, resumed), resumed)
    assert refused(plan, "c1") == "deadline"
    # people hear of it at the resume, as of any retry the rules leave no instant for
    assert [(o.status, o.error.code if o.error else None) for o in fx.outcomes] == [
        (OutcomeStatus.UNSCHEDULABLE, "deadline")
    ]
    assert fire_until(plan, resumed, retry_at + timedelta(hours=1)) == []


def test_a_retry_past_the_deadline_that_came_back_during_a_reauth_park_is_unschedulable_on_reconnect(
    store: JobStore,
) -> None:
    plan = make_plan(store)
    deadline = T0 + timedelta(minutes=30)
    plan.handle(CH, approved("c0", priority=Priority.URGENT), T0)
    plan.handle(CH, approved("c1", deadline=deadline, priority=Priority.URGENT), T0)
    t = T0 + timedelta(minutes=1)
    assert sorted(c for c, _ in fire_until(plan, T0, t)) == ["c0", "c1"]
    plan.handle(CH, outcome("c0", OutcomeStatus.NEEDS_REAUTH, t), t)  # the channel is parked
    retry_at = deadline + timedelta(minutes=30)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=retry_at), t)
    assert not placed(job(plan, "c1"))

    back = t + timedelta(minutes=2)
    fx = plan.handle(CH, channel_command(ControlAction.RECONNECTED, back), back)
    assert refused(plan, "c1") == "deadline"
    assert [o.job_id for o in fx.outcomes] == [f"c1:{CH}"]
    assert [c for c, _ in fire_until(plan, back, retry_at + timedelta(hours=1))] == ["c0"]


def test_a_retry_held_by_a_pause_keeps_the_minimum_gap_once_resumed(store: JobStore) -> None:
    plan = make_plan(store, min_gap_minutes=240)
    plan.handle(CH, approved("a"), T0)
    ta = in_flight(plan, "a")
    b_at = ta + timedelta(minutes=1)
    plan.handle(CH, approved("b", at=b_at), b_at)
    b_slot = job(plan, "b").slot
    assert b_slot is not None
    plan.handle(CH, channel_command(ControlAction.PAUSE, b_at), b_at)
    # a's attempt got a 429: the platform would take it again an hour before b's slot
    plan.handle(CH, outcome("a", OutcomeStatus.RETRY, b_at, retry_at=b_slot - timedelta(hours=1)), b_at)
    resumed = b_at + timedelta(minutes=1)
    plan.handle(CH, channel_command(ControlAction.RESUME, resumed), resumed)
    retrying = job(plan, "a")
    assert retrying.state is JobState.RETRYING
    assert retrying.slot == b_slot + timedelta(minutes=240)  # the first instant b's gap allows
    assert retrying.explanation is not None
    assert retrying.explanation.binding_constraint == "min_gap"
    posts = fire_until(plan, resumed, b_slot + timedelta(hours=5))
    assert [c for c, _ in posts] == ["b", "a"]
    assert posts[1][1] - posts[0][1] >= timedelta(minutes=240)


def test_a_reconnect_while_paused_leaves_the_retry_to_the_resume_which_keeps_retry_at(
    store: JobStore,
) -> None:
    plan = make_plan(store)
    plan.handle(CH, approved("c0", priority=Priority.URGENT), T0)
    plan.handle(CH, approved("c1", deadline=T0 + timedelta(hours=6), priority=Priority.URGENT), T0)
    t = T0 + timedelta(minutes=1)
    fire_until(plan, T0, t)
    plan.handle(CH, channel_command(ControlAction.PAUSE, t), t)
    plan.handle(CH, outcome("c0", OutcomeStatus.NEEDS_REAUTH, t), t)
    retry_at = t + timedelta(hours=2)
    plan.handle(CH, outcome("c1", OutcomeStatus.RETRY, t, retry_at=retry_at), t)
    back = t + timedelta(minutes=5)
    plan.handle(CH, channel_command(ControlAction.RECONNECTED, back), back)
    still = job(plan, "c1")  # the pause still holds it: not placed, retry_at kept
    assert (still.state, still.slot, placed(still)) == (JobState.RETRYING, retry_at, False)
    resumed = back + timedelta(minutes=5)
    plan.handle(CH, channel_command(ControlAction.RESUME, resumed), resumed)
    placed_retry = job(plan, "c1")
    assert placed(placed_retry)
    assert placed_retry.slot is not None
    assert placed_retry.slot >= retry_at  # the platform's Retry-After still stands
    assert ("c1", placed_retry.slot) in fire_until(plan, resumed, retry_at + timedelta(minutes=10))


def test_a_retry_whose_slot_no_rule_checked_is_placed_as_it_comes_due_not_fired(store: JobStore) -> None:
    """A record as a plan wrote it before retries on held channels were placed: retrying at its
    retry_at, past the deadline, the explanation still the first slot's. Restored, it never fires."""
    first = make_plan(MemoryJobStore())
    deadline = T0 + timedelta(minutes=30)
    first.handle(CH, approved("c1", deadline=deadline), T0)
    chosen = job(first, "c1")
    retry_at = deadline + timedelta(minutes=30)
    unplaced = chosen.model_copy(update={"state": JobState.RETRYING, "slot": retry_at, "attempt": 2})
    assert not placed(unplaced)
    second = make_plan(store)
    row = restore_row(encode(unplaced), 0)
    assert row is not None
    store.put_raw([row])
    second.index_restored([0])

    fx = second.fire(retry_at + timedelta(seconds=1))
    assert fx.due == []
    assert refused(second, "c1") == "deadline"
    assert [o.status for o in fx.outcomes] == [OutcomeStatus.UNSCHEDULABLE]


def test_a_resume_does_not_report_again_a_job_the_same_rule_still_refuses(store: JobStore) -> None:
    plan = make_plan(store)
    deadline = T0 + timedelta(hours=2)
    plan.handle(CH, channel_command(ControlAction.PAUSE, T0), T0)
    plan.handle(CH, approved("c1", deadline=deadline), T0)
    after = deadline + timedelta(minutes=1)
    fx = plan.handle(CH, channel_command(ControlAction.RESUME, after), after)
    assert [(o.job_id, o.error.code if o.error else None) for o in fx.outcomes] == [(f"c1:{CH}", "deadline")]
    reported = job(plan, "c1")
    # Another pause and resume later (another crisis, or the same resume sent twice): the job is
    # as it was, so nothing is stored or reported again.
    for minutes in (10, 20):
        later = after + timedelta(minutes=minutes)
        plan.handle(CH, channel_command(ControlAction.PAUSE, later), later)
        fx = plan.handle(CH, channel_command(ControlAction.RESUME, later), later)
        assert fx.outcomes == []
        assert fx.jobs == []
        assert job(plan, "c1") == reported

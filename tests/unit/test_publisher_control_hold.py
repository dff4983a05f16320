"""A post waiting in the publisher (``due``, behind its account's other calls) is stopped by a
pause of its channel or the withdrawal of its item issued meanwhile: nothing is sent and no
attempt is recorded. ``PlatformCaller`` asks the operators' commands (a ``ControlGate``: here
the real ``ControlState`` behind a gate whose reading is done, or never done) at the same moment
as its deadline and blackout checks. The scheduler (the real ``Plan``) holds the handed-back
post paused and fires the same attempt again after resume.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.publisher.adapters.port import Credentials, PublishRequest, Target
from services.publisher.control_state import ControlState, Hold, unread
from services.publisher.decide import Decision
from services.publisher.platform_call import PlatformCaller
from services.publisher.ratelimit import Limit
from shared.channels import Blackout
from shared.events import Content, ControlAction, JobState, OutcomeStatus, Priority, PublishOutcome
from shared.inbox_events import ReplyTarget
from tests.unit.test_control_state import command
from tests.unit.test_due_past_deadline import _Platform
from tests.unit.test_local_deferral import _caller as deferral_caller
from tests.unit.test_local_deferral import _fired, _outcome
from tests.unit.test_plan import CH, DIRECTORY, T0, approved
from tests.unit.test_retry_rules import SILENCE, make_plan, outcome

TARGET = Target(CH, "demo", "http://fake", Credentials("t"))


class _Gate:
    """The commands as a follower would give them: read up (or not), folded into the state."""

    def __init__(self, state: ControlState, *, read: bool = True) -> None:
        self.state = state
        self.read = read
        self.waits = 0

    async def read_up(self) -> Hold | None:
        self.waits += 1
        return None if self.read else unread(30.0)

    def hold(self, channel: str, content_id: str, now: datetime) -> Hold | None:
        return self.state.hold(channel, content_id, now)


def _gate(*actions: tuple[ControlAction, str | None]) -> _Gate:
    state = ControlState(DIRECTORY)
    for action, content_id in actions:
        state.apply(command(action, content_id=content_id), T0)
    return _Gate(state)


async def _publish(
    gate: _Gate,
    at: datetime,
    *,
    content_id: str = "c1",
    request: PublishRequest | None = None,
    deadline: datetime | None = None,
    blackouts: tuple[Blackout, ...] = (),
) -> tuple[Decision, list[str], list[str]]:
    """One post at ``at``: the decision, what reached the platform, the attempts recorded."""
    platform, attempts = _Platform(), list[str]()
    caller: PlatformCaller = deferral_caller([at], Limit(100, timedelta(minutes=1)), platform)
    caller.control = gate
    request = request or PublishRequest(f"{content_id}:{CH}", 1, _text(), "m")

    async def before_call() -> PublishOutcome:
        attempts.append(request.job_id)
        return outcome(content_id, OutcomeStatus.ATTEMPTED, at)

    decision = await caller.publish(
        CH,
        TARGET,
        request,
        before_call=before_call,
        deadline=deadline,
        blackouts=blackouts,
        content_id=content_id,
    )
    return decision, platform.posts, attempts


def _text() -> Content:
    return Content(text="Konser nanti malam!")


def _code(decision: Decision) -> str | None:
    return decision.error.code if decision.error else None


async def test_a_post_of_a_paused_channel_is_not_sent_and_spends_no_attempt() -> None:
    gate = _gate((ControlAction.PAUSE, None))
    decision, sent, attempts = await _publish(gate, T0)
    assert (sent, attempts) == ([], [])
    assert (decision.status, decision.deferred, decision.retry_at, _code(decision)) == (
        OutcomeStatus.RETRY,
        True,
        T0,
        "paused",
    )
    assert gate.waits == 1  # the commands were read up before the check


async def test_a_post_of_a_withdrawn_item_is_not_sent_and_spends_no_attempt() -> None:
    decision, sent, attempts = await _publish(_gate((ControlAction.WITHDRAW, "c1")), T0)
    assert (sent, attempts) == ([], [])
    assert (decision.status, decision.deferred, _code(decision)) == (OutcomeStatus.RETRY, True, "withdrawn")


async def test_another_item_and_a_resumed_channel_are_posted() -> None:
    decision, sent, attempts = await _publish(_gate((ControlAction.WITHDRAW, "c2")), T0)
    assert decision.status is OutcomeStatus.PUBLISHED
    assert sent == attempts == [f"c1:{CH}"]
    resumed = _gate((ControlAction.PAUSE, None), (ControlAction.RESUME, None))
    decision, sent, _ = await _publish(resumed, T0)
    assert (decision.status, sent) == (OutcomeStatus.PUBLISHED, [f"c1:{CH}"])


async def test_commands_that_could_not_be_read_in_time_hold_the_post() -> None:
    gate = _gate()
    gate.read = False
    decision, sent, attempts = await _publish(gate, T0)
    assert (sent, attempts) == ([], [])
    assert (decision.status, decision.deferred, _code(decision)) == (
        OutcomeStatus.RETRY,
        True,
        "control_unread",
    )


async def test_a_reply_is_the_inboxs_and_no_pause_holds_it() -> None:
    gate = _gate((ControlAction.PAUSE, None))
    target = ReplyTarget(key="k1", comment_id="cm1", post_id="p1", approved_by="yuyun")
    request = PublishRequest(f"r1:{CH}", 1, _text(), "m", reply_to=target)
    decision, sent, _ = await _publish(gate, T0, content_id="r1", request=request)
    assert (decision.status, sent) == (OutcomeStatus.PUBLISHED, [f"r1:{CH}"])
    assert gate.waits == 0  # a reply does not even wait for the commands


async def test_the_checks_in_order_withdrawn_then_deadline_then_pause_then_blackout() -> None:
    late = T0 + timedelta(hours=2)
    everything = _gate((ControlAction.PAUSE, None), (ControlAction.WITHDRAW, "c1"))
    decision, _, _ = await _publish(everything, late, deadline=T0)
    assert _code(decision) == "withdrawn"  # the item's end, whatever else holds
    decision, _, _ = await _publish(_gate((ControlAction.PAUSE, None)), late, deadline=T0)
    assert _code(decision) == "deadline_passed"  # no later instant will do: the job ends
    inside = SILENCE.start + timedelta(minutes=1)
    decision, _, _ = await _publish(_gate((ControlAction.PAUSE, None)), inside, blackouts=(SILENCE,))
    assert _code(decision) == "paused"


async def test_the_scheduler_holds_the_handed_back_post_paused_and_fires_it_again_on_resume() -> None:
    plan = make_plan()
    plan.handle(CH, approved("c1", at=T0, priority=Priority.URGENT), T0)
    due = _fired(plan, T0)
    # The pause comes while the job waits in the publisher: the scheduler is told it as well.
    taken = T0 + timedelta(minutes=3)
    plan.handle(CH, command(ControlAction.PAUSE, at=T0 + timedelta(minutes=1)), T0 + timedelta(minutes=1))
    decision, sent, _ = await _publish(_gate((ControlAction.PAUSE, None)), taken)
    assert sent == []
    plan.handle(CH, _outcome(due, decision, taken), taken)
    assert plan.fire(taken).due == []  # held, not fired
    job = plan.job(due.job_id)
    assert job is not None
    assert (job.state, job.attempt) == (JobState.PAUSED, 1)
    resumed = T0 + timedelta(hours=1)
    plan.handle(CH, command(ControlAction.RESUME, at=resumed), resumed)
    again = _fired(plan, resumed)
    assert (again.job_id, again.attempt) == (due.job_id, 1)  # the same attempt: none was spent

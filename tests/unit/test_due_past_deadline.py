"""A post taken after its item's deadline (the publisher was down, lagging, or held the call for
its account's rate limit) is not sent, and spends no attempt.

The due job carries the deadline the scheduler planned it with; the publisher checks it at the
last moment before the call and answers a deferred retry from its own clock, past the deadline.
The scheduler (the real ``Plan`` and ``PolicyChooser``) then reports the job unschedulable with
the deadline named, never firing it again. A due job without a deadline goes as it always did,
and so do replies, which are the inbox's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.publisher.adapters.port import Credentials, Published, PublishRequest, Target
from services.publisher.decide import Decision, past_deadline
from services.publisher.platform_call import PlatformCaller
from services.publisher.ratelimit import Limit
from shared.channels import Blackout
from shared.codec import decode_as, encode
from shared.events import Content, JobDue, JobState, OutcomeStatus, Priority, PublishOutcome
from shared.inbox_events import ReplyTarget
from tests.unit.test_due_in_silence import _Platform as _PostsTaken
from tests.unit.test_local_deferral import _caller as deferral_caller
from tests.unit.test_local_deferral import _fired, _outcome
from tests.unit.test_plan import CH, T0, approved
from tests.unit.test_retry_rules import SILENCE, make_plan, outcome

TARGET = Target(CH, "demo", "http://fake", Credentials("t"))
DEADLINE = T0 + timedelta(hours=2)


class _Platform(_PostsTaken):
    """A platform that takes every post and every reply: what reached it."""

    async def reply(self, target: Target, request: PublishRequest) -> Published:
        return await self.publish(target, request)


async def _publish(
    at: datetime,
    deadline: datetime | None,
    *,
    request: PublishRequest | None = None,
    blackouts: tuple[Blackout, ...] = (),
) -> tuple[Decision, list[str], list[str]]:
    """One call at ``at``: the decision, what reached the platform, the attempts recorded."""
    platform, attempts = _Platform(), list[str]()
    caller: PlatformCaller = deferral_caller([at], Limit(100, timedelta(minutes=1)), platform)
    request = request or PublishRequest(f"c1:{CH}", 1, Content(text="x"), "m")

    async def before_call() -> PublishOutcome:
        attempts.append(request.job_id)
        return outcome("c1", OutcomeStatus.ATTEMPTED, at)

    decision = await caller.publish(
        CH, TARGET, request, before_call=before_call, blackouts=blackouts, deadline=deadline
    )
    return decision, platform.posts, attempts


async def test_a_due_job_taken_past_its_deadline_is_not_sent_and_spends_no_attempt() -> None:
    taken = DEADLINE + timedelta(minutes=1)
    decision, sent, attempts = await _publish(taken, DEADLINE)
    assert sent == []
    assert attempts == []
    assert (decision.status, decision.deferred, decision.retry_at) == (OutcomeStatus.RETRY, True, taken)
    assert decision.error is not None
    assert decision.error.code == "deadline_passed"
    assert DEADLINE.isoformat() in decision.error.message


async def test_the_scheduler_makes_it_unschedulable_with_the_deadline_named_and_fires_it_no_more() -> None:
    plan = make_plan()
    plan.handle(CH, approved("c1", at=T0, deadline=DEADLINE, priority=Priority.URGENT), T0)
    due = _fired(plan, T0)
    assert due.deadline == DEADLINE  # the due record carries it
    taken = DEADLINE + timedelta(hours=3)  # the publisher was down until now
    decision, sent, _ = await _publish(taken, due.deadline)
    assert sent == []
    fx = plan.handle(CH, _outcome(due, decision, taken), taken)
    job = plan.job(due.job_id)
    assert job is not None
    assert job.explanation is not None
    assert (job.state, job.attempt) == (JobState.UNSCHEDULABLE, due.attempt)
    assert job.explanation.binding_constraint == "deadline"
    [reported] = fx.outcomes
    assert reported.status is OutcomeStatus.UNSCHEDULABLE
    assert reported.error is not None
    assert reported.error.code == "deadline"
    assert plan.fire(taken + timedelta(days=30)).due == []


async def test_even_when_the_scheduler_reads_it_with_a_clock_behind_the_publishers() -> None:
    plan = make_plan()
    plan.handle(CH, approved("c1", at=T0, deadline=DEADLINE, priority=Priority.URGENT), T0)
    due = _fired(plan, T0)
    taken = DEADLINE + timedelta(seconds=1)
    decision, _, _ = await _publish(taken, due.deadline)
    behind = DEADLINE - timedelta(minutes=5)  # the scheduler's clock, before the deadline
    plan.handle(CH, _outcome(due, decision, taken), behind)
    job = plan.job(due.job_id)
    assert job is not None
    assert job.state is JobState.UNSCHEDULABLE
    assert plan.fire(DEADLINE + timedelta(days=1)).due == []


async def test_in_time_it_is_posted_the_deadline_instant_included() -> None:
    for at in (DEADLINE - timedelta(hours=1), DEADLINE):
        decision, sent, attempts = await _publish(at, DEADLINE)
        assert decision.status is OutcomeStatus.PUBLISHED
        assert sent == attempts == [f"c1:{CH}"]


async def test_without_a_deadline_it_is_posted_however_late() -> None:
    decision, sent, _ = await _publish(T0 + timedelta(days=300), None)
    assert decision.status is OutcomeStatus.PUBLISHED
    assert sent == [f"c1:{CH}"]


async def test_a_reply_is_not_held_by_a_deadline() -> None:
    target = ReplyTarget(key="k1", comment_id="cm1", post_id="p1", approved_by="yuyun")
    request = PublishRequest(f"r1:{CH}", 1, Content(text="terima kasih"), "m", reply_to=target)
    decision, sent, _ = await _publish(DEADLINE + timedelta(days=1), DEADLINE, request=request)
    assert decision.status is OutcomeStatus.PUBLISHED
    assert sent == [f"r1:{CH}"]


async def test_past_its_deadline_inside_a_blackout_the_deadline_is_the_reason() -> None:
    deadline = SILENCE.start + timedelta(hours=1)
    taken = deadline + timedelta(minutes=1)
    decision, sent, _ = await _publish(taken, deadline, blackouts=(SILENCE,))
    assert sent == []
    assert decision.error is not None
    assert decision.error.code == "deadline_passed"


def test_a_due_record_written_without_a_deadline_reads_as_none() -> None:
    plan = make_plan()
    plan.handle(CH, approved("c1", at=T0, deadline=DEADLINE, priority=Priority.URGENT), T0)
    due = _fired(plan, T0)
    assert decode_as(encode(due), JobDue).deadline == DEADLINE
    older = json.dumps(due.model_dump(mode="json", exclude={"deadline"})).encode()
    assert b"deadline" not in older
    assert decode_as(older, JobDue).deadline is None


INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(deadline=INSTANTS, now=INSTANTS)
def test_held_exactly_when_past_the_deadline_and_never_placed_before_it(
    deadline: datetime, now: datetime
) -> None:
    decision = past_deadline(deadline, now)
    assert (decision is None) == (now <= deadline)
    if decision is not None:
        assert decision.deferred
        assert decision.retry_at is not None
        assert decision.retry_at > deadline

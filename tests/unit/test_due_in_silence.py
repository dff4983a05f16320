"""A job handed to the publisher before an election silence but taken late (the publisher was
down, lagging, or held the call for its account's rate limit) is not posted inside the silence.

The scheduler fired it at a slot before the silence; the publisher checks the channel's
blackouts at the last moment before the call, sends nothing, and answers a deferred retry from
the silence's end. The scheduler then places it by the channel's rules (the real ``Plan`` and
``PolicyChooser``): after the silence inside the deadline, or unschedulable.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.publisher.adapters.port import Credentials, Published, PublishRequest, Target
from services.publisher.decide import Decision
from services.publisher.platform_call import PlatformCaller
from services.publisher.ratelimit import Limit
from shared.events import Content, JobState, OutcomeStatus, Priority, PublishOutcome
from tests.unit.test_local_deferral import _caller as deferral_caller
from tests.unit.test_local_deferral import _fired, _outcome
from tests.unit.test_plan import CH, T0, approved
from tests.unit.test_retry_rules import SILENCE, make_plan, outcome

TARGET = Target(CH, "demo", "http://fake", Credentials("t"))


class _Platform:
    """A platform that takes every post: what reached it."""

    def __init__(self) -> None:
        self.posts: list[str] = []

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        self.posts.append(request.job_id)
        return Published(post_id=f"p{len(self.posts)}", url=None)


def _caller(platform: _Platform, clock: list[datetime]) -> PlatformCaller:
    return deferral_caller(clock, Limit(100, timedelta(minutes=1)), platform)


async def _publish(caller: PlatformCaller, job_id: str, attempts: list[str]) -> Decision:
    async def before_call() -> PublishOutcome:
        attempts.append(job_id)
        return outcome("c1", OutcomeStatus.ATTEMPTED, T0)

    request = PublishRequest(job_id, 1, Content(text="x"), "m")
    return await caller.publish(CH, TARGET, request, before_call=before_call, blackouts=(SILENCE,))


async def test_a_due_job_taken_inside_the_silence_goes_back_to_the_scheduler_unsent() -> None:
    plan = make_plan(blackouts=(SILENCE,))
    plan.handle(CH, approved("c1", at=T0, priority=Priority.URGENT), T0)
    due = _fired(plan, T0)
    assert due.slot < SILENCE.start
    taken = SILENCE.start + timedelta(hours=3)  # the publisher was down until now
    platform, attempts = _Platform(), list[str]()
    decision = await _publish(_caller(platform, [taken]), due.job_id, attempts)
    assert platform.posts == []  # nothing sent
    assert attempts == []  # and no attempt recorded
    assert (decision.status, decision.deferred, decision.retry_at) == (OutcomeStatus.RETRY, True, SILENCE.end)
    assert decision.error is not None
    assert decision.error.code == "blackout"
    # the scheduler places it again by the channel's rules: the same attempt, after the silence
    plan.handle(CH, _outcome(due, decision, taken), taken)
    job = plan.job(due.job_id)
    assert job is not None
    assert (job.state, job.attempt, job.slot) == (JobState.RETRYING, due.attempt, SILENCE.end)
    assert _fired(plan, SILENCE.end).attempt == due.attempt


async def test_past_its_deadline_it_becomes_unschedulable_rather_than_posted() -> None:
    plan = make_plan(blackouts=(SILENCE,))
    deadline = SILENCE.start + timedelta(hours=2)
    plan.handle(CH, approved("c1", at=T0, deadline=deadline, priority=Priority.URGENT), T0)
    due = _fired(plan, T0)
    taken = SILENCE.start + timedelta(minutes=1)
    platform: _Platform = _Platform()
    decision = await _publish(_caller(platform, [taken]), due.job_id, [])
    assert platform.posts == []
    fx = plan.handle(CH, _outcome(due, decision, taken), taken)
    job = plan.job(due.job_id)
    assert job is not None
    assert job.state is JobState.UNSCHEDULABLE
    assert [o.status for o in fx.outcomes] == [OutcomeStatus.UNSCHEDULABLE]


async def test_taken_before_the_silence_it_is_posted() -> None:
    platform, attempts = _Platform(), list[str]()
    just_before = SILENCE.start - timedelta(microseconds=1)
    decision = await _publish(_caller(platform, [just_before]), f"c1:{CH}", attempts)
    assert decision.status is OutcomeStatus.PUBLISHED
    assert platform.posts == attempts == [f"c1:{CH}"]

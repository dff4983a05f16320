"""A due job the publisher takes after its item's deadline is never posted; it ends unschedulable.

The router, the planner (the real ``PolicyChooser``) and a publisher run against the real
broker. An urgent item is approved with a deadline an hour away and fired at once; the publisher
is two hours behind (its clock reads the instant it takes the job: after a restart, a backlog),
so the due job reaches it past the deadline. It calls nothing and records no attempt; its
deferred retry goes back to the scheduler, which reports the job unschedulable with the deadline
named and fires it no more.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.publisher.ratelimit import RateLimits
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.router import Router
from shared.codec import encode
from shared.events import JobDue, JobState, OutcomeStatus, Priority, PublishOutcome, job_id_for
from tests.integration.poison_kit import approved, eventually
from tests.integration.test_crash_points import CH, DIRECTORY, PLATFORM, FlakyPlatform, committed, decoded
from tests.integration.test_publisher_answers import running_publisher

pytestmark = pytest.mark.integration


async def test_a_due_job_taken_past_its_deadline_is_not_posted_and_ends_unschedulable(
    kafka_bootstrap: str,
) -> None:
    platform = FlakyPlatform()
    behind = timedelta(hours=2)
    run = uuid.uuid4().hex[:8]
    async with running_publisher(
        kafka_bootstrap, platform, RateLimits({}), clock=lambda: datetime.now(UTC) + behind
    ) as (topics, plain):
        plan = Plan(DIRECTORY, PolicyChooser(), PlanSettings())
        planner = Planner(kafka_bootstrap, topics, f"planner-{run}", DIRECTORY, plan, plain, tick_s=0.05)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(Router(kafka_bootstrap, topics, f"router-{run}", DIRECTORY, plain).run(stop)),
            asyncio.create_task(planner.run(stop)),
        ]
        job_id = job_id_for("c1", CH)
        try:
            deadline = datetime.now(UTC) + timedelta(hours=1)  # the event starts then: no post after it
            item = approved("c1", CH, priority=Priority.URGENT, not_before=None, deadline=deadline)
            await plain.send_and_wait(topics.content_approved, encode(item), key=b"c1")

            def ended() -> bool:
                job = planner.plan.job(job_id)
                done = job is not None and job.state in (JobState.UNSCHEDULABLE, JobState.PUBLISHED)
                return done or sum(platform.calls.values()) > 0

            await eventually(ended, "the job to end")
        finally:
            stop.set()
            await asyncio.gather(*tasks)
        assert sum(platform.calls.values()) == 0, f"the platform was called: {dict(platform.calls)}"
        job = planner.plan.job(job_id)
        assert job is not None
        assert job.explanation is not None
        assert (job.state, job.attempt, job.explanation.binding_constraint) == (
            JobState.UNSCHEDULABLE,
            1,
            "deadline",
        )
        dues = decoded(await committed(kafka_bootstrap, topics.publish(PLATFORM)), JobDue)
        assert [(d.attempt, d.deadline) for d in dues] == [(1, deadline)]  # fired once, carrying it
        outcomes = decoded(await committed(kafka_bootstrap, topics.publish_outcomes), PublishOutcome)
        said = [(o.attempt, o.status, o.deferred, o.error.code if o.error else None) for o in outcomes]
        # No attempted record: nothing was spent, nothing reached the platform.
        assert said == [
            (1, OutcomeStatus.RETRY, True, "deadline_passed"),
            (1, OutcomeStatus.UNSCHEDULABLE, False, "deadline"),
        ]

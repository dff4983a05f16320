"""A call the account's own rate limit puts off was never made: it spends no attempt.

Both sides: the publisher answers a ``deferred`` retry, spread out, and its ledger sends the same
attempt again; the scheduler fires the same attempt again. Then the property that matters: any
number of deferrals leaves a job its whole retry budget for the platform's own answers.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.publisher.adapters.port import Adapter, Credentials, PublishRequest, Target, Temporary
from services.publisher.attempt_ledger import outcome_of
from services.publisher.decide import Decision, RetryPolicy, decide, deferral
from services.publisher.ledger_decision import Incarnation, Send, next_step
from services.publisher.platform_call import PlatformCaller
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.reconciler import Reconciler
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.store_memory import MemoryJobStore
from shared.events import Content, JobDue, OutcomeStatus, PublishOutcome
from tests.unit.test_plan import CH, DIRECTORY, T0, approved

POLICY = RetryPolicy()
ME = Incarnation("publisher-mastodon-a", "now", started_at=T0, stable=True)


def _caller(clock: list[datetime], limit: Limit, adapter: object = None) -> PlatformCaller:
    limits = RateLimits({CH: (limit,)})
    return PlatformCaller(
        cast(Adapter, adapter),  # None: never reached, the limiter puts every call off
        limits,
        cast(Reconciler, None),
        POLICY,
        publish_timeout_s=5.0,
        max_local_wait=timedelta(seconds=2),
        clock=lambda: clock[0],
        rng=random.Random(7),
    )


async def _never_called() -> PublishOutcome:
    raise AssertionError("a deferred call records no attempt")


async def test_jobs_bunched_on_a_spent_account_are_deferred_spread_out_at_their_attempt() -> None:
    clock = [T0]
    caller = _caller(clock, Limit(1, timedelta(minutes=1)))
    caller.limits.for_channel(CH).take(T0)  # the minute's one call is spent
    target = Target(CH, "demo", "http://fake", Credentials("t"))
    decisions = [
        await caller.publish(
            CH,
            target,
            PublishRequest(f"c{i}:{CH}", 3, Content(text="x"), "m"),
            before_call=_never_called,
        )
        for i in range(20)
    ]
    assert {(d.status, d.deferred) for d in decisions} == {(OutcomeStatus.RETRY, True)}
    returns = [d.retry_at for d in decisions]
    assert all(r is not None and T0 + timedelta(minutes=1) <= r <= T0 + timedelta(minutes=2) for r in returns)
    assert len(set(returns)) == len(returns)  # not all back at the instant the token frees


@pytest.mark.parametrize(
    ("wait", "latest"),
    [
        (timedelta(seconds=30), timedelta(seconds=60)),
        (timedelta(hours=5), timedelta(hours=6)),  # a daily cap's wait: spread by an hour at most
    ],
)
def test_a_deferral_comes_back_after_the_limiters_wait_spread_by_at_most_the_cap(
    wait: timedelta, latest: timedelta
) -> None:
    rng = random.Random(1)
    for _ in range(200):
        decision = deferral(wait, T0, POLICY, rng)
        assert decision.retry_at is not None
        assert T0 + wait <= decision.retry_at <= T0 + latest
        assert decision.error is not None
        assert decision.error.code == "rate_limited_locally"


def _outcome(due: JobDue, decision: Decision, at: datetime) -> PublishOutcome:
    """The outcome the publisher's ledger writes for ``decision``: its own function, not a copy."""
    return outcome_of(
        due, decision, "mastodon", at, first_attempt_at=None, lease=timedelta(seconds=40), me=ME
    )


def _fired(plan: Plan, at: datetime) -> JobDue:
    [due] = plan.fire(at).due
    return due


def test_the_scheduler_fires_a_deferred_attempt_again_and_the_ledger_sends_it() -> None:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    plan.handle(CH, approved("c1"), T0)
    due = _fired(plan, T0)
    put_off = deferral(timedelta(minutes=3), T0, POLICY, random.Random(0))
    assert put_off.retry_at is not None
    entry = _outcome(due, put_off, T0)
    [job] = plan.handle(CH, entry, T0).jobs
    assert (job.state.value, job.attempt, job.slot) == ("retrying", 1, put_off.retry_at)
    again = _fired(plan, put_off.retry_at)
    assert again.attempt == 1
    assert isinstance(next_step(entry, again, me=ME, lease=timedelta(seconds=40)), Send)


def test_a_retry_the_platform_asked_for_is_still_the_next_attempt() -> None:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    plan.handle(CH, approved("c1"), T0)
    due = _fired(plan, T0)
    failed = decide(Temporary("HTTP 503"), due.attempt, T0, POLICY, random.Random(0))
    assert failed.retry_at is not None
    plan.handle(CH, _outcome(due, failed, T0), T0)
    assert _fired(plan, failed.retry_at).attempt == 2


@settings(max_examples=40, deadline=None)
@given(waits_s=st.lists(st.integers(min_value=3, max_value=86_400), min_size=1, max_size=30))
def test_no_number_of_deferrals_spends_a_jobs_retry_budget(waits_s: list[int]) -> None:
    plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings(), store=MemoryJobStore())
    plan.handle(CH, approved("c1"), T0)
    rng = random.Random(len(waits_s))
    now = T0
    due = _fired(plan, now)
    for wait_s in waits_s:
        put_off = deferral(timedelta(seconds=wait_s), now, POLICY, rng)
        assert put_off.retry_at is not None
        plan.handle(CH, _outcome(due, put_off, now), now)
        now = put_off.retry_at
        due = _fired(plan, now)
    assert due.attempt == 1
    # The platform's first answer finds the whole budget: a 5xx is retried, not the end.
    assert decide(Temporary("HTTP 503"), due.attempt, now, POLICY, rng).status is OutcomeStatus.RETRY

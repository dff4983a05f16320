"""A platform's publishing quota (Instagram's 9/2207042, Threads' limit) is a wait, not a failure:
it spends no attempt for two of its windows after the job's first attempt, then counts again;
and it holds none of the account's other calls back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from services.publisher.adapters._http import Reply
from services.publisher.adapters.graph import graph_error
from services.publisher.adapters.port import (
    Adapter,
    Credentials,
    Published,
    PublishingQuota,
    PublishRequest,
    RateLimited,
    Target,
    Temporary,
)
from services.publisher.decide import RetryPolicy, decide
from services.publisher.platform_call import PlatformCaller
from services.publisher.ratelimit import Limit, RateLimits
from services.publisher.reconciler import Reconciler
from shared.events import Content, OutcomeStatus, PublishOutcome

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=6)
QUOTA = 3 * 3600.0  # the window's oldest post leaves it in three hours


def _quota() -> PublishingQuota:
    return PublishingQuota("daily publishing limit", code="graph_9_2207042", retry_after=QUOTA)


@pytest.mark.parametrize(
    ("error", "attempt", "first_attempt_at", "status", "deferred"),
    [
        # the quota: retried after its wait at the same attempt, even at the last one
        (_quota(), 1, NOW - timedelta(minutes=1), OutcomeStatus.RETRY, True),
        (_quota(), 6, NOW - timedelta(hours=30), OutcomeStatus.RETRY, True),
        (_quota(), 6, None, OutcomeStatus.RETRY, True),
        # two windows after the first attempt, waiting has stopped being free: it counts
        (_quota(), 5, NOW - timedelta(hours=48), OutcomeStatus.RETRY, False),
        (_quota(), 6, NOW - timedelta(hours=48), OutcomeStatus.DEAD, False),
        # a throttle of the pace of calls (a 429 with Retry-After) counts as before
        (RateLimited("429", retry_after=QUOTA), 5, NOW, OutcomeStatus.RETRY, False),
        (RateLimited("429", retry_after=QUOTA), 6, NOW, OutcomeStatus.DEAD, False),
        (Temporary("HTTP 503"), 6, NOW, OutcomeStatus.DEAD, False),
    ],
)
def test_a_publishing_quota_waits_without_spending_attempts(
    error: Temporary, attempt: int, first_attempt_at: datetime | None, status: OutcomeStatus, deferred: bool
) -> None:
    decision = decide(error, attempt, NOW, POLICY, random.Random(0), first_attempt_at=first_attempt_at)
    assert (decision.status, decision.deferred) == (status, deferred)
    if status is OutcomeStatus.RETRY and error.retry_after:
        assert decision.retry_at is not None
        assert decision.retry_at >= NOW + timedelta(seconds=error.retry_after)


def test_instagrams_daily_limit_reads_as_a_publishing_quota() -> None:
    body = b'{"error":{"message":"Application request limit reached","code":9,"error_subcode":2207042}}'
    found = graph_error("instagram", Reply(400, {}, body), NOW)  # type: ignore[arg-type]
    assert isinstance(found, PublishingQuota)
    throttled = b'{"error":{"message":"(#4) Application request limit reached","code":4}}'
    app_limit = graph_error("instagram", Reply(400, {}, throttled), NOW)  # type: ignore[arg-type]
    assert isinstance(app_limit, RateLimited)
    assert not isinstance(app_limit, PublishingQuota)


class QuotaSpent:
    """A platform whose publishing quota is used up: every post is refused, nothing made."""

    platform = "instagram"

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        raise _quota()


async def test_a_used_up_quota_holds_no_other_call_of_the_account_back() -> None:
    limits = RateLimits({"ig": (Limit(200, timedelta(hours=1)),)})
    caller = PlatformCaller(
        cast(Adapter, QuotaSpent()),
        limits,
        cast(Reconciler, None),  # a quota's refusal is no ambiguous answer: nothing to look up
        POLICY,
        publish_timeout_s=5.0,
        max_local_wait=timedelta(seconds=2),
        clock=lambda: NOW,
        rng=random.Random(0),
    )

    async def recorded() -> PublishOutcome:
        return PublishOutcome(
            event_id="a", occurred_at=NOW, job_id="c1:ig", content_id="c1", channel="ig",
            platform="instagram", attempt=6, status=OutcomeStatus.ATTEMPTED, first_attempt_at=NOW,
        )  # fmt: skip

    target = Target("ig", "1784", "http://fake", Credentials("t"))
    request = PublishRequest("c1:ig", 6, Content(text="x"), "m")
    decision = await caller.publish("ig", target, request, before_call=recorded)
    assert (decision.status, decision.deferred) == (OutcomeStatus.RETRY, True)
    assert limits.for_channel("ig").wait(NOW) == timedelta(0)  # replies and hides still go

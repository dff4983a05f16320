"""What to do after calling a platform: the publisher's pure decision table.

    Published                      → published
    Temporary / RateLimited        → retry at now + max(platform's wait, backoff with jitter);
                                     dead once attempts are exhausted
    PublishingQuota                → that retry at the same attempt (``deferred``): nothing was
                                     made, the window will move; free within ``quota_patience``
    put off by the account's own   → retry once the limiter allows, spread by jitter, at the same
    rate limit (``deferred``)        attempt: the platform never saw it, so it spends none
    Permanent (incl. Duplicate)    → failed, with the platform's message
    AuthExpired                    → needs_reauth: the channel's jobs are parked, not dropped
    Ambiguous                      → reconcile first (see ``after_reconcile``)
    NotSupported                   → failed

After a lookup (``after_lookup``), for an attempt that may have reached the platform:

    Published                      → published, with the post found
    Absent                         → send (again), unless another worker's attempt may still be
                                     running (its lease) and the platform would not fold the two
                                     into one: then ask again when the lease ends
    Unknown, platform may tell later → ask again then
    the lookup failed for now (Temporary, RateLimited: 5xx, 429, a refused connection)
                                   → ask again after the platform's wait (or LOOKUP_RETRY): a
                                     throttled platform has not said it cannot tell
    Unknown, NotSupported, any other failed lookup → unconfirmed, with the platform's reason

Lookups that are still "ask again" after a reconciliation's last one (``lookups_unanswered``):
the platform never said it cannot tell, it was down or slow, so the job is retried like a failed
call, marked ``reconcile_first``: its next attempt looks the earlier one up before it sends
anything. Only once the attempts are exhausted does it become unconfirmed.

Never a blind re-send: only a proven absence sends again.

Before a post's call, right as it would leave: inside one of the channel's blackouts
(``silenced``), past the item's deadline (``past_deadline``), or stopped by an operator's command
(its channel paused, its item withdrawn or superseded: ``control_state``), nothing is sent and no
attempt is spent; a deferred retry (``held_back``) hands the job back to the scheduler, which
places it by the channel's rules, holds it, or ends it.

Backoff is exponential with full jitter (AWS Architecture Blog, "Exponential Backoff And
Jitter"): a herd of jobs retrying after one platform outage spreads out instead of stampeding.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.publisher.adapters.port import (
    Absent,
    AdapterError,
    Ambiguous,
    AuthExpired,
    Lookup,
    NotSupported,
    Permanent,
    Published,
    PublishingQuota,
    PublishRequest,
    Temporary,
    Unknown,
)
from shared.events import OutcomeStatus, PlatformError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    # How long after its first attempt a job may wait for a platform's publishing quota without
    # spending attempts: two of its 24 h windows. By then every post the window held when the job
    # first tried has left it, so a quota still used up is spent by others as fast as it frees;
    # from then on each refusal counts, and the job ends instead of waiting for ever.
    quota_patience: timedelta = timedelta(hours=48)

    def exhausted(self, attempt: int) -> bool:
        """No attempt after ``attempt``: a failed one ends the job (dead, or unconfirmed)."""
        return attempt >= self.max_attempts

    def waits_free(self, result: Temporary, first_attempt_at: datetime | None, now: datetime) -> bool:
        """Whether this refusal is a publishing quota the job may still wait for at no attempt."""
        if not isinstance(result, PublishingQuota):
            return False
        return first_attempt_at is None or now - first_attempt_at < self.quota_patience

    def delay(self, attempt: int, rng: random.Random, platform_wait: float | None) -> timedelta:
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempt - 1))
        jittered = rng.uniform(ceiling / 2, ceiling)  # half-jitter: never retry instantly
        return timedelta(seconds=max(jittered, platform_wait or 0.0))


@dataclass(frozen=True)
class Decision:
    status: OutcomeStatus
    retry_at: datetime | None = None
    error: PlatformError | None = None
    post_id: str | None = None
    url: str | None = None
    # A retry whose earlier attempt may have reached the platform (lookups went unanswered):
    # the next attempt reconciles before it sends.
    reconcile_first: bool = False
    # A retry that spends no attempt (the call was put off, or a publishing quota refused it with
    # nothing made): the scheduler keeps the attempt's number.
    deferred: bool = False


def platform_error(exc: AdapterError) -> PlatformError:
    return PlatformError(code=exc.code[:200], message=exc.message[:4000], http_status=exc.http_status)


def decide(
    result: Published | AdapterError,
    attempt: int,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    first_attempt_at: datetime | None = None,
) -> Decision:
    if isinstance(result, Published):
        return Decision(OutcomeStatus.PUBLISHED, post_id=result.post_id, url=result.url)
    err = platform_error(result)
    if isinstance(result, Temporary):
        free = policy.waits_free(result, first_attempt_at, now)
        if policy.exhausted(attempt) and not free:
            return Decision(OutcomeStatus.DEAD, error=err)
        retry_at = now + policy.delay(attempt, rng, result.retry_after)
        return Decision(OutcomeStatus.RETRY, retry_at=retry_at, error=err, deferred=free)
    if isinstance(result, AuthExpired):
        return Decision(OutcomeStatus.NEEDS_REAUTH, error=err)
    if isinstance(result, Ambiguous):
        # The caller reconciles before it gets here; an ambiguous result that reaches the table
        # is one the platform could not settle.
        return Decision(OutcomeStatus.UNCONFIRMED, error=err)
    if isinstance(result, Permanent):
        return Decision(OutcomeStatus.FAILED, error=err)
    return Decision(OutcomeStatus.FAILED, error=err)


def deferral(wait: timedelta, now: datetime, policy: RetryPolicy, rng: random.Random) -> Decision:
    """The account's own rate limit allows the next call only in ``wait``: retry then.

    Jobs bunched on a capped account all hear the same ``wait``; each is sent back at a random
    instant between ``wait`` and twice that (the backoff's half-jitter with the limiter's wait as
    its floor; the spread at most ``policy.cap``), so they return spread out and take the freed
    tokens one by one instead of meeting the limiter together again.
    """
    spread = rng.uniform(0.0, min(wait, policy.cap).total_seconds())
    error = PlatformError(code="rate_limited_locally", message=f"account quota: next call in {wait}")
    retry_at = now + wait + timedelta(seconds=spread)
    return Decision(OutcomeStatus.RETRY, retry_at=retry_at, error=error, deferred=True)


def held_back(code: str, message: str, retry_at: datetime) -> Decision:
    """A post stopped as it would leave: nothing is sent and no attempt is spent; the job goes
    back to the scheduler, which may fire it again from ``retry_at`` by the channel's rules."""
    error = PlatformError(code=code, message=message[:4000])
    return Decision(OutcomeStatus.RETRY, retry_at=retry_at, error=error, deferred=True)


def silenced(until: datetime, reason: str) -> Decision:
    """The channel is in a blackout (an election silence) as the call would leave: a job handed
    over before it began but taken late. Nothing is sent and no attempt is spent; the scheduler
    places the job again from the blackout's end, by the channel's rules and inside its deadline."""
    return held_back("blackout", f"{reason}: the channel is silent until {until.isoformat()}", until)


def past_deadline(deadline: datetime, now: datetime) -> Decision | None:
    """A post taken after its item's deadline (the publisher was down, lagging, or the account's
    rate limit held the call) is not sent, and spends no attempt: it goes back to the scheduler
    as a deferred retry from ``now``, which lies past the deadline, so the scheduler reports the
    job unschedulable with the deadline named instead of firing it again. None: still in time
    (the deadline instant itself is, as for the scheduler)."""
    if now <= deadline:
        return None
    message = f"the deadline {deadline.isoformat()} passed before it could be sent (at {now.isoformat()})"
    return held_back("deadline_passed", message, now)


@dataclass(frozen=True)
class SendAgain:
    """The platform showed that the earlier attempt left no post: publishing is safe."""

    evidence: str


@dataclass(frozen=True)
class AskAgain:
    """Look up again at ``at``: the platform may tell by then."""

    at: datetime
    why: str


# How long to wait before asking again after a lookup failed for now without the platform's wait.
LOOKUP_RETRY = timedelta(seconds=5)


def after_lookup(
    platform: str, result: Lookup | AdapterError, *, now: datetime, live_until: datetime | None
) -> Decision | SendAgain | AskAgain:
    """What a reconciliation lookup settles (the second table in the module docstring)."""
    if isinstance(result, Published):
        return Decision(OutcomeStatus.PUBLISHED, post_id=result.post_id, url=result.url)
    if isinstance(result, Absent):
        if not result.safe_while_live and live_until is not None and now < live_until:
            return AskAgain(
                live_until, f"an earlier attempt may still be running until {live_until:%H:%M:%S} UTC"
            )
        return SendAgain(result.evidence)
    if isinstance(result, Unknown):
        if result.ask_again_at is not None:
            return AskAgain(result.ask_again_at, result.reason)
        return unconfirmed(platform, result.reason, result.code)
    if isinstance(result, NotSupported):
        return unconfirmed(platform, result.message, "unconfirmed")
    if isinstance(result, Temporary):
        wait = timedelta(seconds=result.retry_after) if result.retry_after else LOOKUP_RETRY
        return AskAgain(now + wait, f"the lookup could not be answered now ({result.code}): {result}")
    if isinstance(result, AdapterError):
        return Decision(OutcomeStatus.UNCONFIRMED, error=platform_error(result))
    # An answer outside the port (an adapter's bug) proves nothing: never a reason to send again.
    return unconfirmed(platform, f"the lookup answered {type(result).__name__}", "lookup_unreadable")


def lookups_unanswered(
    platform: str,
    last: AskAgain,
    request: PublishRequest,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    """A reconciliation whose every lookup went unanswered (the module docstring's last rule).

    The retry comes no earlier than the platform asked, nor before the earlier attempt's lease
    ends: the next attempt's record no longer holds that lease, and its lookup must not take an
    absence for proof while the call may still be running.
    """
    if policy.exhausted(request.attempt):
        return unconfirmed(
            platform, f"it still could not tell after repeated lookups ({last.why})", "still_unknown"
        )
    asked_s = (last.at - now).total_seconds()
    retry_at = max(now + policy.delay(request.attempt, rng, asked_s), request.earlier_attempt_until or now)
    message = f"an attempt may have reached {platform}; looking it up again at the next attempt: {last.why}"
    return Decision(
        OutcomeStatus.RETRY,
        retry_at=retry_at,
        error=PlatformError(code="lookup_unanswered", message=message[:4000]),
        reconcile_first=True,
    )


def unconfirmed(platform: str, reason: str, code: str) -> Decision:
    message = f"an attempt may have reached {platform} and it cannot tell: {reason}"
    return Decision(OutcomeStatus.UNCONFIRMED, error=PlatformError(code=code[:200], message=message[:4000]))

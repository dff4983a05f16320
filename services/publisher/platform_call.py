"""One publish call to a platform, within its account's rate limit, judged into a ``Decision``.

Calls to one account are serialised by a lock around its rate limiter, so two lanes can never
both spend its last token. ``before_call`` runs under that lock right before the call: the
worker records ``attempted`` there (and hands back the record), so it is on the broker before
anything can reach the platform; a post that may not leave by then (a blackout, or its item's
deadline passed while it waited) is handed back unsent instead. An ambiguous answer (a timeout,
a lost connection, a 5xx or an unreadable answer to the call that creates the post:
``Ambiguous``, raised by ``_http.send`` and the adapters) is reconciled with the platform before
it is judged; only a proven absence is retried as a plain failure.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime, timedelta

from services.publisher.adapters.port import (
    Adapter,
    AdapterError,
    Ambiguous,
    Published,
    PublishingQuota,
    PublishRequest,
    RateLimited,
    Target,
    Temporary,
)
from services.publisher.decide import (
    Decision,
    RetryPolicy,
    decide,
    deferral,
    past_deadline,
    silenced,
)
from services.publisher.platform_answer import answer_within
from services.publisher.ratelimit import RateLimits
from services.publisher.reconciler import Reconciler
from shared.channels import Blackout, blackout_at
from shared.events import PublishOutcome


@dataclass(eq=False)
class PlatformCaller:
    """Publishes one platform's jobs within its rate limits, reconciling an unknown outcome."""

    adapter: Adapter
    limits: RateLimits
    reconciler: Reconciler
    retry: RetryPolicy
    _: KW_ONLY
    publish_timeout_s: float
    max_local_wait: timedelta
    clock: Callable[[], datetime]
    rng: random.Random
    _account_locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False, repr=False)

    async def publish(
        self,
        channel: str,
        target: Target,
        request: PublishRequest,
        *,
        before_call: Callable[[], Awaitable[PublishOutcome]],
        blackouts: Sequence[Blackout] = (),
        deadline: datetime | None = None,
    ) -> Decision:
        """Call the platform for ``request`` (unless the account's quota is spent: retry then;
        or a post would leave inside one of the channel's ``blackouts``, or after its item's
        ``deadline``: it goes back to the scheduler, which fired it before either)."""
        lock = self._account_locks.setdefault(channel, asyncio.Lock())
        async with lock:
            limiter = self.limits.for_channel(channel)
            now = self.clock()
            wait = limiter.wait(now)
            if wait > self.max_local_wait:
                return deferral(wait, now, self.retry, self.rng)
            if wait > timedelta(0):
                await asyncio.sleep(wait.total_seconds())
            held = self._held(request, blackouts, deadline)
            if held is not None:
                return held
            recorded = await before_call()
            took_at = self.clock()
            limiter.take(took_at)
            result = await answer_within(
                self.adapter.moderate(target, request)
                if request.moderate is not None
                else self.adapter.reply(target, request)
                if request.reply_to is not None
                else self.adapter.publish(target, request),
                self.publish_timeout_s,
                # The request may have left: reconciliation finds what the platform did with it.
                lambda limit_s: Ambiguous(f"no answer within {limit_s} s", code="timeout"),
            )
            # The platform counted the call somewhere between sending and its reply; counting it
            # at the reply keeps our window from ever ending before the platform's.
            limiter.settle(took_at, self.clock())
        if request.first_attempt_at is None:
            request = replace(request, first_attempt_at=recorded.first_attempt_at)
        decision = await self._judge(target, request, result)
        # A used-up publishing quota counts posts, not calls: the account's replies and hides
        # go on meanwhile, and each post asks the quota for itself (a read, nothing made).
        throttled = isinstance(result, RateLimited) and not isinstance(result, PublishingQuota)
        if throttled and decision.retry_at is not None:
            limiter.block_until(decision.retry_at)
        return decision

    def _held(
        self, request: PublishRequest, blackouts: Sequence[Blackout], deadline: datetime | None
    ) -> Decision | None:
        """Why a post may not leave now, checked as it would leave (after any local wait): its
        deadline passed (first: then no later instant will do), or a blackout. Replies and hides
        are not held."""
        if not _is_post(request):
            return None
        now = self.clock()
        late = None if deadline is None else past_deadline(deadline, now)
        if late is not None:
            return late
        silence = blackout_at(blackouts, now)
        return None if silence is None else silenced(silence.end, silence.reason)

    async def _judge(
        self, target: Target, request: PublishRequest, result: Published | AdapterError
    ) -> Decision:
        if isinstance(result, Ambiguous):
            # The attempt just made is the one to find; it ended now, as far as we can end it.
            request = replace(
                request,
                earlier_attempt_until=self.clock(),
            )
            settled = await self.reconciler.reconcile(target, request)
            if settled is not None:
                return settled
            # Surely not on the platform: a normal retry is safe.
            result = Temporary(result.message, code=result.code, http_status=result.http_status)
        return decide(
            result,
            request.attempt,
            self.clock(),
            self.retry,
            self.rng,
            first_attempt_at=request.first_attempt_at,
        )


def _is_post(request: PublishRequest) -> bool:
    """A post of the bureau's, which a blackout silences; a reply or a hide is the inbox's."""
    return request.reply_to is None and request.moderate is None

"""One publish call to a platform, within its account's rate limit, judged into a ``Decision``.

Calls to one account are serialised by a lock around its rate limiter, so two lanes can never
both spend its last token. ``before_call`` runs under that lock right before the call: the
worker records ``attempted`` there (and hands back the record), so it is on the broker before
anything can reach the platform; a post that may not leave by then (its item withdrawn or
superseded, its deadline passed while it waited, its channel paused, or a blackout) is handed
back unsent instead. The operators' commands are read up to the topic's end first
(``ControlGate``: a pause acknowledged before the check is never missed; the wait is bounded,
and past it the post is handed back as well). An ambiguous answer (a timeout, a lost
connection, a 5xx or an unreadable answer to the call that creates the post: ``Ambiguous``,
raised by ``_http.send`` and the adapters) is reconciled with the platform before it is judged;
only a proven absence is retried as a plain failure.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

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
from services.publisher.control_state import Hold
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


class ControlGate(Protocol):
    """The operators' commands as the publisher follows them (``control_follower``)."""

    async def read_up(self) -> Hold | None:
        """Wait (bounded) until every command on the topic now has been read; a hold when that
        could not be done in time."""

    def hold(self, channel: str, content_id: str, now: datetime) -> Hold | None:
        """Why a post of ``content_id`` on ``channel`` may not leave at ``now`` (control_state)."""


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
    control: ControlGate | None = None  # None: no command stops a post (tests of other rules)
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
        content_id: str | None = None,
    ) -> Decision:
        """Call the platform for ``request`` (unless the account's quota is spent: retry then;
        or a post of ``content_id`` is stopped by an operator's command, or would leave inside
        one of the channel's ``blackouts`` or after its item's ``deadline``: it goes back to the
        scheduler, which fired it before any of these)."""
        lock = self._account_locks.setdefault(channel, asyncio.Lock())
        async with lock:
            limiter = self.limits.for_channel(channel)
            now = self.clock()
            wait = limiter.wait(now)
            if wait > self.max_local_wait:
                return deferral(wait, now, self.retry, self.rng)
            if wait > timedelta(0):
                await asyncio.sleep(wait.total_seconds())
            stop = await self._commanded(channel, request, content_id)
            held = self._held(request, blackouts, deadline, stop)
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

    async def _commanded(self, channel: str, request: PublishRequest, content_id: str | None) -> Hold | None:
        """What the operators' commands, read up to now, say about this post."""
        if self.control is None or not _is_post(request):
            return None
        unread = await self.control.read_up()
        if unread is not None:
            return unread
        return self.control.hold(channel, content_id or "", self.clock())

    def _held(
        self,
        request: PublishRequest,
        blackouts: Sequence[Blackout],
        deadline: datetime | None,
        stop: Hold | None = None,
    ) -> Decision | None:
        """Why a post may not leave now, checked as it would leave (after any local wait): its
        item withdrawn or superseded (the item's end), its deadline passed (then no later instant
        will do), an operator's pause (or commands that could not be read), or a blackout.
        Replies and hides are the inbox's, not the bureau's posts: none of these holds them."""
        if not _is_post(request):
            return None
        now = self.clock()
        if stop is not None and stop.final:
            return stop.decision(now)
        late = None if deadline is None else past_deadline(deadline, now)
        if late is not None:
            return late
        if stop is not None:
            return stop.decision(now)
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

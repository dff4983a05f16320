"""Settles an attempt that may have reached the platform by looking for it there.

Asks the adapter's ``find_by_marker`` (``find_reply`` for a reply job) and lets
``decide.after_lookup`` judge each answer: found → published; proven absent → send (None); the
platform may tell later, or the lookup failed for now → ask again then, a few times, and if it
still has not answered, retry the job later and look again first (``decide.lookups_unanswered``);
it cannot tell → ``unconfirmed``, and an operator decides. Never a blind re-send, except of a
moderation job (hide, unhide, delete): each is harmless to repeat, so one that may have reached
the platform is sent again without a look-up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta

from services.publisher.adapters.port import (
    Adapter,
    PublishRequest,
    Target,
    Temporary,
)
from services.publisher.adapters.reply_calls import lookup_calls
from services.publisher.decide import (
    AskAgain,
    Decision,
    RetryPolicy,
    SendAgain,
    after_lookup,
    lookups_unanswered,
)
from services.publisher.platform_answer import answer_within

log = logging.getLogger("warta.publisher")

# Lookups in one reconciliation before the job is retried later: enough to outlast a short
# throttle (each failed-for-now lookup waits its turn, ``decide.after_lookup``) without holding
# the channel's lane through a long outage.
MAX_LOOKUPS = 5


@dataclass(eq=False)
class Reconciler:
    """Settles one platform's attempts that may have reached it (see the module's docstring)."""

    adapter: Adapter
    platform: str
    _: KW_ONLY
    call_timeout_s: float
    # Bounded by a lease (the publish timeout and a margin) plus the listing's settle time.
    longest_wait: timedelta
    clock: Callable[[], datetime]
    # When lookups go unanswered the job is retried as a failed call would be: the caller's policy.
    retry: RetryPolicy
    rng: random.Random
    # Called after each wait: the caller's chance to find it lost the job meanwhile (raise).
    after_wait: Callable[[], None] = lambda: None

    async def reconcile(self, target: Target, request: PublishRequest) -> Decision | None:
        """Settle ``request``'s earlier attempt; None = proven absent, send again."""
        if request.moderate is not None:
            # Hiding, showing or deleting twice is harmless (the comment stays as asked): an
            # attempt that may have reached the platform is simply sent again, nothing to look up.
            return None
        # Each platform call is bounded by the HTTP client; the look-up by as many calls as it
        # may make (a paged listing is many).
        calls = lookup_calls(self.platform) if request.reply_to is not None else 1
        lookups = 0
        while True:
            found = await answer_within(
                self.adapter.find_reply(target, request)
                if request.reply_to is not None
                else self.adapter.find_by_marker(target, request),
                self.call_timeout_s * calls,
                # A slow platform has not said it cannot tell: ask again shortly.
                lambda limit_s: Temporary(f"the lookup took over {limit_s} s", code="timeout"),
            )
            lookups += 1
            now = self.clock()
            step = after_lookup(self.platform, found, now=now, live_until=request.earlier_attempt_until)
            if isinstance(step, Decision):
                return step
            if isinstance(step, SendAgain):
                log.info("%s: proven absent (%s); sending", request.job_id, step.evidence)
                return None
            if lookups == MAX_LOOKUPS:
                return lookups_unanswered(self.platform, step, request, now, self.retry, self.rng)
            await self._wait_to_ask_again(step, now)

    async def _wait_to_ask_again(self, step: AskAgain, now: datetime) -> None:
        wait = (step.at - now).total_seconds()
        log.info("waiting %.1f s to look up again: %s", wait, step.why)
        await asyncio.sleep(min(max(0.0, wait), self.longest_wait.total_seconds()))
        self.after_wait()

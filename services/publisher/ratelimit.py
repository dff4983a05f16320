"""Per-account rate limits: token buckets and rolling windows from configuration, tightened by what
the platform reports. Pure: ``now`` is passed in.

A token is taken only when a call is really made, and given back when the call never left
(the platform was not reached), so a retry never spends quota twice.
"""

from __future__ import annotations

import bisect
import contextlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    limit: int
    window: timedelta


@dataclass
class AccountLimiter:
    limits: tuple[Limit, ...]
    _calls: deque[datetime] = field(default_factory=deque)
    _blocked_until: datetime | None = None

    def wait(self, now: datetime) -> timedelta:
        """How long until a call is allowed (zero when allowed now)."""
        waits = [timedelta(0)]
        if self._blocked_until and self._blocked_until > now:
            waits.append(self._blocked_until - now)
        longest = max((lim.window for lim in self.limits), default=timedelta(0))
        while self._calls and now - self._calls[0] >= longest:
            self._calls.popleft()
        for lim in self.limits:
            recent = [c for c in self._calls if now - c < lim.window]
            if len(recent) >= lim.limit:
                waits.append(recent[len(recent) - lim.limit] + lim.window - now)
        return max(waits)

    def take(self, now: datetime) -> None:
        bisect.insort(self._calls, now)  # kept sorted: ``wait`` reads the window's oldest calls

    def settle(self, took_at: datetime, answered_at: datetime) -> None:
        """Move a call's count from when it was sent to when it was answered.

        The platform counts the call at some instant in between; counting it at the later end
        means the call that our window next allows can never reach the platform early.
        """
        with contextlib.suppress(ValueError):
            self._calls.remove(took_at)
            bisect.insort(self._calls, answered_at)

    def give_back(self, at: datetime) -> None:
        with contextlib.suppress(ValueError):
            self._calls.remove(at)

    def block_until(self, until: datetime) -> None:
        """The platform said: no more calls until ``until`` (429 reset, retry_after…)."""
        if self._blocked_until is None or until > self._blocked_until:
            self._blocked_until = until

    def headroom(self, now: datetime) -> float:
        """Fraction of the tightest window still free, for the rate-limit headroom metric."""
        fractions = [1.0]
        for lim in self.limits:
            used = sum(1 for c in self._calls if now - c < lim.window)
            fractions.append(max(0.0, 1 - used / lim.limit))
        return min(fractions)


class RateLimits:
    def __init__(self, defaults: dict[str, tuple[Limit, ...]]) -> None:
        self._defaults = defaults  # by channel
        self._accounts: dict[str, AccountLimiter] = {}

    def for_channel(self, channel: str) -> AccountLimiter:
        limiter = self._accounts.get(channel)
        if limiter is None:
            limiter = self._accounts[channel] = AccountLimiter(self._defaults.get(channel, ()))
        return limiter

    def items(self) -> list[tuple[str, AccountLimiter]]:
        return list(self._accounts.items())

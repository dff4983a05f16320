"""A channel's health as operators see it, from the outcomes of its jobs: ok, throttled,
failing, or waiting for re-authorisation, with its recent failure ratio. Pure: ``ConsoleView``
folds outcomes through ``health_after``; the dashboard and ``/metrics`` read the result.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.events import OutcomeStatus, PlatformError

RATE_CODES = ("rate", "limit", "flood", "throttl", "quota")
RECENT = 20


class Health(StrEnum):
    OK = "ok"
    THROTTLED = "throttled"
    NEEDS_REAUTH = "needs_reauth"
    FAILING = "failing"
    UNKNOWN = "unknown"


SEVERITY = {Health.UNKNOWN: 0, Health.OK: 1, Health.THROTTLED: 2, Health.FAILING: 3, Health.NEEDS_REAUTH: 4}


def is_rate_limited(error: PlatformError | None) -> bool:
    if error is None:
        return False
    code = error.code.lower()
    return error.http_status == 429 or any(word in code for word in RATE_CODES)


def health_after(status: OutcomeStatus, error: PlatformError | None) -> Health | None:
    """The health one settled outcome implies; None for an outcome that settles nothing."""
    if status is OutcomeStatus.ATTEMPTED:
        return None
    if status is OutcomeStatus.PUBLISHED:
        return Health.OK
    if status is OutcomeStatus.NEEDS_REAUTH:
        return Health.NEEDS_REAUTH
    if status is OutcomeStatus.RETRY and is_rate_limited(error):
        return Health.THROTTLED
    return Health.FAILING


@dataclass
class ChannelHealth:
    channel: str
    platform: str
    health: Health = Health.UNKNOWN
    last_error: PlatformError | None = None
    last_error_at: datetime | None = None
    updated_at: datetime | None = None
    recent: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT))  # True = published

    @property
    def failure_ratio(self) -> float | None:
        if not self.recent:
            return None
        return sum(1 for ok in self.recent if not ok) / len(self.recent)

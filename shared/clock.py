"""The wall clock, in one place: the default ``clock`` every service and fake is handed.

Time-based decisions take ``now`` as an argument; only the edges that wire a service call this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, as an aware UTC instant (never a naive local time)."""
    return datetime.now(UTC)

"""An event for the writer's unit tests to write: its content is not what they look at."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.events import ControlAction, ControlIssued


def event(n: int) -> ControlIssued:
    """The ``n``-th of a series of distinct withdrawals."""
    return ControlIssued(
        event_id=f"e{n}",
        occurred_at=datetime(2026, 11, 26, tzinfo=UTC),
        action=ControlAction.WITHDRAW,
        content_id=f"c{n}",
        by="yuyun",
        reason="test",
    )

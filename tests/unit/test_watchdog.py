from __future__ import annotations

import time

from shared.watchdog import Watchdog


def test_a_loop_that_stops_beating_is_reported() -> None:
    dog = Watchdog(limit_s=10)
    now = time.monotonic()
    dog.beat("planner", at=now)
    dog.beat("router", at=now)
    assert dog.stalled(now + 5) == []
    dog.beat("router", at=now + 5)
    assert dog.stalled(now + 10.5) == ["planner"]


def test_no_beats_yet_is_not_a_stall() -> None:
    assert Watchdog(limit_s=0.001).stalled() == []

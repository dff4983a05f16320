"""A timer wheel of job references: what fires when, in a few dozen bytes per job.

Buckets are tenths of a second, rounded up so that nothing fires before its instant (and at
most 100 ms after it); each holds the integer references of jobs due then (a positive
reference fires the publish, a negative one a measurement). Entries are never removed
when a job changes: the plan re-reads the job when its bucket comes due and skips stale ones.
"""

from __future__ import annotations

import heapq
import math
from array import array

TICKS_PER_SECOND = 10


class TimerWheel:
    def __init__(self) -> None:
        self._buckets: dict[int, array[int]] = {}
        self._seconds: list[int] = []
        self._size = 0

    def add(self, at: float, ref: int) -> None:
        second = math.ceil(round(at * TICKS_PER_SECOND, 6))
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = array("q")
            heapq.heappush(self._seconds, second)
        bucket.append(ref)
        self._size += 1

    def next_at(self) -> float | None:
        return self._seconds[0] / TICKS_PER_SECOND if self._seconds else None

    def pop_due(self, now: float, limit: int) -> list[int]:
        """References due at ``now`` (whole buckets, so a bucket may push past ``limit``)."""
        out: list[int] = []
        tick = now * TICKS_PER_SECOND
        while self._seconds and self._seconds[0] <= tick and len(out) < limit:
            second = heapq.heappop(self._seconds)
            out.extend(self._buckets.pop(second))
        self._size -= len(out)
        return out

    def clear(self) -> None:
        self._buckets.clear()
        self._seconds.clear()
        self._size = 0

    def __len__(self) -> int:
        return self._size

"""When jobs fire, in a few bytes per job: a coarse wheel for the far future, an exact heap for
the minute at hand.

The wheel holds integer job references in one-minute buckets (a positive reference fires the
publish, a negative one a measurement): 8 bytes per pending job. When a bucket's minute begins,
its references move to the near heap with their exact instants (read from the store), and fire
at those instants. Entries are never removed when a job changes: the plan re-reads each job when
it comes due and skips stale entries.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Iterable

BUCKET_SECONDS = 60.0

InstantsOf = Callable[[list[int]], Iterable[tuple[int, float | None]]]
"""For references, their exact due instants (epoch seconds; None = no longer due)."""


class TimerWheel:
    def __init__(self) -> None:
        self._buckets: dict[int, array[int]] = {}
        self._keys: list[int] = []  # heap of bucket numbers
        self._near: list[tuple[float, int]] = []  # heap of (instant, reference)
        self._open_before = -(2**62)  # buckets numbered below this have been opened
        self._size = 0

    def add(self, at: float, ref: int) -> None:
        key = math.floor(at / BUCKET_SECONDS)
        if key < self._open_before:  # its minute has begun: straight to the exact heap
            heapq.heappush(self._near, (at, ref))
        else:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = array("q")
                heapq.heappush(self._keys, key)
            bucket.append(ref)
        self._size += 1

    def add_many(self, entries: Iterable[tuple[float, int]]) -> None:
        """``add`` for each (instant, reference): the same result, for a restore's million."""
        buckets, keys, near, opened = self._buckets, self._keys, self._near, self._open_before
        floor, push, added = math.floor, heapq.heappush, 0
        for at, ref in entries:
            key = floor(at / BUCKET_SECONDS)
            if key < opened:
                push(near, (at, ref))
            else:
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = array("q")
                    push(keys, key)
                bucket.append(ref)
            added += 1
        self._size += added

    def next_at(self) -> float | None:
        candidates = []
        if self._near:
            candidates.append(self._near[0][0])
        if self._keys:
            candidates.append(self._keys[0] * BUCKET_SECONDS)
        return min(candidates) if candidates else None

    def pop_due(self, now: float, instants_of: InstantsOf, limit: int) -> list[int]:
        """References whose instant has come, in instant order."""
        while self._keys and self._keys[0] * BUCKET_SECONDS <= now:
            key = heapq.heappop(self._keys)
            self._open_before = max(self._open_before, key + 1)
            refs = list(self._buckets.pop(key))
            self._size -= len(refs)
            for ref, at in instants_of(refs):
                if at is not None:
                    heapq.heappush(self._near, (at, ref))
                    self._size += 1
        out: list[int] = []
        while self._near and self._near[0][0] <= now and len(out) < limit:
            out.append(heapq.heappop(self._near)[1])
        self._size -= len(out)
        return out

    def clear(self) -> None:
        self._buckets.clear()
        self._keys.clear()
        self._near.clear()
        self._size = 0

    def __len__(self) -> int:
        return self._size

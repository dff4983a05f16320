"""When jobs fire, in a few bytes per job: a coarse wheel for the near future, an exact heap for
the minute at hand, and the store for everything later.

The wheel holds integer job references in one-minute buckets (a positive reference fires the
publish, a negative one a measurement): 8 bytes per entry. When a bucket's minute begins, its
references move to the near heap with their exact instants (read from the store), and fire at
those instants. Entries are never removed when a job changes: the plan re-reads each job when it
comes due and skips stale entries.

With a ``pager`` (the store's index of due instants), the wheel holds only the entries due before
``loaded_until`` and pages the next ones in, a bounded page at a time, ``lead`` seconds before
they can come due. A restart then reads one page, not every pending job (a million of them took
seconds to index); an entry added at or after ``loaded_until`` is left to the pager, which reads
it from the store when its time nears, so nothing is held twice.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Iterable

BUCKET_SECONDS = 60.0

InstantsOf = Callable[[list[int]], Iterable[tuple[int, float | None]]]
"""For references, their exact due instants (epoch seconds; None = no longer due)."""

Pager = Callable[[float, int], tuple[list[tuple[float, int]], float]]
"""From an instant on, about ``limit`` entries (instant, reference) in instant order, and the
instant before which they are all there is (``math.inf``: nothing later)."""


class TimerWheel:
    def __init__(self, pager: Pager | None = None, *, page_size: int = 2000, lead: float = 120.0) -> None:
        self._buckets: dict[int, array[int]] = {}
        self._keys: list[int] = []  # heap of bucket numbers
        self._near: list[tuple[float, int]] = []  # heap of (instant, reference)
        self._open_before = -(2**62)  # buckets numbered below this have been opened
        self._size = 0
        self._pager = pager
        # A page is a few tens of ms of SQLite: small enough not to delay a firing much.
        self._page_size = page_size
        self._lead = lead
        self.loaded_until = -math.inf if pager is not None else math.inf

    def reload(self) -> None:
        """Forget every entry: the pager reads them again from the store (after a restore)."""
        self.clear()
        self._open_before = -(2**62)
        self.loaded_until = -math.inf if self._pager is not None else math.inf

    def _page_in(self, now: float) -> None:
        while self._pager is not None and self.loaded_until <= now + self._lead:
            entries, until = self._pager(self.loaded_until, self._page_size)
            self.loaded_until = until
            self.add_many(entries)

    def add(self, at: float, ref: int) -> None:
        if at >= self.loaded_until:
            return  # the pager reads it from the store when its time nears
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
        """``add`` for each (instant, reference) before ``loaded_until``, in bulk (a page)."""
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
        # When the next page is due to be read (0.0, long past, before the first page).
        candidates = [max(0.0, self.loaded_until - self._lead)] if self.loaded_until < math.inf else []
        if self._near:
            candidates.append(self._near[0][0])
        if self._keys:
            candidates.append(self._keys[0] * BUCKET_SECONDS)
        return min(candidates) if candidates else None

    def pop_due(self, now: float, instants_of: InstantsOf, limit: int) -> list[int]:
        """References whose instant has come, in instant order."""
        self._page_in(now)
        while self._keys and self._keys[0] * BUCKET_SECONDS <= now:
            key = heapq.heappop(self._keys)
            self._open_before = max(self._open_before, key + 1)
            refs = list(self._buckets.pop(key))
            self._size -= len(refs)
            for ref, at in instants_of(refs):
                if at is not None and at < self.loaded_until:  # later: the pager has it
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

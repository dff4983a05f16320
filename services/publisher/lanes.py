"""Which offsets a publisher may commit while it handles records out of partition order.

The worker hands each fetched record to its channel's lane (one FIFO per channel, so one job's
deliveries stay in order: a job belongs to one channel) and lanes run concurrently. A partition's
offset may then only move past records that are *all* settled, so the tracker keeps, per
partition, the fetched records in offset order and releases the longest settled prefix.

Pure bookkeeping: no Kafka, no clock. A record that is never marked done holds its partition's
commits back, which is the point: after a crash it is redelivered, and the attempt ledger
decides what to do with it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.events import split_job_id

P = TypeVar("P")  # a partition, e.g. aiokafka's TopicPartition


def lane_key(key: bytes | None) -> bytes:
    """The lane of a record with this key: its job's channel, read without decoding the event.

    Job ids are read by ``split_job_id``; a record whose key doesn't look like one gets a lane of
    its own key, which is just as safe (a job never changes its key).
    """
    key = key or b""
    parts = split_job_id(key.decode("utf-8", "surrogateescape"))
    return parts[1].encode("utf-8", "surrogateescape") if parts else key


@dataclass
class Entry(Generic[P]):
    partition: P
    offset: int
    done: bool = False
    running: bool = False  # being handled now (a rebalance waits for these, not for queued ones)


@dataclass
class OffsetTracker(Generic[P]):
    _pending: dict[P, deque[Entry[P]]] = field(default_factory=dict)

    def track(self, partition: P, offset: int) -> Entry[P]:
        queue = self._pending.setdefault(partition, deque())
        if queue and queue[-1].offset >= offset:
            # The partition was fetched again from its committed offset (a rebalance gave it back):
            # everything tracked is being redelivered, and each copy queues behind its original
            # in the same lane, so the older entries can be forgotten.
            queue.clear()
        entry = Entry(partition, offset)
        queue.append(entry)
        return entry

    def committable(self) -> dict[P, int]:
        """Next offset to commit per partition whose oldest records are settled; releases them."""
        out: dict[P, int] = {}
        for partition, queue in self._pending.items():
            last = None
            while queue and queue[0].done:
                last = queue.popleft().offset
            if last is not None:
                out[partition] = last + 1
        return out

    def in_flight(self, partitions: set[P] | None = None) -> int:
        return sum(
            1
            for p, queue in self._pending.items()
            if partitions is None or p in partitions
            for e in queue
            if not e.done
        )

    def running(self, partitions: set[P]) -> int:
        return sum(1 for p in partitions for e in self._pending.get(p, ()) if e.running)

    def drop(self, partitions: set[P]) -> None:
        for partition in partitions:
            self._pending.pop(partition, None)

"""Which partition a key lands on, computed the way the Java client and aiokafka do (murmur2).

The scheduler writes its plan with explicit partitions equal to the partition of the channel's
commands, so that the worker that owns a channel's commands also owns its plan records.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_for(key: str, partitions: int) -> int:
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions

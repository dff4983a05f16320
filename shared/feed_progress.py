"""A view feeder's liveness: every partition that is behind must advance between two checks.

Ingest's status view and the console's view are fed the same way (no consumer group, replay, then
follow). A consumer that wedges after a broker restart returns empty batches while the topics
grow (seen in the chaos run: statuses frozen while the platforms had every post); it then stops
beating the watchdog, which restarts the service, and the view is rebuilt from the topics.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.watchdog import Watchdog

log = logging.getLogger("warta.feed_progress")

CHECK_EVERY_S = 10.0  # how often to compare each partition's progress with its end offset

# Per partition: (the feeder's position, the partition's end offset), at one progress check.
Progress = dict[TopicPartition, tuple[int, int]]


def stuck_partitions(before: Progress, now: Progress) -> list[TopicPartition]:
    """Partitions that had records to read at the last check and have not moved since.

    Pure. A partition read to its end is fine however long nothing arrives; one that is behind
    must advance between two checks, whatever the other partitions do (a wedged fetch of one
    partition must not hide behind traffic on the others).
    """
    return [
        tp
        for tp, (position, _) in now.items()
        if tp in before and before[tp][0] < before[tp][1] and position <= before[tp][0]
    ]


class ProgressWatch:
    """Beats ``watchdog`` under ``name`` at each check where no partition behind stood still."""

    def __init__(self, name: str, watchdog: Watchdog | None, every_s: float = CHECK_EVERY_S) -> None:
        self._name = name
        self.watchdog = watchdog
        self._every = every_s
        self._checked = 0.0
        self._progress = Progress()

    async def check(self, consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], now: float) -> None:
        """Called once per fetch loop with the loop's monotonic time; checks every ``every_s``."""
        if now - self._checked <= self._every:
            return
        self._checked = now
        latest = await _progress(consumer, tps)
        if latest is None:
            return
        stuck = stuck_partitions(self._progress, latest)
        if stuck:
            log.warning("%s: %s not advancing", self._name, ", ".join(map(str, stuck)))
        elif self.watchdog is not None:
            self.watchdog.beat(self._name)
        self._progress = latest


async def _progress(consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition]) -> Progress | None:
    """Where the consumer stands in each partition, and its end; None if the broker did not say."""
    try:
        ends = await asyncio.wait_for(consumer.end_offsets(list(tps)), 10)
    except (KafkaError, TimeoutError):
        return None
    return {tp: (await consumer.position(tp), ends[tp]) for tp in tps}

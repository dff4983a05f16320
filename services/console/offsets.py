"""Reads offsets from the broker: every topic's end offsets, and every Warta consumer group's
committed offsets, so lag is what the broker says, not an estimate.

``OffsetsProbe.read()`` returns one ``OffsetSnapshot``; ``History`` keeps the recent snapshots'
totals for the dashboard's charts.

Errors::

    KafkaUnavailable (shared.kafka)   the broker did not answer; the caller keeps its last snapshot
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from shared.kafka import KafkaUnavailable
from shared.kafka_connection import KafkaAddress, client_args
from shared.kafka_metadata import known_partitions, refresh_metadata

log = logging.getLogger("warta.console.offsets")


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has not committed on this partition yet
    end: int

    @property
    def lag(self) -> int:
        # No commit yet: the group (auto_offset_reset=earliest) still has the whole log to read.
        return max(0, self.end - (self.committed if self.committed is not None else 0))


@dataclass(frozen=True)
class OffsetSnapshot:
    at: datetime
    end_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    lags: tuple[PartitionLag, ...] = ()

    def topic_totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (topic, _), end in self.end_offsets.items():
            totals[topic] = totals.get(topic, 0) + end
        return totals

    def lag_by_topic(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.lags:
            totals[row.topic] = totals.get(row.topic, 0) + row.lag
        return totals

    def lag_by_group(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.lags:
            totals[row.group] = totals.get(row.group, 0) + row.lag
        return totals


@dataclass(eq=False)
class OffsetsProbe:
    """One admin client and one group-less consumer, kept open between reads."""

    bootstrap: KafkaAddress
    topics: list[str]
    group_prefix: str
    timeout: float = 10.0
    _admin: AIOKafkaAdminClient | None = field(default=None, init=False)
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(
            **client_args(self.bootstrap), request_timeout_ms=int(self.timeout * 1000)
        )
        await asyncio.wait_for(self._admin.start(), self.timeout)
        self._consumer = AIOKafkaConsumer(**client_args(self.bootstrap), enable_auto_commit=False)
        await asyncio.wait_for(self._consumer.start(), self.timeout)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()

    async def read(self, now: datetime) -> OffsetSnapshot:
        try:
            return await asyncio.wait_for(self._read(now), self.timeout)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise KafkaUnavailable(f"could not read offsets: {exc!r}") from exc

    async def _partitions(self) -> list[TopicPartition]:
        assert self._consumer is not None
        # A probe never waits for a topic: one not in the metadata yet is asked for once and
        # left out of this reading if still unknown.
        if any(not self._consumer.partitions_for_topic(t) for t in self.topics):
            await refresh_metadata(self._consumer)
        return known_partitions(self._consumer, self.topics)

    async def _read(self, now: datetime) -> OffsetSnapshot:
        assert self._admin is not None
        assert self._consumer is not None
        tps = await self._partitions()
        ends = await self._consumer.end_offsets(tps) if tps else {}
        end_offsets = {(tp.topic, tp.partition): int(v) for tp, v in ends.items()}
        groups = sorted(
            g[0]
            for g in await self._admin.list_consumer_groups()
            if str(g[0]).startswith(self.group_prefix + "-")
        )
        lags: list[PartitionLag] = []
        for group in groups:
            committed = await self._admin.list_consumer_group_offsets(group)
            offsets = {(tp.topic, tp.partition): int(meta.offset) for tp, meta in committed.items()}
            for topic in sorted({t for t, _ in offsets}):
                for (t, p), end in sorted(end_offsets.items()):
                    if t != topic:
                        continue
                    value = offsets.get((t, p))
                    lags.append(
                        PartitionLag(group, t, p, value if value is not None and value >= 0 else None, end)
                    )
        return OffsetSnapshot(at=now, end_offsets=end_offsets, lags=tuple(lags))


@dataclass(frozen=True)
class Sample:
    at: datetime
    messages: dict[str, int]  # topic → end offsets summed
    lag: dict[str, int]  # topic → lag summed over groups and partitions


class History:
    def __init__(self, size: int) -> None:
        self.samples: deque[Sample] = deque(maxlen=size)

    def add(self, snap: OffsetSnapshot) -> None:
        self.samples.append(Sample(snap.at, snap.topic_totals(), snap.lag_by_topic()))

    def to_json(self, strip_prefix: str = "") -> dict[str, object]:
        """Times and per-topic series; rates are left to the chart (differences of totals)."""

        def short(name: str) -> str:
            return name.removeprefix(strip_prefix)

        topics = sorted({t for s in self.samples for t in s.messages})
        return {
            "at": [s.at.isoformat() for s in self.samples],
            "messages": {short(t): [s.messages.get(t, 0) for s in self.samples] for t in topics},
            "lag": {short(t): [s.lag.get(t, 0) for s in self.samples] for t in topics},
        }

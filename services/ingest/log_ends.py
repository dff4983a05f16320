"""Where each partition of a topic ends now, asked of the broker on a connection of its own.

A read that must show what other ingest instances have answered (a draft's approvals) waits
until the view has read up to these ends (``handling.read_latest``). The feeders' own consumers
cannot be asked: a broker answers one connection's requests in order, so the question would
queue behind the feeder's long-polling fetch and take its whole wait. The client is opened on
first use and kept; after a failure it is closed, and the next question opens a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka import partitions_of
from shared.kafka_connection import KafkaAddress, client_args, start_client


async def read_to_ends(
    read_past: Callable[[str, int, int], Awaitable[None]], topic: str, ends: Mapping[int, int]
) -> None:
    """Return once ``read_past`` (a feeder's) has read every record of ``topic`` below ``ends``,
    each partition's end as ``LogEnds.of`` gave it."""
    for partition, end in ends.items():
        if end > 0:
            await read_past(topic, partition, end - 1)


class LogEnds:
    def __init__(self, kafka: KafkaAddress, *, timeout_s: float) -> None:
        self._kafka = kafka
        self._timeout = timeout_s
        self._client: AIOKafkaConsumer | None = None
        self._opening = asyncio.Lock()
        self.asked = 0  # how often the broker was asked

    async def of(self, topic: str) -> dict[int, int]:
        """Each partition's end offset (the next offset to be written), as a read_committed
        reader sees it."""
        self.asked += 1
        try:
            client = await self._started()
            tps: list[TopicPartition] = await partitions_of(client, [topic], self._timeout)
            ends = await asyncio.wait_for(client.end_offsets(tps), self._timeout)
        except Exception:  # not on a cancelled request: others may be asking on this client
            await self.close()
            raise
        return {tp.partition: end for tp, end in ends.items()}

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):  # a client that failed may fail to close too
                await client.stop()

    async def _started(self) -> AIOKafkaConsumer:
        async with self._opening:
            if self._client is None:
                client = AIOKafkaConsumer(
                    **client_args(self._kafka),
                    enable_auto_commit=False,
                    isolation_level="read_committed",
                    request_timeout_ms=int(self._timeout * 1000),
                )
                self._client = client  # closed again by the caller if it cannot start
                await start_client(client, self._kafka, self._timeout)
            return self._client

"""What ``/readyz`` asks the broker, at most once per ``ttl_s``, through one admin client.

``/readyz`` needs no key, so anyone may call it as often as they like: opening an admin client
(a connection, a metadata round trip) per call let any caller make ingest open connections to
the broker at will. The broker's answer is kept ``ttl_s`` (2 s: a load balancer polling every
few seconds still sees a change within one poll), callers arriving while it is being asked wait
for that one answer, and the client is kept open; after a failure it is closed and the next
probe opens a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka_connection import KafkaAddress, client_args, start_client


class Readiness:
    def __init__(
        self,
        kafka: KafkaAddress,
        topics: Sequence[str],
        *,
        ttl_s: float = 2.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kafka = kafka
        self._topics = list(topics)
        self._ttl = ttl_s
        self._timeout = timeout_s
        self._clock = clock
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()
        self._answer: tuple[float, list[str]] | None = None
        self.probes = 0  # how often the broker was asked
        self.clients_opened = 0

    async def problems(self) -> list[str]:
        """What keeps the broker side from being ready (empty when ready), at most ``ttl_s`` old."""
        async with self._lock:
            if self._answer is not None and self._clock() - self._answer[0] < self._ttl:
                return self._answer[1]
            problems = await self._probe()
            self._answer = (self._clock(), problems)
            return problems

    async def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            with contextlib.suppress(Exception):  # a client that failed may fail to close too
                await admin.close()

    async def _probe(self) -> list[str]:
        self.probes += 1
        try:
            admin = self._admin
            if admin is None:
                admin = AIOKafkaAdminClient(
                    **client_args(self._kafka), request_timeout_ms=int(self._timeout * 1000)
                )
                self.clients_opened += 1
                self._admin = admin  # closed again below if it cannot start
                await start_client(admin, self._kafka, self._timeout)
            existing = set(await asyncio.wait_for(admin.list_topics(), self._timeout))
        except Exception as exc:  # any failure to ask the broker means not ready
            await self.close()
            return [f"broker unreachable: {type(exc).__name__}"]
        missing = [name for name in self._topics if name not in existing]
        return [f"missing topics: {', '.join(missing)}"] if missing else []

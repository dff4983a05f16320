"""Which accounts this worker refreshes: those on the credentials-topic partitions Kafka assigned
it in its platform's refresher group. A partition has one owner among the group's members on
every host, so one account has one refresher, however many workers and machines there are.

The group consumer reads nothing (its partitions stay paused); it only keeps the membership.
A refresh in flight finishes, and is on the topic, before its partition is given up
(``on_partitions_revoked`` waits for it, up to ``REVOKE_WAIT_S``), so the next owner starts from
the rotated token. The revoke runs before this member rejoins, and Kafka evicts a member that has
not rejoined within the group's rebalance timeout: that timeout (``REBALANCE_TIMEOUT_MS``) is set
above the wait, and the wait above the longest a refresh can stay in flight. A killed owner's
partitions move on when its session times out (``session_timeout_ms``); the platform never saw
an unfinished refresh token spent, or the refresh is lost either way (the account is then parked
with the platform's reason, as on one host).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from shared.kafka import wait_for_topics
from shared.kafka_connection import KafkaAddress, client_args
from shared.partitioning import partition_for

log = logging.getLogger("warta.publisher.credentials")
# The longest a refresh stays in flight: the catch-up check (``CredentialFollower.caught_up``,
# 5 s), the token call (the session's call_timeout_s, 30 s by default) and the topic write
# (``sharing.WRITE_PATIENCE_S``, 20 s), with room to spare.
REVOKE_WAIT_S = 75.0
# aiokafka's default rebalance timeout is the session timeout (10 s): a revoke waiting longer got
# its member evicted mid-refresh, and the next owner spent the same rotating refresh token.
REBALANCE_TIMEOUT_MS = int((REVOKE_WAIT_S + 15.0) * 1000)
# A JoinGroup is answered only when the rebalance ends: a joining member waits that long for it,
# as the Java client allows (rebalance timeout + 5 s).
JOIN_REQUEST_TIMEOUT_MS = REBALANCE_TIMEOUT_MS + 5_000


class PartitionOwnership(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self, kafka: KafkaAddress, topic: str, group: str, *, session_timeout_ms: int = 10_000
    ) -> None:
        self._kafka = kafka
        self._topic = topic
        self._group = group
        self._session_timeout_ms = session_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions = 0
        self.owned: set[int] = set()
        self._in_flight: Counter[int] = Counter()
        self._settled = asyncio.Condition()

    def partition_of(self, account: str) -> int:
        return partition_for(account, self._partitions) if self._partitions else -1

    def owns(self, account: str) -> bool:
        return self.partition_of(account) in self.owned

    @contextlib.asynccontextmanager
    async def refreshing(self, account: str) -> AsyncIterator[bool]:
        """Yields whether this worker owns ``account`` now; while the block runs, the partition
        is not given up."""
        partition = self.partition_of(account)
        if partition not in self.owned:
            yield False
            return
        self._in_flight[partition] += 1
        try:
            yield True
        finally:
            self._in_flight[partition] -= 1
            async with self._settled:
                self._settled.notify_all()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        gone = {tp.partition for tp in revoked}
        self.owned -= gone  # no new refresh starts on them
        async with self._settled:
            try:
                await asyncio.wait_for(
                    self._settled.wait_for(lambda: not any(self._in_flight[p] for p in gone)), REVOKE_WAIT_S
                )
            except TimeoutError:
                log.warning(
                    "a refresh on credentials partitions %s outlasted %.0f s: giving them up with it in flight",
                    sorted(gone),
                    REVOKE_WAIT_S,
                )

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if self._consumer is not None and assigned:
            self._consumer.pause(*assigned)  # membership only: nothing to read here
        self.owned |= {tp.partition for tp in assigned}
        log.info("refresher owns credentials partitions %s", sorted(self.owned))

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **client_args(self._kafka),
            group_id=self._group,
            enable_auto_commit=False,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(1000, self._session_timeout_ms // 3),
            rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
            request_timeout_ms=JOIN_REQUEST_TIMEOUT_MS,
        )
        self._consumer = consumer
        await consumer.start()
        await wait_for_topics(consumer, [self._topic])
        self._partitions = len(consumer.partitions_for_topic(self._topic) or ())
        consumer.subscribe([self._topic], listener=self)

    async def run(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None, "start() first"
        while not stop.is_set():
            try:
                await self._consumer.getmany(timeout_ms=500)  # keeps the membership; paused: no data
            except KafkaError as exc:
                log.warning("credentials refresher group unreachable for now: %r", exc)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()  # leaves the group: the partitions move on at once
        self.owned.clear()

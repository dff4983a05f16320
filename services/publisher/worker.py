"""The publisher loop for one platform: due jobs in, platform calls out, outcomes recorded.

Exactly once, per job and attempt, through an attempt ledger (compacted topic
``publish.<platform>.attempts``, partitioned like ``publish.<platform>``):

1. a due job whose attempt already has an outcome in the ledger is a redelivery: skipped;
2. an attempt recorded as ``attempted`` with no outcome means we crashed mid-call: reconcile
   with the platform (``find_by_marker``) — found → published; surely absent → send; the
   platform can't tell → ``unconfirmed``, and an operator decides. Never a blind re-send;
3. otherwise record ``attempted`` (acknowledged by the broker) before calling the platform, and
   the outcome right after; only then is the job's offset committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)

from services.publisher.adapters.port import (
    Adapter,
    AdapterError,
    Ambiguous,
    NotSupported,
    Published,
    PublishRequest,
    RateLimited,
    Target,
    Temporary,
)
from services.publisher.decide import Decision, RetryPolicy, decide, platform_error
from services.publisher.ratelimit import RateLimits
from services.publisher.secrets import SecretsError, SecretStore
from shared.channels import Channel, ChannelDirectory
from shared.codec import DecodeError, decode_as, encode
from shared.events import (
    DeadLettered,
    EngagementObserved,
    JobDue,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)
from shared.kafka import dead_letter, new_event_id, replay, send_event
from shared.topics import TopicRegistry

log = logging.getLogger("warta.publisher")

Clock = Callable[[], datetime]


def marker_for(job_id: str) -> str:
    """Stable across attempts of one job, so any attempt can find what an earlier one posted."""
    return "w" + hashlib.sha256(job_id.encode()).hexdigest()[:16]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: PublisherWorker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._worker.forget({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._worker.restore({tp.partition for tp in assigned})


class PublisherWorker:
    def __init__(
        self,
        *,
        bootstrap: str,
        topics: TopicRegistry,
        group: str,
        platform: str,
        channels: ChannelDirectory,
        adapter: Adapter,
        secrets: SecretStore,
        producer: AIOKafkaProducer,
        limits: RateLimits,
        retry: RetryPolicy,
        call_timeout_s: float = 30.0,
        max_local_wait_s: float = 2.0,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._platform = platform
        self._channels = channels
        self._adapter = adapter
        self._secrets = secrets
        self._producer = producer
        self._limits = limits
        self._retry = retry
        self._call_timeout_s = call_timeout_s
        self._max_local_wait = timedelta(seconds=max_local_wait_s)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = rng or random.Random()
        self._ledger: dict[str, PublishOutcome] = {}
        self._ledger_partition: dict[str, int] = {}
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self.outcomes: dict[str, int] = {}  # by status, for metrics
        self.last_error: PlatformError | None = None

    # ---- ledger ------------------------------------------------------------------------------
    async def restore(self, partitions: set[int]) -> None:
        tps = [TopicPartition(self._topics.publish_attempts(self._platform), p) for p in partitions]
        async for record in replay(self._bootstrap, tps):
            try:
                entry = decode_as(record.value, PublishOutcome)
            except DecodeError as exc:
                log.warning("skipping undecodable ledger record at %s: %s", record.offset, exc)
                continue
            self._ledger[entry.job_id] = entry
            self._ledger_partition[entry.job_id] = record.partition

    def forget(self, partitions: set[int]) -> None:
        for job_id, p in list(self._ledger_partition.items()):
            if p in partitions:
                self._ledger.pop(job_id, None)
                self._ledger_partition.pop(job_id, None)

    # ---- loop --------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self._consumer.subscribe([self._topics.publish(self._platform)], listener=_Rebalance(self))
        await self._consumer.start()
        try:
            while not stop.is_set():
                batch = await self._consumer.getmany(timeout_ms=200, max_records=50)
                for tp, records in batch.items():
                    for record in records:
                        await self.handle(record)
                        await self._consumer.commit({tp: record.offset + 1})
        finally:
            await self._consumer.stop()

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            due = decode_as(record.value, JobDue)
        except DecodeError as exc:
            log.warning("dead-lettering %s@%s: %s", record.topic, record.offset, exc)
            await send_event(
                self._producer, self._topics.publish_dead, "poison", dead_letter(record, str(exc))
            )
            return
        channel = self._channels.get(due.channel)
        if channel is None or channel.platform != self._platform:
            reason = f"channel {due.channel!r} is not a {self._platform} channel in this configuration"
            await self._dead(due, record.partition, PlatformError(code="unknown_channel", message=reason))
            return
        if due.purpose == "measure":
            await self._measure(due, channel)
            return
        await self._publish(due, channel, record.partition)

    # ---- publishing --------------------------------------------------------------------------
    async def _publish(self, due: JobDue, channel: Channel, partition: int) -> None:
        entry = self._ledger.get(due.job_id)
        if entry is not None and (
            entry.attempt > due.attempt
            or (entry.attempt == due.attempt and entry.status is not OutcomeStatus.ATTEMPTED)
            or entry.status is OutcomeStatus.PUBLISHED
        ):
            log.info(
                "%s attempt %d already settled (%s); redelivery skipped",
                due.job_id,
                due.attempt,
                entry.status,
            )
            return
        try:
            target = self._target(channel)
        except SecretsError as exc:
            error = PlatformError(code="missing_credentials", message=str(exc))
            await self._record(due, partition, Decision(OutcomeStatus.NEEDS_REAUTH, error=error))
            return
        request = PublishRequest(
            job_id=due.job_id,
            attempt=due.attempt,
            content=due.content,
            marker=marker_for(due.job_id),
            first_attempt_at=entry.first_attempt_at if entry is not None else None,
        )
        # Any earlier attempt that never got an outcome may have reached the platform.
        if entry is not None and entry.status is OutcomeStatus.ATTEMPTED:
            settled = await self._reconcile(target, request)
            if settled is not None:
                await self._record(due, partition, settled)
                return
        limiter = self._limits.for_channel(channel.id)
        now = self._clock()
        wait = limiter.wait(now)
        if wait > self._max_local_wait:
            error = PlatformError(code="rate_limited_locally", message=f"account quota: next call in {wait}")
            await self._record(
                due, partition, Decision(OutcomeStatus.RETRY, retry_at=now + wait, error=error)
            )
            return
        if wait > timedelta(0):
            await asyncio.sleep(wait.total_seconds())
        await self._record(due, partition, Decision(OutcomeStatus.ATTEMPTED))
        took_at = self._clock()
        limiter.take(took_at)
        result: Published | AdapterError
        try:
            result = await asyncio.wait_for(self._adapter.publish(target, request), self._call_timeout_s)
        except AdapterError as exc:
            result = exc
        except TimeoutError:
            result = Ambiguous(f"no answer within {self._call_timeout_s} s", code="timeout")
        decision = await self._settle(target, request, result, due.attempt)
        if isinstance(result, RateLimited) and decision.retry_at is not None:
            limiter.block_until(decision.retry_at)
        await self._record(due, partition, decision)

    async def _settle(
        self, target: Target, request: PublishRequest, result: Published | AdapterError, attempt: int
    ) -> Decision:
        if isinstance(result, Ambiguous):
            settled = await self._reconcile(target, request)
            if settled is not None:
                return settled
            # Surely not on the platform: a normal retry is safe.
            result = Temporary(result.message, code=result.code, http_status=result.http_status)
        return decide(result, attempt, self._clock(), self._retry, self._rng)

    async def _reconcile(self, target: Target, request: PublishRequest) -> Decision | None:
        """Settle an attempt that may have reached the platform; None = surely absent, send again."""
        try:
            found = await asyncio.wait_for(
                self._adapter.find_by_marker(target, request), self._call_timeout_s
            )
        except NotSupported as exc:
            return Decision(
                OutcomeStatus.UNCONFIRMED,
                error=PlatformError(
                    code="unconfirmed",
                    message=f"an attempt may have reached {self._platform} and it cannot tell: {exc.message}",
                ),
            )
        except (AdapterError, TimeoutError) as exc:
            error = platform_error(exc) if isinstance(exc, AdapterError) else None
            return Decision(
                OutcomeStatus.UNCONFIRMED,
                error=error or PlatformError(code="timeout", message="reconciliation timed out"),
            )
        if found is None:
            return None
        return Decision(OutcomeStatus.PUBLISHED, post_id=found.post_id, url=found.url)

    async def _record(self, due: JobDue, partition: int, decision: Decision) -> None:
        now = self._clock()
        earlier = self._ledger.get(due.job_id)
        first = earlier.first_attempt_at if earlier is not None else None
        if first is None and decision.status is OutcomeStatus.ATTEMPTED:
            first = now
        outcome = PublishOutcome(
            event_id=new_event_id(),
            occurred_at=now,
            job_id=due.job_id,
            content_id=due.content_id,
            channel=due.channel,
            platform=self._platform,
            attempt=due.attempt,
            status=decision.status,
            post_id=decision.post_id,
            url=decision.url,
            retry_at=decision.retry_at,
            error=decision.error,
            first_attempt_at=first,
        )
        payload = encode(outcome)
        ledger = await self._producer.send(
            self._topics.publish_attempts(self._platform),
            payload,
            key=due.job_id.encode(),
            partition=partition,
        )
        audit = await self._producer.send(self._topics.publish_outcomes, payload, key=due.content_id.encode())
        await asyncio.gather(ledger, audit)
        self._ledger[due.job_id] = outcome
        self._ledger_partition[due.job_id] = partition
        self.outcomes[decision.status.value] = self.outcomes.get(decision.status.value, 0) + 1
        if decision.error is not None:
            self.last_error = decision.error
        if decision.status is OutcomeStatus.DEAD:
            await self._dead(due, partition, decision.error)
        log.info("%s attempt %d → %s", due.job_id, due.attempt, decision.status.value)

    async def _dead(self, due: JobDue, partition: int, error: PlatformError | None) -> None:
        letter = DeadLettered(
            event_id=new_event_id(),
            occurred_at=self._clock(),
            source_topic=self._topics.publish(self._platform),
            source_partition=partition,
            reason=error.message if error else "attempts exhausted",
            job_id=due.job_id,
            content_id=due.content_id,
            channel=due.channel,
            raw=encode(due).decode(),
        )
        await send_event(self._producer, self._topics.publish_dead, due.content_id, letter)

    # ---- engagement --------------------------------------------------------------------------
    async def _measure(self, due: JobDue, channel: Channel) -> None:
        if due.post_id is None or due.published_at is None:
            return
        try:
            target = self._target(channel)
            counts = await asyncio.wait_for(
                self._adapter.engagement(target, due.post_id), self._call_timeout_s
            )
        except (AdapterError, SecretsError, TimeoutError) as exc:
            log.warning("engagement of %s at +%s min unavailable: %r", due.job_id, due.horizon_minutes, exc)
            return
        event = EngagementObserved(
            event_id=new_event_id(),
            occurred_at=self._clock(),
            job_id=due.job_id,
            content_id=due.content_id,
            channel=due.channel,
            platform=self._platform,
            published_at=due.published_at,
            horizon_minutes=max(1, due.horizon_minutes or 1),
            reactions=counts.reactions,
            comments=counts.comments,
            shares=counts.shares,
            reach=counts.reach,
        )
        await send_event(self._producer, self._topics.engagement_observed, due.content_id, event)

    def _target(self, channel: Channel) -> Target:
        return Target(
            channel=channel.id,
            account=channel.account,
            base_url=channel.base_url or "",
            credentials=self._secrets.get(channel.secret or channel.id),
            options=dict(channel.options),
        )

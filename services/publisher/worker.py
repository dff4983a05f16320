"""The publisher loop for one platform: due jobs in, platform calls out, outcomes recorded.

Exactly once, per job and attempt, through an attempt ledger (compacted topic
``publish.<platform>.attempts``, partitioned like ``publish.<platform>``):

1. a due job whose attempt already has an outcome in the ledger is a redelivery: skipped;
2. an attempt recorded as ``attempted`` with no outcome means we crashed mid-call: reconcile
   with the platform (``find_by_marker``, judged by ``decide.after_lookup``) — found →
   published; proven absent → send; the platform can't tell → ``unconfirmed``, and an operator
   decides. Never a blind re-send: an operator's retry of an ``unconfirmed`` attempt is
   reconciled the same way first;
3. otherwise record ``attempted`` (acknowledged by the broker) before calling the platform, and
   the outcome right after; only then is the job's offset committed.

Concurrency: each fetched record goes to its channel's lane (a FIFO with its own task); lanes
run concurrently, so a slow account never holds another account's due jobs back, and one job's
deliveries never overtake each other (a job is one channel). A partition's offset is committed
only past records that are all settled (``lanes.OffsetTracker``); when partitions are revoked,
their running records finish before the partitions are let go, and their queued ones are left
to the next owner. Calls to one account are serialised by a lock around its rate limiter, so two
lanes can never both spend its last token. A record that raises in a lane goes to the dead-letter
topic with its error and counts as settled (``shared.dead_letters``); only a broker failure stops
the worker, and then its record is never committed, so it is redelivered. What the ledger holds
for a dead-lettered job stays true (it is written only once the broker acknowledged), so a replay
of the letter reconciles an attempt that may have reached the platform, never re-sends blindly.

Fencing. Revocation waits for running records only so long, and a video upload may run for
``upload_timeout_s``: a record can outlive its partition here. Each assignment of a partition is
a new generation (the event in ``_owned``); a record remembers the generation it started under,
and ``_record`` refuses to write for a generation that is gone (``Fenced``), so a stale owner's
late outcome never lands on the ledger — the new owner settles the job itself. Each
``attempted`` record carries a lease (its time + the publish timeout + ``LEASE_MARGIN``): the
new owner, reconciling, does not take "absent" for proof while the lease runs, unless the
platform folds two sends into one (``Absent.safe_while_live``), so it never starts a second
upload beside the old owner's. (A zombie that never learns of its revocation is fenced by the
broker only with transactional writes.)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import IllegalStateError, KafkaError
from opentelemetry.trace import SpanKind

from services.publisher.adapters.port import (
    Adapter,
    AdapterError,
    Ambiguous,
    Lookup,
    NotSupported,
    Published,
    PublishRequest,
    RateLimited,
    Target,
    Temporary,
    Unknown,
)
from services.publisher.decide import (
    AskAgain,
    Decision,
    RetryPolicy,
    SendAgain,
    after_lookup,
    decide,
    unconfirmed,
)
from services.publisher.lanes import Entry, OffsetTracker
from services.publisher.ratelimit import RateLimits
from services.publisher.secrets import SecretsError, SecretStore
from shared.channels import Channel, ChannelDirectory
from shared.codec import DecodeError, decode_as, encode
from shared.dead_letters import DeadLetters
from shared.events import (
    DeadLettered,
    EngagementObserved,
    JobDue,
    OutcomeStatus,
    PlatformError,
    PublishOutcome,
)
from shared.ids import new_event_id
from shared.kafka import acknowledged, replay, send_event
from shared.kafka_connection import KafkaAddress, client_args
from shared.metrics import PublisherMetrics
from shared.topics import TopicRegistry
from shared.tracing import span
from shared.watchdog import Watchdog

log = logging.getLogger("warta.publisher")

Clock = Callable[[], datetime]

# Added to an attempt's publish timeout for its lease: the old owner's cancellation and the
# clock skew between two workers.
LEASE_MARGIN = timedelta(seconds=10)
# Lookups in one reconciliation before giving up to ``unconfirmed``.
MAX_LOOKUPS = 3

# The generation of the partition the running record belongs to (set per record by its lane).
_GENERATION: ContextVar[asyncio.Event | None] = ContextVar("publisher_generation", default=None)


class Fenced(Exception):
    """This worker no longer owns the record's partition: it must not write for it."""


def _channel_of(record: ConsumerRecord[bytes, bytes]) -> bytes:
    """The grouping key of a record: its job's channel, read without decoding the whole event.

    Job ids are ``<content id>:<channel>``; a record whose key doesn't look like one gets a group
    of its own key, which is just as safe (a job never changes its key).
    """
    key = record.key or b""
    return key.rsplit(b":", 1)[-1] if b":" in key else key


def marker_for(job_id: str) -> str:
    """Stable across attempts of one job, so any attempt can find what an earlier one posted."""
    return "w" + hashlib.sha256(job_id.encode()).hexdigest()[:16]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: PublisherWorker) -> None:
        self._worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._worker.release(set(revoked))
        self._worker.forget({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._worker.take_over(set(assigned))


class PublisherWorker:
    def __init__(
        self,
        *,
        bootstrap: KafkaAddress,
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
        upload_timeout_s: float | None = None,
        max_local_wait_s: float = 2.0,
        max_in_flight: int = 500,
        lease_margin: timedelta = LEASE_MARGIN,
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
        # A resumable video upload is many calls; its publish gets the longer budget (settings).
        self._publish_timeout_s = (
            (upload_timeout_s or call_timeout_s) if adapter.long_uploads else call_timeout_s
        )
        self._max_local_wait = timedelta(seconds=max_local_wait_s)
        self._lease = timedelta(seconds=self._publish_timeout_s) + lease_margin
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = rng or random.Random()
        self._ledger: dict[str, PublishOutcome] = {}
        self._account_locks: dict[str, asyncio.Lock] = {}
        self._max_in_flight = max_in_flight
        self._offsets: OffsetTracker[TopicPartition] = OffsetTracker()
        # Owned partitions; each event is set once the partition's ledger is restored.
        self._owned: dict[TopicPartition, asyncio.Event] = {}
        self._lanes: dict[
            bytes, asyncio.Queue[tuple[Entry[TopicPartition], ConsumerRecord[bytes, bytes]]]
        ] = {}
        self._lane_tasks: list[asyncio.Task[None]] = []
        self._progress = asyncio.Event()
        self._failure: BaseException | None = None
        self.watchdog: Watchdog | None = None  # beaten once per loop; set by the app
        self.metrics: PublisherMetrics | None = None  # set by the app when metrics are served
        self._ledger_partition: dict[str, int] = {}
        self._consumer = AIOKafkaConsumer(
            **client_args(bootstrap),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self.outcomes: dict[str, int] = {}  # by status, for metrics
        self._no_metrics: str | None = None  # why this platform gives no engagement counts, once known
        self.last_error: PlatformError | None = None
        self._dead_letters = DeadLetters(topics.publish_dead, f"publisher-{platform}", producer=producer)

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
        loop = asyncio.get_running_loop()
        last_commit = loop.time()
        try:
            while not stop.is_set():
                if self.watchdog is not None:
                    self.watchdog.beat("publisher")
                if self._failure is not None:
                    raise self._failure
                # Back-pressure: with the lanes full, stop fetching but keep polling, so the
                # group doesn't take this member for dead while a platform is slow.
                if self._offsets.in_flight() >= self._max_in_flight:
                    self._consumer.pause(*self._consumer.assignment())
                elif self._consumer.paused():
                    self._consumer.resume(*self._consumer.paused())
                batch = await self._consumer.getmany(timeout_ms=100, max_records=100)
                for tp, records in batch.items():
                    for record in records:
                        self._dispatch(tp, record)
                if batch and loop.time() - last_commit < 1.0:
                    continue  # due records first: committing can wait for a quiet moment
                await self._commit()
                last_commit = loop.time()
            await self._drain(self._call_timeout_s)
            await self._commit()
        finally:
            for task in self._lane_tasks:
                task.cancel()
            await asyncio.gather(*self._lane_tasks, return_exceptions=True)
            await self._consumer.stop()

    async def take_over(self, partitions: set[TopicPartition]) -> None:
        """Own ``partitions``; their records wait in their lanes until the ledger is restored.

        aiokafka may hand out records of a partition before this callback returns: no job may
        be handled before its earlier attempts are known.
        """
        events = {tp: asyncio.Event() for tp in partitions}
        self._owned.update(events)
        for attempt in range(1, 4):
            try:
                await self.restore({tp.partition for tp in partitions})
                break
            except KafkaError as exc:
                log.warning(
                    "restoring the ledger of %s failed (try %d): %r", sorted(partitions), attempt, exc
                )
                await asyncio.sleep(attempt)
        else:
            self._failure = RuntimeError(f"cannot restore the attempt ledger of {sorted(partitions)}")
            self._progress.set()
            return
        for event in events.values():
            event.set()

    async def release(self, partitions: set[TopicPartition]) -> None:
        """Before giving partitions up: let their running records finish and commit what settled.

        Queued records of those partitions are skipped and stay unsettled, so the commit stops
        before them and their next owner handles them (marking them settled lost jobs: found by
        bench/scale.py with two workers). A record still running would otherwise race the next
        owner's reconciliation of the same job, so it is waited for.
        """
        for tp in partitions:
            event = self._owned.pop(tp, None)
            if event is not None:
                event.set()  # wakes lanes waiting on it; they see it is gone and skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._call_timeout_s * 2
        while self._offsets.running(partitions) and loop.time() < deadline:
            await self._settled_some(deadline - loop.time())
        with contextlib.suppress(Exception):  # the group may already have moved on: redelivery is safe
            await self._commit()
        self._offsets.drop(partitions)

    def _dispatch(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> None:
        entry = self._offsets.track(tp, record.offset)
        lane = self._lanes.get(_channel_of(record))
        if lane is None:
            lane = self._lanes[_channel_of(record)] = asyncio.Queue()
            self._lane_tasks.append(asyncio.create_task(self._lane(lane)))
        lane.put_nowait((entry, record))

    async def _lane(
        self, queue: asyncio.Queue[tuple[Entry[TopicPartition], ConsumerRecord[bytes, bytes]]]
    ) -> None:
        while True:
            entry, record = await queue.get()
            restored = self._owned.get(entry.partition)
            if restored is not None:
                await restored.wait()
            if entry.partition not in self._owned:
                # Its partition went to another worker: not handled here, and not marked done, so
                # no commit can move past it; the next owner reads it from the committed offset.
                self._progress.set()
                continue
            entry.running = True
            _GENERATION.set(self._owned.get(entry.partition))
            try:
                await self._dead_letters.handled(record, self.handle, None)
            except Fenced as exc:
                # Not marked done: the partition's new owner reads the record and settles it.
                log.warning("%s@%s left to the partition's new owner: %s", record.topic, record.offset, exc)
                self._progress.set()
                continue
            except Exception as exc:
                # The broker failed: not marked done, never committed, redelivered after the restart.
                log.exception("stopping: broker failure handling %s@%s", record.topic, record.offset)
                self._failure = exc
                self._progress.set()
                return
            finally:
                entry.running = False
            entry.done = True
            self._progress.set()

    async def _settled_some(self, timeout: float) -> None:
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), max(0.0, timeout))

    async def _drain(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._offsets.in_flight() and self._failure is None and loop.time() < deadline:
            await self._settled_some(deadline - loop.time())

    async def _commit(self) -> None:
        offsets = self._offsets.committable()
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (KafkaError, IllegalStateError) as exc:
            # A rebalance is under way: these records will be redelivered and the ledger skips them.
            log.warning("commit of %s failed: %r", offsets, exc)

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        due = decode_as(record.value, JobDue)  # an undecodable record is dead-lettered by the lane
        channel = self._channels.get(due.channel)
        if channel is None or channel.platform != self._platform:
            reason = f"channel {due.channel!r} is not a {self._platform} channel in this configuration"
            await self._dead(due, record.partition, PlatformError(code="unknown_channel", message=reason))
            return
        if due.purpose == "measure":
            await self._measure(due, channel)
            return
        with span(
            "publisher.publish",
            parent=due.traceparent,
            kind=SpanKind.CONSUMER,
            job_id=due.job_id,
            channel=due.channel,
            platform=self._platform,
            attempt=due.attempt,
        ):
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
            earlier_attempt_until=self._lease_of(entry) if entry is not None else None,
        )
        # Any earlier attempt that never got an outcome may have reached the platform; so may an
        # unconfirmed one that an operator now retries: look it up before sending again.
        if entry is not None and entry.status in (OutcomeStatus.ATTEMPTED, OutcomeStatus.UNCONFIRMED):
            settled = await self._reconcile(target, request)
            if settled is not None:
                await self._record(due, partition, settled)
                return
        lock = self._account_locks.setdefault(channel.id, asyncio.Lock())
        async with lock:
            limiter = self._limits.for_channel(channel.id)
            now = self._clock()
            wait = limiter.wait(now)
            if wait > self._max_local_wait:
                error = PlatformError(
                    code="rate_limited_locally", message=f"account quota: next call in {wait}"
                )
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
                result = await asyncio.wait_for(
                    self._adapter.publish(target, request), self._publish_timeout_s
                )
            except AdapterError as exc:
                result = exc
            except TimeoutError:
                result = Ambiguous(f"no answer within {self._publish_timeout_s} s", code="timeout")
            # The platform counted the call somewhere between sending and its reply; counting it
            # at the reply keeps our window from ever ending before the platform's.
            limiter.settle(took_at, self._clock())
        decision = await self._settle(target, request, result, due.attempt)
        if isinstance(result, RateLimited) and decision.retry_at is not None:
            limiter.block_until(decision.retry_at)
        await self._record(due, partition, decision)

    async def _settle(
        self, target: Target, request: PublishRequest, result: Published | AdapterError, attempt: int
    ) -> Decision:
        if isinstance(result, Ambiguous):
            # The attempt just recorded is the one to find; it ended now, as far as we can end it.
            recorded = self._ledger.get(request.job_id)
            request = replace(
                request,
                first_attempt_at=request.first_attempt_at
                or (recorded.first_attempt_at if recorded else None),
                earlier_attempt_until=self._clock(),
            )
            settled = await self._reconcile(target, request)
            if settled is not None:
                return settled
            # Surely not on the platform: a normal retry is safe.
            result = Temporary(result.message, code=result.code, http_status=result.http_status)
        return decide(result, attempt, self._clock(), self._retry, self._rng)

    async def _reconcile(self, target: Target, request: PublishRequest) -> Decision | None:
        """Settle an attempt that may have reached the platform; None = proven absent, send again."""
        for _ in range(MAX_LOOKUPS):
            found: Lookup | AdapterError
            try:
                found = await asyncio.wait_for(
                    self._adapter.find_by_marker(target, request), self._call_timeout_s
                )
            except AdapterError as exc:
                found = exc
            except TimeoutError:
                found = Unknown(f"the lookup took over {self._call_timeout_s} s", code="timeout")
            now = self._clock()
            step = after_lookup(self._platform, found, now=now, live_until=request.earlier_attempt_until)
            if isinstance(step, Decision):
                return step
            if isinstance(step, SendAgain):
                log.info("%s: proven absent (%s); sending", request.job_id, step.evidence)
                return None
            await self._wait_to_ask_again(step, now)
        return unconfirmed(self._platform, "it still could not tell after repeated lookups", "still_unknown")

    async def _wait_to_ask_again(self, step: AskAgain, now: datetime) -> None:
        wait = (step.at - now).total_seconds()
        # Bounded by a lease (the publish timeout and a margin) plus the listing's settle time.
        longest = self._lease.total_seconds() + self._publish_timeout_s + 60.0
        log.info("waiting %.1f s to look up again: %s", wait, step.why)
        await asyncio.sleep(min(max(0.0, wait), longest))
        self._check_generation()

    def _lease_of(self, entry: PublishOutcome) -> datetime | None:
        """Until when ``entry``'s attempt may still be running (records without a lease too)."""
        if entry.status is not OutcomeStatus.ATTEMPTED:
            return None
        return entry.lease_until or entry.occurred_at + self._lease

    def _check_generation(self, partition: int | None = None) -> None:
        generation = _GENERATION.get()
        if generation is None:
            return  # called outside a lane (a direct call of ``handle``): nothing to fence
        owned = [tp for tp, ev in self._owned.items() if ev is generation]
        if not owned or (partition is not None and owned[0].partition != partition):
            raise Fenced("its partition was reassigned while it ran")

    async def _record(self, due: JobDue, partition: int, decision: Decision) -> None:
        self._check_generation(partition)
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
            lease_until=now + self._lease if decision.status is OutcomeStatus.ATTEMPTED else None,
        )
        payload = encode(outcome)
        ledger = await self._producer.send(
            self._topics.publish_attempts(self._platform),
            payload,
            key=due.job_id.encode(),
            partition=partition,
        )
        audit = await self._producer.send(self._topics.publish_outcomes, payload, key=due.content_id.encode())
        await acknowledged((ledger, audit), f"recording {due.job_id} {decision.status.value}")
        self._ledger[due.job_id] = outcome
        self._ledger_partition[due.job_id] = partition
        self.outcomes[decision.status.value] = self.outcomes.get(decision.status.value, 0) + 1
        if self.metrics is not None:
            limiter = self._limits.for_channel(due.channel)
            self.metrics.headroom.labels(self._platform, due.channel).set(limiter.headroom(self._clock()))
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
        if self._no_metrics is not None:
            return  # the platform said once that it has no counts; asking again can't change that
        try:
            target = self._target(channel)
            counts = await asyncio.wait_for(
                self._adapter.engagement(target, due.post_id), self._call_timeout_s
            )
        except NotSupported as exc:
            # Not a failure: the platform's API has no counts (Telegram, WhatsApp, webhooks).
            self._no_metrics = exc.message
            log.info("engagement is not collected on %s: %s", self._platform, exc.message)
            return
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

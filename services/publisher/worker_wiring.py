"""What a publisher worker drives, built in one place: its time budget and its collaborators.

The worker (``worker``) owns the loop, the lanes and the fencing; everything it hands a record
to is built here from its arguments: the attempt ledger, the reconciler, the platform caller
(with the operators' commands it checks posts against, ``control``), the engagement reader and
the dead-letter writer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.publisher.adapters.port import Adapter
from services.publisher.attempt_ledger import AttemptLedger
from services.publisher.decide import RetryPolicy
from services.publisher.engagement import EngagementReader
from services.publisher.platform_call import ControlGate, PlatformCaller
from services.publisher.ratelimit import RateLimits
from services.publisher.reconciler import Reconciler
from shared.dead_letters import DeadLetters
from shared.kafka_connection import KafkaAddress, client_args
from shared.kafka_txn import Offsets, make_transactional_producer, transactional_id
from shared.topics import TopicRegistry

# Added to an attempt's publish timeout for its lease: the old owner's cancellation and the
# clock skew between two workers.
LEASE_MARGIN = timedelta(seconds=10)


@dataclass(frozen=True)
class Budget:
    """How long one platform call, and one publish, may take; how long an attempt's lease runs."""

    call_timeout_s: float
    publish_timeout_s: float
    lease: timedelta

    @classmethod
    def of(
        cls,
        adapter: Adapter,
        call_timeout_s: float,
        upload_timeout_s: float | None,
        lease_margin: timedelta = LEASE_MARGIN,
    ) -> Budget:
        # A resumable video upload is many calls; its publish gets the longer budget (settings).
        publish = (upload_timeout_s or call_timeout_s) if adapter.long_uploads else call_timeout_s
        return cls(call_timeout_s, publish, timedelta(seconds=publish) + lease_margin)


@dataclass(frozen=True)
class Collaborators:
    """What the worker hands each record to."""

    ledger: AttemptLedger
    reconciler: Reconciler
    caller: PlatformCaller
    engagement: EngagementReader
    dead_letters: DeadLetters


def due_jobs_consumer(bootstrap: KafkaAddress, group: str) -> AIOKafkaConsumer:
    """The consumer of a platform's due jobs: offsets committed by the ledger, never by itself."""
    return AIOKafkaConsumer(
        **client_args(bootstrap),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )


def wire(
    *,
    bootstrap: KafkaAddress,
    topics: TopicRegistry,
    group: str,
    platform: str,
    adapter: Adapter,
    producer: AIOKafkaProducer,
    limits: RateLimits,
    retry: RetryPolicy,
    budget: Budget,
    max_local_wait_s: float,
    clock: Callable[[], datetime],
    rng: random.Random,
    instance_id: str,
    transactions: AIOKafkaProducer | None,
    settled: Callable[[], Offsets],
    after_wait: Callable[[], None],
    ledger_retention: timedelta | None = None,
    control: ControlGate | None = None,
) -> Collaborators:
    """The worker's collaborators (``settled``: what its lanes finished; ``after_wait``: fencing)."""
    reconciler, caller = platform_calling(
        adapter,
        platform,
        budget,
        clock,
        after_wait,
        limits=limits,
        retry=retry,
        max_local_wait_s=max_local_wait_s,
        rng=rng,
        control=control,
    )
    engagement = EngagementReader(
        adapter,
        platform,
        producer,
        topics.engagement_observed,
        call_timeout_s=budget.call_timeout_s,
        clock=clock,
    )
    dead_letters = DeadLetters(
        topics.publish_dead, f"publisher-{platform}", producer=producer, owns=topics.owned_by("publisher")
    )
    ledger = attempt_ledger(
        bootstrap,
        topics,
        group,
        platform,
        producer,
        budget.lease,
        clock,
        instance_id,
        transactions,
        settled,
        dead_letters,
        ledger_retention,
    )
    return Collaborators(ledger, reconciler, caller, engagement, dead_letters)


def platform_calling(
    adapter: Adapter,
    platform: str,
    budget: Budget,
    clock: Callable[[], datetime],
    after_wait: Callable[[], None],
    *,
    limits: RateLimits,
    retry: RetryPolicy,
    max_local_wait_s: float,
    rng: random.Random,
    control: ControlGate | None = None,
) -> tuple[Reconciler, PlatformCaller]:
    """How a job reaches the platform: the caller, and the reconciler it asks after a call whose
    outcome is unknown. First what the reconciler needs, then what the caller adds: its rate
    limits, retry policy, local wait and jitter, and the commands that stop a post."""
    reconciler = Reconciler(
        adapter,
        platform,
        call_timeout_s=budget.call_timeout_s,
        longest_wait=budget.lease + timedelta(seconds=budget.publish_timeout_s + 60.0),
        clock=clock,
        after_wait=after_wait,
        retry=retry,
        rng=rng,
    )
    caller = PlatformCaller(
        adapter,
        limits,
        reconciler,
        retry,
        publish_timeout_s=budget.publish_timeout_s,
        max_local_wait=timedelta(seconds=max_local_wait_s),
        clock=clock,
        rng=rng,
        control=control,
    )
    return reconciler, caller


def attempt_ledger(
    bootstrap: KafkaAddress,
    topics: TopicRegistry,
    group: str,
    platform: str,
    producer: AIOKafkaProducer,
    lease: timedelta,
    clock: Callable[[], datetime],
    instance_id: str,
    transactions: AIOKafkaProducer | None,
    settled: Callable[[], Offsets],
    dead_letters: DeadLetters,
    retention: timedelta | None = None,
) -> AttemptLedger:
    # Settling outcomes go through their own, transactional producer, named after this
    # replica (stable across its restarts when it has an instance id); ``producer`` keeps
    # the writes that need no atomicity (attempted, engagement, dead letters of poison).
    txn_id = transactional_id(group, instance_id)
    client = f"warta-publisher-{platform}-ledger"
    return AttemptLedger(
        bootstrap=bootstrap,
        topics=topics,
        platform=platform,
        producer=producer,
        transactions=transactions or make_transactional_producer(bootstrap, client, txn_id),
        group=group,
        writer_id=txn_id,
        stable_writer=bool(instance_id),
        settled=settled,
        lease=lease,
        clock=clock,
        dead_letters=dead_letters,
        retention=retention,
    )

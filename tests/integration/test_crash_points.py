"""A crash at any write of the planner or the publisher loses nothing and posts nothing twice.

The scheduler's planner and one publisher run against the real broker with a platform that
answers each job's first call with a 5xx (so every job goes through the retry path). The process
under test is killed at its N-th write boundary — each send, each offset hand-over and each
commit of its transactional producer — for N = 1, 2, … until a run needs no kill; it is then
restarted from the topics alone (a fresh plan, or a fresh ledger) with the same transactional
id, as a supervisor restarts a replica. Every run must end with each job published exactly once
on the platform, ``published`` in the plan, each attempt number fired at most once, and no job
left due.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.publisher.adapters.port import (
    Absent,
    Adapter,
    Credentials,
    Engagement,
    Lookup,
    NotSupported,
    Published,
    PublishRequest,
    RateLimitInfo,
    Target,
    Temporary,
)
from services.publisher.decide import RetryPolicy
from services.publisher.ratelimit import RateLimits
from services.publisher.worker import PublisherWorker
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import Planner
from services.scheduler.router import Router
from shared.channels import Channel, ChannelDirectory
from shared.codec import DecodeError, decode_as, encode
from shared.credentials.secret_store import SecretStore
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    JobDue,
    JobPlanned,
    JobState,
    OutcomeStatus,
    Priority,
    PublishOutcome,
    job_id_for,
)
from shared.kafka import delete_topics, ensure_topics, make_producer
from shared.kafka_txn import make_transactional_producer, transactional_id
from shared.topics import TopicRegistry

pytestmark = pytest.mark.integration

M = TypeVar("M", JobPlanned, JobDue, PublishOutcome)

PLATFORM = "facebook"
CH = "fb-crash"
DIRECTORY = ChannelDirectory(channels=(Channel(id=CH, platform=PLATFORM, min_gap_minutes=0),))
ITEMS = ("c1", "c2")  # per run, prefixed with the run's name


class Killed(Exception):
    """The process was killed here: nothing after this point happens."""


@dataclass
class Fuse:
    """Blows at the ``at``-th write boundary; from then on the producer is dead."""

    at: int
    seen: int = 0
    blown: bool = False

    def boundary(self, what: str) -> None:
        if self.blown:
            raise Killed(f"dead since boundary {self.at}")
        self.seen += 1
        if self.seen == self.at:
            self.blown = True
            raise Killed(f"killed at boundary {self.at} ({what})")


class CrashingProducer(AIOKafkaProducer):  # type: ignore[misc]
    """A real transactional producer that dies at a chosen write boundary, as a killed process
    would: no abort, no further writes; its open transaction is left for the next owner of its
    transactional id to abort."""

    def __init__(self, fuse: Fuse, **config: Any) -> None:
        super().__init__(**config)
        self.fuse = fuse

    async def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
        self.fuse.boundary(f"send to {topic}")
        return await super().send(topic, *args, **kwargs)

    async def send_offsets_to_transaction(self, offsets: Any, group_id: str) -> None:
        self.fuse.boundary("offsets")
        await super().send_offsets_to_transaction(offsets, group_id)

    async def commit_transaction(self) -> None:
        self.fuse.boundary("commit")
        await super().commit_transaction()

    async def abort_transaction(self) -> None:
        if self.fuse.blown:
            raise Killed("a killed process aborts nothing")
        await super().abort_transaction()


@dataclass
class FlakyPlatform(Adapter):
    """The platform: a 5xx on each job's first call, then posts; it can always tell what it has."""

    platform: str = PLATFORM
    posts: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        self.calls[request.job_id] += 1
        if self.calls[request.job_id] == 1:
            raise Temporary("502 Bad Gateway", code="http_502", http_status=502)
        self.posts[request.job_id] += 1
        return Published(post_id=f"p-{request.marker}", url=None)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        if self.posts[request.job_id]:
            return Published(post_id=f"p-{request.marker}", url=None)
        return Absent("the fake lists every post at once")

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        raise NotSupported("no counts in this test")

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return None


NEEDED = (
    "content.approved",
    "content.control",
    "engagement.observed",
    "publish.outcomes",
    "publish.dead",
    "schedule.commands",
    "schedule.jobs",
    "schedule.channels",
    f"publish.{PLATFORM}",
    f"publish.{PLATFORM}.attempts",
)


@dataclass
class System:
    """Router, planner and publisher in one loop; the one under test carries a fuse."""

    bootstrap: str
    topics: TopicRegistry
    plain: AIOKafkaProducer
    run_id: str
    items: tuple[str, ...]
    platform: FlakyPlatform = field(default_factory=FlakyPlatform)
    tasks: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = field(default_factory=dict)
    planner: Planner | None = None
    restarts: Counter[str] = field(default_factory=Counter)
    fuses: dict[str, Fuse | None] = field(default_factory=dict)

    def start(self, role: str, fuse: Fuse | None = None) -> None:
        # One group per role for every run on these topics: each run starts where the last
        # (quiescent) one committed, as a restarted system does.
        group = f"crash-{self.topics.prefix}{role}"
        run: Callable[[asyncio.Event], Awaitable[None]]
        if role == "router":
            run = Router(self.bootstrap, self.topics, group, DIRECTORY, self.plain).run
            stop = asyncio.Event()
            self.tasks[role] = (asyncio.create_task(run(stop)), stop)
            return
        txn = self.transactional(group, fuse)
        self.fuses[role] = fuse
        if role == "planner":
            plan = Plan(DIRECTORY, NaiveChooser(), PlanSettings())
            self.planner = Planner(
                self.bootstrap, self.topics, group, DIRECTORY, plan, self.plain, tick_s=0.05, transactions=txn
            )
            run = self.planner.run
        else:
            run = PublisherWorker(
                bootstrap=self.bootstrap,
                topics=self.topics,
                group=group,
                platform=PLATFORM,
                channels=DIRECTORY,
                adapter=self.platform,
                secrets=SecretStore({CH: Credentials(token="t")}),
                producer=self.plain,
                limits=RateLimits({}),
                retry=RetryPolicy(base=timedelta(seconds=0.2), cap=timedelta(seconds=0.5)),
                call_timeout_s=5.0,
                instance_id=self.run_id,  # signs its attempted records as the producer's id
                transactions=txn,
            ).run
        stop = asyncio.Event()
        self.tasks[role] = (asyncio.create_task(run(stop)), stop)

    def transactional(self, group: str, fuse: Fuse | None) -> AIOKafkaProducer:
        # The same after a restart, as a replica's with an instance id: it fences the dead one.
        txn_id = transactional_id(group, self.run_id)
        if fuse is None:
            return make_transactional_producer(self.bootstrap, group, txn_id)
        return CrashingProducer(
            fuse,
            bootstrap_servers=self.bootstrap,
            transactional_id=txn_id,
            acks="all",
            enable_idempotence=True,
        )

    def supervise(self) -> None:
        """Restart whatever was killed, as a supervisor would (without a fuse this time)."""
        for role, (task, _) in list(self.tasks.items()):
            if task.done():
                exc = task.exception()
                assert exc is not None, f"{role} stopped by itself"
                assert isinstance(exc, Killed) or isinstance(exc.__cause__, Killed), repr(exc)
                self.restarts[role] += 1
                self.start(role)

    def published_in_memory(self) -> bool:
        """Every job published in the live planner's plan (a killed one's may be ahead of Kafka)."""
        assert self.planner is not None
        fuse = self.fuses.get("planner")
        if self.tasks["planner"][0].done() or (fuse is not None and fuse.blown):
            return False  # killed, maybe still unwinding
        jobs = [self.planner.plan.job(job_id_for(c, CH)) for c in self.items]
        return all(j is not None and j.state is JobState.PUBLISHED for j in jobs)

    async def stop(self) -> bool:
        """Stop everything; False if one was killed meanwhile (the in-memory plan runs ahead of
        Kafka while a transaction is being written, so "published" may not have committed)."""
        for _, stop in self.tasks.values():
            stop.set()
        ended = await asyncio.gather(*(t for t, _ in self.tasks.values()), return_exceptions=True)
        for outcome in ended:
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, Killed) or isinstance(outcome.__cause__, Killed), repr(outcome)
        return not any(isinstance(outcome, BaseException) for outcome in ended)


def approved(content_id: str) -> ContentApproved:
    now = datetime.now(UTC)
    return ContentApproved(
        event_id=uuid.uuid4().hex,
        occurred_at=now,
        content_id=content_id,
        priority=Priority.URGENT,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=now),
        submitted_by="yuyun",
        variants=(ChannelVariant(channel=CH, content=Content(text=f"crash test {content_id}")),),
    )


async def committed(bootstrap: str, topic: str) -> list[bytes]:
    """Every committed record value on ``topic`` (one partition), in order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[bytes] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=500)).values():
                out += [r.value for r in records if r.value is not None]
        return out
    finally:
        await consumer.stop()


def decoded(values: list[bytes], model: type[M]) -> list[M]:
    out: list[M] = []
    for value in values:
        try:
            out.append(decode_as(value, model))
        except DecodeError:
            continue
    return out


async def scenario(bootstrap: str, topics: TopicRegistry, target: str, at: int) -> bool:
    """One run with ``target`` killed at write boundary ``at``; True if the fuse blew."""
    run_id = uuid.uuid4().hex[:8]
    items = tuple(f"{run_id}-{c}" for c in ITEMS)
    plain = make_producer(bootstrap, "crash-test")
    await plain.start()
    system = System(bootstrap, topics, plain, run_id, items)
    fuse = Fuse(at)
    try:
        for role in ("router", "planner", "publisher"):
            system.start(role, fuse if role == target else None)
        for content_id in items:
            await plain.send_and_wait(
                topics.content_approved, encode(approved(content_id)), key=content_id.encode()
            )
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            while not system.published_in_memory():
                assert asyncio.get_running_loop().time() < deadline, (
                    f"{target} killed at {at}: not all published in 60 s; posts {dict(system.platform.posts)}"
                )
                await asyncio.sleep(0.05)
                system.supervise()
            if await system.stop():
                break
            for role in ("router", "planner", "publisher"):  # killed while stopping: start again
                system.restarts[role] += 1
                system.start(role)
        await verify(bootstrap, topics, system, f"{target} killed at boundary {at}")
    finally:
        await system.stop()
        await plain.stop()
    return fuse.blown


async def verify(bootstrap: str, topics: TopicRegistry, system: System, case: str) -> None:
    plan: dict[str, JobPlanned] = {}
    for job in decoded(await committed(bootstrap, topics.schedule_jobs), JobPlanned):
        plan[job.job_id] = job
    dues = [d for d in decoded(await committed(bootstrap, topics.publish(PLATFORM)), JobDue)]
    outcomes = decoded(await committed(bootstrap, topics.publish_outcomes), PublishOutcome)
    for content_id in system.items:
        job_id = job_id_for(content_id, CH)
        assert plan[job_id].state is JobState.PUBLISHED, f"{case}: {job_id} ended {plan[job_id].state}"
        assert system.platform.posts[job_id] == 1, (
            f"{case}: {job_id} posted {system.platform.posts[job_id]} times"
        )
        attempts = [d.attempt for d in dues if d.job_id == job_id and d.purpose == "publish"]
        assert attempts == list(range(1, len(attempts) + 1)), f"{case}: {job_id} fired {attempts}"
        published = [o for o in outcomes if o.job_id == job_id and o.status is OutcomeStatus.PUBLISHED]
        assert len(published) == 1, f"{case}: {job_id} has {len(published)} published outcomes"


@pytest.mark.parametrize("target", ["planner", "publisher"])
async def test_a_kill_at_any_write_boundary_loses_and_duplicates_nothing(
    kafka_bootstrap: str, target: str
) -> None:
    # One set of topics for all runs: a shared broker should not create and delete hundreds.
    topics = TopicRegistry(prefix=f"crash{uuid.uuid4().hex[:8]}.", partitions=1)
    await ensure_topics(
        kafka_bootstrap, [s for s in topics.specs() if s.name[len(topics.prefix) :] in NEEDED]
    )
    try:
        at = 1
        while await scenario(kafka_bootstrap, topics, target, at):
            at += 1
            assert at < 200, "the fuse never stopped blowing"
    finally:
        await delete_topics(kafka_bootstrap, topics.prefix)
    assert at > 5, f"{target}: only {at - 1} write boundaries were exercised"
    print(f"{target}: killed at each of {at - 1} write boundaries, then a run without a kill")

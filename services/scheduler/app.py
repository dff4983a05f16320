"""Wires the scheduler: topics, producer, chooser, plan, router and planner; runs until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine
from typing import Any

from services.scheduler.chooser import NaiveChooser, SlotChooser
from services.scheduler.expectations import ExpectationPublisher
from services.scheduler.plan import Plan
from services.scheduler.planner import Planner
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.restore import KeptStore
from services.scheduler.router import Router
from services.scheduler.settings import SchedulerSettings
from services.scheduler.store import JobStore, SqliteJobStore
from shared.channels import ChannelDirectory
from shared.clock import utcnow
from shared.kafka import ensure_topics, make_producer
from shared.metrics import SchedulerMetrics, serve_metrics
from shared.partitioning import partition_for
from shared.watchdog import Watchdog

log = logging.getLogger("warta.scheduler")


def build_chooser(settings: SchedulerSettings) -> SlotChooser:
    if settings.policy == "naive":
        return NaiveChooser()
    return PolicyChooser(calendar=settings.load_calendar())


async def run(settings: SchedulerSettings, stop: asyncio.Event) -> None:
    topics = settings.topics
    channels = settings.load_channels()
    created = await ensure_topics(settings.kafka, topics.specs())
    if created:
        log.info("created topics: %s", ", ".join(created))
    producer = make_producer(settings.kafka, "warta-scheduler")
    await producer.start()
    try:
        kept, store = open_store(settings)
        chooser = build_chooser(settings)
        plan = _plan(settings, channels, chooser, store)
        metrics = SchedulerMetrics()
        watchdog = Watchdog(settings.stall_limit_s)
        router = Router(
            settings.kafka,
            topics,
            settings.group("scheduler-router"),
            channels,
            producer,
            metrics,
            watchdog,
        )
        planner = Planner(
            settings.kafka,
            topics,
            settings.group("scheduler"),
            channels,
            plan,
            producer,
            tick_s=settings.tick_s,
            retention_sweep_s=settings.retention_sweep_s,
            metrics=metrics,
            watchdog=watchdog,
            kept=kept,
            instance_id=settings.instance_id,
        )
        expectations = ExpectationPublisher(
            topics.model_expectations,
            topics.partitions,
            channels.channels,
            chooser,
            planner.owns,
            producer,
            settings.expectation_every_s,
            utcnow,
        )
        log.info("scheduler running for %d channels", len(channels.channels))
        async with serve_metrics(metrics.registry, settings.metrics_host, settings.metrics_port):
            await _run_together(
                stop, router.run(stop), planner.run(stop), watchdog.run(stop), expectations.run(stop)
            )
        # Only after a clean stop (gather raised otherwise): every plan write is acknowledged.
        await planner.checkpoint()
    finally:
        await producer.stop()


def _plan(
    settings: SchedulerSettings, channels: ChannelDirectory, chooser: SlotChooser, store: JobStore
) -> Plan:
    partitions = settings.topics.partitions
    return Plan(
        channels,
        chooser,
        settings.plan_settings(),
        store=store,
        partition_of=lambda channel: partition_for(channel, partitions),
    )


def open_store(settings: SchedulerSettings) -> tuple[KeptStore | None, JobStore]:
    """The plan's job store: the kept one, whose checkpoint lets a restart replay only the tail
    of the changelogs, or a fresh one of this process."""
    if settings.keep_store:
        kept = KeptStore.open(settings.state_dir / f"{settings.store_name}.sqlite3")
        return kept, kept.store
    return None, SqliteJobStore(settings.state_dir / f"scheduler-{os.getpid()}.sqlite3")


async def _run_together(stop: asyncio.Event, *loops: Coroutine[Any, Any, None]) -> None:
    """Run the loops until all return; the first that raises stops the others, then it re-raises."""
    tasks = [asyncio.create_task(loop) for loop in loops]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        if task.exception() is not None:
            stop.set()
    await asyncio.gather(*tasks)

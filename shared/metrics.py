"""Prometheus building blocks for the scheduler's and publishers' own processes.

Each process keeps its metrics on a registry of its own (tests run several in one interpreter) and
serves them with ``serve_metrics`` on ``WARTA_METRICS_PORT``; deploy/prometheus/prometheus.yml
scrapes the scheduler on 9101 and the publishers on ``publisher_metrics_port(platform)``.
Topic-level figures (messages per topic, consumer lag, outcomes, dead letters, jobs by state) are
the console's: they are read from the broker once, not by every process.

Names and labels match deploy/prometheus/alerts.yml and deploy/grafana/dashboards/warta.json.

``warta_poison_messages`` (by topic) counts the undecodable records a process dead-lettered,
``warta_poison_skipped`` those it skipped because their letter is another consumer's, or was
written at an earlier start (``shared.replay_letters``); the scheduler counts the first itself,
every other process reads both from its ``DeadLetters`` at each scrape (``LetterCounts``).
"""

from __future__ import annotations

import platform
from collections import Counter as Counts
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from shared.build import version
from shared.dead_letters import DeadLetters
from shared.topics import PLATFORMS

SCHEDULER_METRICS_PORT = 9101
FIRST_PUBLISHER_METRICS_PORT = 9110


def service_registry(service: str) -> CollectorRegistry:
    """A registry for one service's metrics, with what every process exports by convention: the
    ``process_*``, ``python_info`` and ``python_gc_*`` series and ``warta_build_info``.

    One per service object, not the global default registry: tests run several services in one
    interpreter, and each must export only its own series.
    """
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    info = Gauge(
        "warta_build_info",
        "Always 1; the labels say which build of Warta runs",
        ["service", "version", "python"],
        registry=registry,
    )
    info.labels(service, version(), platform.python_version()).set(1)
    return registry


def publisher_metrics_port(platform: str) -> int:
    """9110 + the platform's place in ``shared.topics.PLATFORMS`` (stable: new platforms append)."""
    return FIRST_PUBLISHER_METRICS_PORT + PLATFORMS.index(platform)


class ConsumerMetrics:
    """What every consuming process counts: messages consumed and produced per topic."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumed = Counter(
            "warta_consumed_messages", "Messages consumed, by topic", ["topic"], registry=registry
        )
        self.produced = Counter(
            "warta_produced_messages",
            "Messages produced by this process, by topic",
            ["topic"],
            registry=registry,
        )


_POISON_HELP = "Undecodable messages sent to the dead-letter topic"


class LetterCounts(Collector):
    """``warta_poison_messages`` and ``warta_poison_skipped`` by topic, read at each scrape from
    the process's dead letters (``DeadLetters.poison`` and ``.skipped``)."""

    def __init__(self, letters: Callable[[], Iterable[DeadLetters]]) -> None:
        self._letters = letters

    def collect(self) -> Iterator[CounterMetricFamily]:
        poison = CounterMetricFamily("warta_poison_messages", _POISON_HELP, labels=["topic"])
        skipped = CounterMetricFamily(
            "warta_poison_skipped",
            "Undecodable messages skipped: lettered by their topic's owning consumer, or at an earlier start",
            labels=["topic"],
        )
        lettered: Counts[str] = Counts()
        left: Counts[str] = Counts()
        for dead in self._letters():
            lettered.update(dead.poison)
            left.update(dead.skipped)
        for family, counts in ((poison, lettered), (skipped, left)):
            for topic in sorted(counts):
                family.add_metric([topic], counts[topic])
        yield poison
        yield skipped


class SchedulerMetrics(ConsumerMetrics):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or service_registry("scheduler")
        super().__init__(self.registry)
        self.poison = Counter("warta_poison_messages", _POISON_HELP, ["topic"], registry=self.registry)
        # Jobs by channel and state are the console's ``warta_jobs``, read from schedule.jobs.
        # Slot to emission on publish.<platform>; the alert fires on the p95 over 60 s.
        self.lateness = Histogram(
            "warta_scheduler_firing_lateness_seconds",
            "How long after its slot a job was emitted",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
            registry=self.registry,
        )
        self.fired = Counter(
            "warta_scheduler_fired",
            "Jobs emitted to their platform topic",
            ["channel", "purpose"],
            registry=self.registry,
        )
        self.restore = Histogram(
            "warta_scheduler_restore_seconds",
            "Time to rebuild the plan of newly assigned partitions",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )


class PublisherMetrics(ConsumerMetrics):
    def __init__(self, platform: str, registry: CollectorRegistry | None = None) -> None:
        self.platform = platform
        self.registry = registry or service_registry(f"publisher-{platform}")
        super().__init__(self.registry)
        self.letters: list[DeadLetters] = []  # the worker's, once it is wired
        self.registry.register(LetterCounts(lambda: self.letters))
        # Outcomes (retries and dead jobs among them) are the console's
        # ``warta_publish_outcomes_total``, read from publish.outcomes: one name for one quantity.
        # Counts only: no token, account secret or endpoint answer is ever a label.
        self.credential_refreshes = Counter(
            "warta_publisher_credential_refreshes",
            "Access-token refreshes by result: refreshed, parked (needs re-connect), failed (will retry)",
            ["platform", "result"],
            registry=self.registry,
        )
        self.call_seconds = Histogram(
            "warta_publisher_call_duration_seconds",
            "Time a platform took to answer",
            ["platform"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        # AccountLimiter.headroom(now): the free share of the tightest rolling window.
        self.headroom = Gauge(
            "warta_rate_limit_headroom_ratio",
            "Free share of the account's tightest rate-limit window (0-1)",
            ["platform", "account"],
            registry=self.registry,
        )


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST


def metrics_response(registry: CollectorRegistry) -> web.Response:
    """A ``/metrics`` answer: the registry in Prometheus' text format, under the content type
    (and format version) that a scraper reads it by."""
    body, content_type = render(registry)
    return web.Response(body=body, headers={"Content-Type": content_type})


@asynccontextmanager
async def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> AsyncIterator[None]:
    """Serve ``/metrics`` on http://host:port while the block runs (port 0: not at all)."""
    if port == 0:
        yield
        return

    async def metrics(request: web.Request) -> web.Response:
        return metrics_response(registry)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        yield
    finally:
        await runner.cleanup()

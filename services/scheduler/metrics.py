"""The scheduler's Prometheus metrics: jobs by state, firing lateness, restores, routed commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _JobsByState(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "warta_scheduler_jobs", "Jobs held by this worker, by state", labels=["state"]
        )
        for state, n in sorted(self._counts().items()):
            family.add_metric([state], n)
        yield family


class SchedulerMetrics:
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobsByState(counts))
        self.fired = Counter(
            "warta_scheduler_fired", "Jobs fired to their platform topic", ["purpose"], registry=self.registry
        )
        self.lateness = Histogram(
            "warta_scheduler_firing_lateness_seconds",
            "From a job's slot to the broker's acknowledgement of its due event",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.restore = Histogram(
            "warta_scheduler_restore_seconds",
            "Time to rebuild the plan of newly assigned partitions",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.routed = Counter(
            "warta_scheduler_routed_commands",
            "Input events routed to channel commands",
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "warta_scheduler_dead_letters",
            "Undecodable messages sent to publish.dead",
            ["topic"],
            registry=self.registry,
        )

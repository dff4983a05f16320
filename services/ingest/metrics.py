"""Ingest's Prometheus metrics, on a registry of its own (one per app, so tests don't collide);
the feeders' undecodable records among them (``shared.metrics.LetterCounts``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import (
    Counter,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.ingest.status_view import StatusView
from shared.dead_letters import DeadLetters
from shared.metrics import LetterCounts, service_registry


class ViewMetrics(Collector):
    """The status view's counts, read from the view at each scrape: events folded in, and events
    held for items not met yet. An event waits there for
    an item the feeder has not read yet (it reads each partition at its own pace); a drop count
    that rises means the bound (``MAX_EARLY_EVENTS``) was hit, and an item that comes after its
    events were dropped shows its jobs in an older state than they are."""

    def __init__(self, view: StatusView) -> None:
        self._view = view

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        yield CounterMetricFamily(
            "warta_ingest_view_events",
            "Events folded into the status view (from the topics, and this instance's own writes)",
            value=self._view.events_folded,
        )
        yield GaugeMetricFamily(
            "warta_ingest_view_early_events",
            "Events the status view holds for items it has not met yet",
            value=self._view.early_events,
        )
        yield CounterMetricFamily(
            "warta_ingest_view_early_dropped",
            "Held events dropped (oldest item first) past the status view's bound",
            value=self._view.early_dropped,
        )


class IngestMetrics:
    def __init__(self, view: StatusView, letters: Iterable[DeadLetters] = ()) -> None:
        self.registry = service_registry("ingest")
        self.registry.register(ViewMetrics(view))
        held = list(letters)  # the feeders' dead letters: undecodable records by topic
        self.registry.register(LetterCounts(lambda: held))
        self.requests = Counter(
            "warta_ingest_requests",
            "HTTP requests answered by ingest, by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "warta_ingest_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # labels() takes a lock and builds its key on every call; the children are few (routes x
        # statuses), so they are looked up once and kept.
        children = self._children.get((method, route, status))
        if children is None:
            children = self._children[(method, route, status)] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

"""The inbox's Prometheus figures, on its own registry (``shared.metrics.service_registry``), served
on the API port's ``/metrics`` (deploy/prometheus/prometheus.yml scrapes 8060).

- ``warta_inbox_first_answer_seconds`` (histogram, by channel and ``in_working_hours``, yes or
  no: whether the comment was written in office hours): how long citizens waited for the
  bureau's first answer, observed when the platform takes it (``responsiveness``). Averages come
  from ``_sum / _count``, medians from ``histogram_quantile(0.5, …)``; the buckets run from a
  minute to three days, around the two-hour target most press offices set themselves.
- ``warta_inbox_waiting_over_target`` (gauge, by channel): unanswered comments older than the
  channel's answer target, read from the book at each scrape.
- ``warta_inbox_comment_spikes`` (gauge, by channel): posts whose comments spike now
  (``services.inbox.spikes``), read at each scrape, which also ends the spikes that calmed;
  ``warta_inbox_comment_spikes_started_total`` (by channel): spikes announced on ``inbox.spikes``.
- ``warta_inbox_entries`` (by channel and state), ``warta_inbox_collected_total`` (by channel) and
  ``warta_inbox_dead_letters_total``: read at each scrape from the book and the collector.
- ``warta_poison_messages_total`` and ``warta_poison_skipped_total`` (by topic): undecodable
  records the inbox dead-lettered, and those it skipped (``shared.metrics.LetterCounts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector as PrometheusCollector

from services.inbox.book import InboxBook
from services.inbox.collector import Collector
from services.inbox.responsiveness import waited, waiting_over_target
from services.inbox.spikes import SpikeWatch
from shared.dead_letters import DeadLetters
from shared.events import InboxChanged
from shared.metrics import LetterCounts, service_registry

FIRST_ANSWER_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)


class InboxMetrics:
    """The figures the keeper observes as changes happen; ``watch`` adds those read at scrape."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        in_working_hours: Callable[[InboxChanged], bool] = lambda entry: False,
        letters: Iterable[DeadLetters] = (),
    ) -> None:
        self.registry = registry or service_registry("inbox")
        held = list(letters)
        self.registry.register(LetterCounts(lambda: held))
        self._in_working_hours = in_working_hours
        self.first_answer = Histogram(
            "warta_inbox_first_answer_seconds",
            "Time from a citizen's comment to the bureau's first answer on the platform",
            ["channel", "in_working_hours"],
            buckets=FIRST_ANSWER_BUCKETS,
            registry=self.registry,
        )

        self.spikes_started = Counter(
            "warta_inbox_comment_spikes_started",
            "Spikes of a post's comments announced on inbox.spikes, by channel",
            ["channel"],
            registry=self.registry,
        )

    def spike_started(self, channel: str) -> None:
        self.spikes_started.labels(channel).inc()

    def watch_spikes(self, spikes: SpikeWatch, channels: list[str], clock: Callable[[], datetime]) -> None:
        self.registry.register(_SpikeCollector(spikes, channels, clock))

    def answered(self, entry: InboxChanged, wait: timedelta) -> None:
        in_hours = "yes" if self._in_working_hours(entry) else "no"
        self.first_answer.labels(entry.channel, in_hours).observe(wait.total_seconds())

    def watch(
        self,
        book: InboxBook,
        collector: Collector,
        target_of: Callable[[str], timedelta],
        clock: Callable[[], datetime],
        wait_of: Callable[[InboxChanged, datetime], timedelta] = waited,
    ) -> None:
        self.registry.register(_BookCollector(book, collector, target_of, clock, wait_of))


@dataclass(eq=False)
class _BookCollector(PrometheusCollector):
    book: InboxBook
    collector: Collector
    target_of: Callable[[str], timedelta]
    clock: Callable[[], datetime]
    wait_of: Callable[[InboxChanged, datetime], timedelta]

    def collect(self) -> Iterator[Metric]:
        entries = self.book.select()
        states = GaugeMetricFamily(
            "warta_inbox_entries", "Comments in the inbox by channel and state", labels=["channel", "state"]
        )
        counts: dict[tuple[str, str], int] = {}
        for entry in entries:
            counts[(entry.channel, entry.state.value)] = counts.get((entry.channel, entry.state.value), 0) + 1
        for (channel, state), n in sorted(counts.items()):
            states.add_metric([channel, state], n)
        yield states
        waiting = GaugeMetricFamily(
            "warta_inbox_waiting_over_target",
            "Unanswered comments that have waited longer than their channel's answer target",
            labels=["channel"],
        )
        over = waiting_over_target(entries, self.clock(), self.target_of, self.wait_of)
        # Every channel, zeros included: an alert on a series that vanishes never resolves.
        for channel in sorted(set(self.collector.status) | set(over)):
            waiting.add_metric([channel], over.get(channel, 0))
        yield waiting
        collected = CounterMetricFamily(
            "warta_inbox_collected",
            "Comments this process wrote to comments.observed, by channel",
            labels=["channel"],
        )
        for status in self.collector.status.values():
            collected.add_metric([status.channel], status.collected)
        yield collected
        yield CounterMetricFamily(
            "warta_inbox_dead_letters",
            "Unreadable comments and deliveries dead-lettered",
            value=self.collector.dead_lettered,
        )


@dataclass(eq=False)
class _SpikeCollector(PrometheusCollector):
    spikes: SpikeWatch
    channels: list[str]
    clock: Callable[[], datetime]

    def collect(self) -> Iterator[Metric]:
        spiking = GaugeMetricFamily(
            "warta_inbox_comment_spikes",
            "Posts whose comments arrive far above their channel's usual rate now",
            labels=["channel"],
        )
        now = self.spikes.settle(self.clock())
        # Every channel, zeros included, so the alert resolves on a number and not on silence.
        for channel in sorted(set(self.channels) | set(now)):
            spiking.add_metric([channel], now.get(channel, 0))
        yield spiking

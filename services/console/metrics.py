"""The console's Prometheus metrics: topic-level figures read from the broker and the topics.

A custom collector: every scrape renders the current view and the latest offset snapshot, so
figures are exactly what the topics say (counters derived from replayed topics are monotonic
within a process and re-derived, not reset to zero, after a restart: the view's families are
left out of a scrape until the view has replayed the topics, never shown part-way).

    warta_topic_messages_total{topic}                    end offsets summed over partitions
    warta_consumer_committed_offset{group,topic,partition}
    warta_consumer_lag{group,topic,partition}            end offset - committed offset
    warta_consumer_group_lag{group}                      summed over partitions
    warta_publish_outcomes_total{platform,status}        from publish.outcomes (an operator's discard
                                                         is status="discarded", not failed)
    warta_dead_letters_total{source_topic}               from publish.dead
    warta_jobs{channel,state}                            from schedule.jobs (latest state per job;
                                                         finished ones within the view's retention)
    warta_channel_health{channel,platform,health}        1 for the channel's current health
    warta_channel_needs_reauth{channel}                  1 while a channel needs re-authorisation
    warta_channel_failure_ratio{channel}                 failed share of the last 20 settled outcomes
    warta_channel_paused{channel}                        1 while paused
    warta_offsets_probe_age_seconds                      how old the offset snapshot is
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.console.channel_health import Health
from services.console.offsets import OffsetSnapshot
from services.console.view import ConsoleView
from shared.channels import ChannelDirectory


class TopicCollector(Collector):
    def __init__(
        self,
        view: ConsoleView,
        snapshot: Callable[[], OffsetSnapshot | None],
        channels: ChannelDirectory,
        clock: Callable[[], datetime],
        *,
        replayed: Callable[[], bool] = lambda: True,
    ) -> None:
        self._view = view
        self._snapshot = snapshot
        self._channels = channels
        self._clock = clock
        self._replayed = replayed

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        yield from self._offsets()
        # The view's figures only once it has read the topics to their ends: a counter scraped
        # half-way through the replay would fall below its last value, which Prometheus takes for
        # a reset (and increase() for every dead letter and failure of the topics' retention).
        if self._replayed():
            yield from self._outcomes()
            yield from self._health()

    def _offsets(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        snap = self._snapshot()
        messages = CounterMetricFamily(
            "warta_topic_messages", "Messages produced to a topic (end offsets summed)", labels=["topic"]
        )
        committed = GaugeMetricFamily(
            "warta_consumer_committed_offset",
            "A consumer group's committed offset",
            labels=["group", "topic", "partition"],
        )
        lag = GaugeMetricFamily(
            "warta_consumer_lag",
            "Messages a consumer group has not committed yet (end - committed offset)",
            labels=["group", "topic", "partition"],
        )
        group_lag = GaugeMetricFamily(
            "warta_consumer_group_lag", "A consumer group's lag summed over partitions", labels=["group"]
        )
        age = GaugeMetricFamily("warta_offsets_probe_age_seconds", "Age of the offsets read from the broker")
        if snap is not None:
            for topic, total in sorted(snap.topic_totals().items()):
                messages.add_metric([topic], total)
            for row in snap.lags:
                labels = [row.group, row.topic, str(row.partition)]
                if row.committed is not None:
                    committed.add_metric(labels, row.committed)
                lag.add_metric(labels, row.lag)
            for group, total in sorted(snap.lag_by_group().items()):
                group_lag.add_metric([group], total)
            age.add_metric([], (self._clock() - snap.at).total_seconds())
        yield from (messages, committed, lag, group_lag, age)

    def _outcomes(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        outcomes = CounterMetricFamily(
            "warta_publish_outcomes", "Publish outcomes by platform and status", labels=["platform", "status"]
        )
        for (platform, status), n in sorted(self._view.outcomes.items()):
            outcomes.add_metric([platform, status], n)
        dead = CounterMetricFamily(
            "warta_dead_letters", "Dead letters on publish.dead by source topic", labels=["source_topic"]
        )
        for source, n in sorted(self._view.dead_by_source.items()):
            dead.add_metric([source], n)
        jobs = GaugeMetricFamily(
            "warta_jobs",
            "Jobs in the console's view by channel and state (finished ones within its retention)",
            labels=["channel", "state"],
        )
        for (channel, state), n in sorted(self._view.jobs_by_state().items()):
            jobs.add_metric([channel, state], n)
        yield from (outcomes, dead, jobs)

    def _health(self) -> Iterator[GaugeMetricFamily]:
        health = GaugeMetricFamily(
            "warta_channel_health",
            "1 for a channel's current health (ok, throttled, needs_reauth, failing, unknown)",
            labels=["channel", "platform", "health"],
        )
        reauth = GaugeMetricFamily(
            "warta_channel_needs_reauth", "1 while a channel needs re-authorisation", labels=["channel"]
        )
        ratio = GaugeMetricFamily(
            "warta_channel_failure_ratio",
            "Share of the channel's last 20 settled outcomes that were not published",
            labels=["channel"],
        )
        paused = GaugeMetricFamily("warta_channel_paused", "1 while a channel is paused", labels=["channel"])
        for ch in self._channels.channels:
            state = self._view.channels.get(ch.id)
            current = state.health if state is not None else Health.UNKNOWN
            for h in Health:
                health.add_metric([ch.id, ch.platform, h.value], 1.0 if h is current else 0.0)
            reauth.add_metric([ch.id], 1.0 if current is Health.NEEDS_REAUTH else 0.0)
            if state is not None and state.failure_ratio is not None:
                ratio.add_metric([ch.id], state.failure_ratio)
            paused.add_metric([ch.id], 1.0 if self._view.is_paused(ch.id) else 0.0)
        yield from (health, reauth, ratio, paused)

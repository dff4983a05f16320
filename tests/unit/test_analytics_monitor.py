"""The analytics worker's faust monitor, driven through faust's own sensor delegate: a record
costs it nothing, and what faust's consumer reads back from its monitor is still kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.sensors import Monitor
from faust.types import TP
from faust.types.tuples import Message

from services.analytics.app import create_app
from services.analytics.faust_monitor import NoRecordStatsMonitor
from services.analytics.settings import AnalyticsSettings
from shared.channels import ChannelDirectory


class _Owner:
    """What faust's stream names as the task it runs in (the default monitor keys by it)."""


class _Stream:
    task_owner = _Owner()


@pytest.fixture
def started() -> Iterator[Callable[[type[Monitor]], faust.App]]:
    """faust apps with their monitor among their sensors, as a worker starts them."""
    apps: list[faust.App] = []

    def start(monitor: type[Monitor]) -> faust.App:
        # A loop of its own, never the thread's: faust would otherwise make and install one.
        loop = asyncio.new_event_loop()
        apps.append(app := faust.App("monitor-test", Monitor=monitor, autodiscover=False, loop=loop))
        app.sensors.add(app.monitor)  # as faust's ``App.on_init_dependencies`` does at start
        return app

    yield start
    for app in apps:
        app.loop.close()


def _one_record_through_the_sensors(app: faust.App, message: Message) -> None:
    """The four per-record calls faust's stream makes, in its order."""
    tp = TP(message.topic, message.partition)
    app.sensors.on_message_in(tp, message.offset, message)
    state = app.sensors.on_stream_event_in(tp, message.offset, _Stream(), None)  # type: ignore[arg-type]
    app.sensors.on_stream_event_out(tp, message.offset, _Stream(), None, state)  # type: ignore[arg-type]
    app.sensors.on_message_out(tp, message.offset, message)


def _message(offset: int) -> Message:
    return Message("engagement.observed", 3, offset, 0.0, 0, {}, b"k", b"v", None)


def test_the_worker_runs_with_the_monitor_without_per_record_statistics(tmp_path: Path) -> None:
    app = create_app(AnalyticsSettings(state_dir=tmp_path), ChannelDirectory())
    monitor_class: object = app.conf.Monitor  # what faust builds app.monitor from
    assert monitor_class is NoRecordStatsMonitor


def test_faust_default_monitor_counts_every_record(started: Callable[[type[Monitor]], faust.App]) -> None:
    # The cost removed: without this the test below would prove nothing.
    app = started(Monitor)
    message = _message(7)
    _one_record_through_the_sensors(app, message)
    assert app.monitor.messages_received_total == 1
    assert app.monitor.events_total == 1
    assert message.time_in is not None


@pytest.mark.parametrize("records", [1, 1000])
def test_records_leave_no_trace_in_the_monitor(
    records: int, started: Callable[[type[Monitor]], faust.App]
) -> None:
    app = started(NoRecordStatsMonitor)
    messages = [_message(offset) for offset in range(records)]
    for message in messages:
        _one_record_through_the_sensors(app, message)
    monitor = app.monitor
    assert (monitor.messages_received_total, monitor.messages_active) == (0, 0)
    assert (monitor.events_total, monitor.events_active, len(monitor.events_runtime)) == (0, 0, 0)
    assert not monitor.tp_read_offsets
    assert all(message.time_in is None and message.time_out is None for message in messages)


def test_what_faust_consumer_reports_to_its_monitor_is_kept(
    started: Callable[[type[Monitor]], faust.App],
) -> None:
    app = started(NoRecordStatsMonitor)
    tp = TP("engagement.observed", 3)
    _one_record_through_the_sensors(app, Message(tp.topic, tp.partition, 40, 0.0, 0, {}, b"k", b"v", None))
    app.monitor.on_tp_commit({tp: 41})
    app.monitor.track_tp_end_offset(tp, 99)
    consumer: Any = object()  # the monitor times the commit; it reads nothing of the consumer
    state = app.sensors.on_commit_initiated(consumer)
    app.sensors.on_commit_completed(consumer, state)
    # Read by faust's consumer every few seconds to tell a stuck stream from a lagging one.
    assert tp in app.monitor.stream_inbound_time
    assert app.monitor.tp_committed_offsets[tp] == 41
    assert app.monitor.tp_end_offsets[tp] == 99
    assert len(app.monitor.commit_latency) == 1


def test_every_per_record_hook_faust_calls_is_overridden() -> None:
    # faust's stream binds these four per record: a hook added to the list would still go to
    # faust's counting one, so each is named here.
    per_record = ("on_message_in", "on_stream_event_in", "on_stream_event_out", "on_message_out")
    for hook in per_record:
        assert getattr(NoRecordStatsMonitor, hook) is not getattr(Monitor, hook), hook

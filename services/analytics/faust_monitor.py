"""faust's main sensor for the analytics worker, without its per-record statistics (adapter).

faust adds one ``Monitor`` to every app and calls it four times for every source record (the
message in, the stream's event in and out, the message out): counters, two clock reads and a
state dict each time, kept for faust's /stats and /metrics pages. The worker serves neither
(``http_api`` registers only its own routes; its metrics are Warta's ``AnalyticsMetrics``), so
those calls are CPU spent per event for nothing. Everything faust itself reads back from its
monitor stays: when each partition's stream last took an event in (``stream_inbound_time``,
which the consumer's stuck-stream check reads every few seconds: without it a lagging partition
would read as never started, a false error that also hides the commit-stall checks after it),
the committed and end offsets the consumer reports (``on_tp_commit``, ``track_tp_end_offset``),
and the commit, send, assignment, rebalance and web request hooks, called per request or per
rebalance, not per record. The table's read and write hooks are never called here (the fold
reads and writes the table's store, the API iterates it), so faust's stay.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from faust.sensors import Monitor


class NoRecordStatsMonitor(Monitor):
    """faust's ``Monitor`` (the app's ``Monitor`` setting) with the per-record hooks left empty."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> dict[str, Any] | None:
        self.stream_inbound_time[tp] = monotonic()  # what faust's stuck-stream check reads
        # No state: faust hands ``on_stream_event_out`` whatever this returns, and it is empty too.
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: dict[str, Any] | None = None
    ) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        return None

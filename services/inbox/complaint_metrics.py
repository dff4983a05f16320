"""The complaint channel's Prometheus figures, read from the desk at each scrape:

- ``warta_inbox_complaints`` (gauge, by channel and state): the complaint records.
- ``warta_inbox_complaints_overdue`` (gauge, by channel and state): those past the deadline of the
  state they are in (recorded: forward within 3 working days; forwarded: answer within 5;
  answered: close within 10). Every channel holding a complaint is listed, zeros included, so an
  alert on it resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector as PrometheusCollector

from services.inbox.complaints import is_overdue
from shared.events import ComplaintChanged


class ComplaintFigures(PrometheusCollector):
    def __init__(
        self, records: Callable[[], Iterable[ComplaintChanged]], clock: Callable[[], datetime]
    ) -> None:
        self._records, self._clock = records, clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        held: dict[tuple[str, str], int] = {}
        late: dict[tuple[str, str], int] = {}
        for complaint in list(self._records()):
            where = (complaint.channel, complaint.state.value)
            held[where] = held.get(where, 0) + 1
            late[where] = late.get(where, 0) + int(is_overdue(complaint, now))
        records = GaugeMetricFamily(
            "warta_inbox_complaints",
            "LAPOR! complaint records by channel and state",
            labels=["channel", "state"],
        )
        overdue = GaugeMetricFamily(
            "warta_inbox_complaints_overdue",
            "Complaints past the working-day deadline of their state",
            labels=["channel", "state"],
        )
        for where in sorted(held):
            records.add_metric(list(where), held[where])
            overdue.add_metric(list(where), late[where])
        yield records
        yield overdue

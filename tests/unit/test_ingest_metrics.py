"""Ingest's /metrics body, rendered from a status view without Kafka or HTTP."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.ingest import status_view
from services.ingest.metrics import IngestMetrics
from services.ingest.status_view import StatusView
from shared.metrics import render
from tests.unit.test_status_view import approved, published


def samples(metrics: IngestMetrics) -> dict[str, float]:
    body, content_type = render(metrics.registry)
    assert content_type.startswith("text/plain")
    return {s.name: s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples}


def test_held_and_dropped_early_events_are_exposed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status_view, "MAX_EARLY_EVENTS", 2)
    view = StatusView()
    metrics = IngestMetrics(view)
    assert samples(metrics)["warta_ingest_view_early_events"] == 0
    assert samples(metrics)["warta_ingest_view_early_dropped_total"] == 0
    for content_id in ("c1", "c2", "c3"):  # outcomes read before their items
        view.apply(published(content_id))
    seen = samples(metrics)
    assert seen["warta_ingest_view_early_events"] == 2
    assert seen["warta_ingest_view_early_dropped_total"] == 1  # c1's, the oldest
    view.apply(approved("c2"))
    seen = samples(metrics)
    assert seen["warta_ingest_view_early_events"] == 1
    assert seen["warta_ingest_view_early_dropped_total"] == 1


def test_events_folded_into_the_view_are_counted_when_folded_not_when_held() -> None:
    view = StatusView()
    metrics = IngestMetrics(view)
    view.apply(published("c1"))  # held: its item has not come yet
    assert samples(metrics)["warta_ingest_view_events_total"] == 0
    view.apply(approved("c1"))  # the item, then the held outcome
    assert samples(metrics)["warta_ingest_view_events_total"] == 2

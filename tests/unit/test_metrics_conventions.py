"""Every Warta process exports what Prometheus users expect of any process, and one name per
quantity with its unit in the name."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.analytics.app import AnalyticsMetrics
from services.inbox.metrics import InboxMetrics
from services.ingest.metrics import IngestMetrics
from services.ingest.status_view import StatusView
from shared.build import version
from shared.metrics import PublisherMetrics, SchedulerMetrics, metrics_response


def families(registry: CollectorRegistry) -> set[str]:
    text = generate_latest(registry).decode()
    return {n for n in re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE) if not n.endswith("_created")}


REGISTRIES: dict[str, Callable[[], CollectorRegistry]] = {
    "scheduler": lambda: SchedulerMetrics().registry,
    "publisher-x": lambda: PublisherMetrics("x").registry,
    "ingest": lambda: IngestMetrics(StatusView()).registry,
    "inbox": lambda: InboxMetrics().registry,
    "analytics": lambda: AnalyticsMetrics().registry,
}


@pytest.mark.parametrize("service", list(REGISTRIES))
def test_each_process_exports_the_default_collectors_and_its_build(service: str) -> None:
    registry = REGISTRIES[service]()
    names = families(registry)
    assert "python_info" in names
    assert any(n.startswith("python_gc_") for n in names)
    assert "process_cpu_seconds" in names or "process_resident_memory_bytes" in names
    text = generate_latest(registry).decode()
    build = re.search(r"^warta_build_info\{(.*)\} 1\.0$", text, re.MULTILINE)
    assert build is not None
    assert f'service="{service}"' in build.group(1)
    assert f'version="{version()}"' in build.group(1)


def test_one_name_per_quantity_and_units_in_names() -> None:
    names: set[str] = set()
    for make in REGISTRIES.values():
        names |= families(make())
    warta = {n for n in names if n.startswith("warta_")}
    # Outcomes and jobs by state are the console's, read from the topics, under one name each.
    assert not {n for n in warta if "outcomes" in n or n.endswith("_jobs")}
    assert "warta_rate_limit_headroom_ratio" in warta
    for name in warta:
        if "duration" in name or "lateness" in name or "restore" in name:
            assert name.endswith("_seconds"), name


@pytest.mark.parametrize("name", sorted(REGISTRIES))
def test_a_metrics_answer_is_what_prometheus_scrapes(name: str) -> None:
    registry = REGISTRIES[name]()
    answer = metrics_response(registry)
    # Prometheus picks its parser by this header: the text format, with its version.
    assert answer.content_type == "text/plain"
    assert answer.charset == "utf-8"
    assert "version=" in answer.headers["Content-Type"]
    assert isinstance(answer.body, bytes)
    parsed = {f.name for f in text_string_to_metric_families(answer.body.decode())}
    assert {re.sub(r"_total$", "", n) for n in families(registry)} <= parsed

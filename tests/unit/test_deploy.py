"""deploy/: the Prometheus scrape configuration, the alert rules and the Grafana dashboard agree with
the code. promtool (Debian's `prometheus` package, installed by `make browser`) checks the files
where it is installed; the structural checks below run everywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from typing import Any, cast

import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.analytics.app import AnalyticsMetrics
from services.analytics.settings import AnalyticsSettings
from services.console.metrics import TopicCollector
from services.console.view import ConsoleView
from services.inbox.book import InboxBook
from services.inbox.collector import Collector
from services.inbox.complaint_metrics import ComplaintFigures
from services.inbox.metrics import InboxMetrics
from services.inbox.schedule import PollSchedule
from services.inbox.spikes import SpikeWatch
from services.ingest.metrics import IngestMetrics
from services.ingest.status_view import StatusView
from shared.channels import ChannelDirectory
from shared.clock import utcnow
from shared.metrics import SCHEDULER_METRICS_PORT, PublisherMetrics, SchedulerMetrics, publisher_metrics_port
from shared.settings import ROOT
from shared.topics import PLATFORMS, TopicRegistry

PROM = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"


def _sample_names(registry: CollectorRegistry) -> set[str]:
    """Every series name a registry can expose: a counter's ``_total``, a histogram's ``_bucket``."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    return {f.name + s for f in registry.collect() for s in suffixes.get(f.type, ("",))}


def exposed_metrics() -> set[str]:
    """Every metric name the code exposes, read from the registries the services build."""
    console = CollectorRegistry()
    console.register(TopicCollector(ConsoleView(), lambda: None, ChannelDirectory(channels=()), utcnow))
    names = _sample_names(console) | _sample_names(IngestMetrics(StatusView()).registry)
    names |= _sample_names(SchedulerMetrics(CollectorRegistry()).registry)
    names |= _sample_names(inbox_metrics().registry)
    names |= _sample_names(AnalyticsMetrics().registry)
    return names | _sample_names(PublisherMetrics("mastodon", CollectorRegistry()).registry)


def inbox_metrics() -> InboxMetrics:
    """The inbox's registry with the figures it reads from its book and collector at scrape."""
    metrics, book, none = InboxMetrics(CollectorRegistry()), InboxBook(), cast(Any, None)
    channels = ChannelDirectory(channels=())
    collector = Collector(
        producer=none, topics=TopicRegistry(), channels=channels, reader=none,
        schedule=PollSchedule(interval=timedelta(0)), known=book.__contains__,
    )  # fmt: skip
    metrics.watch(book, collector, lambda channel: timedelta(hours=2), utcnow)
    metrics.watch_spikes(SpikeWatch(), [], utcnow)
    metrics.registry.register(ComplaintFigures(list, utcnow))
    return metrics


KNOWN = exposed_metrics()


def load(path: str) -> Any:
    return yaml.safe_load((PROM / path).read_text())


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bwarta_[a-z_]+", expr))


def test_scrape_targets_cover_every_process() -> None:
    config = load("prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {name: [t for sc in job["static_configs"] for t in sc["targets"]] for name, job in jobs.items()}
    assert targets["warta-ingest"] == ["127.0.0.1:8080"]
    assert targets["warta-console"] == ["127.0.0.1:8070"]
    assert targets["warta-inbox"] == ["127.0.0.1:8060"]
    assert targets["warta-analytics"] == [f"127.0.0.1:{AnalyticsSettings(_env_file=None).analytics_port}"]
    assert targets["warta-scheduler"] == [f"127.0.0.1:{SCHEDULER_METRICS_PORT}"]
    assert sorted(targets["warta-publisher"]) == sorted(
        f"127.0.0.1:{publisher_metrics_port(p)}" for p in PLATFORMS
    )
    # The publishers' series carry their platform label; a target label would clash with it.
    for job in jobs.values():
        for sc in job["static_configs"]:
            assert "platform" not in sc.get("labels", {})
    assert config["rule_files"] == ["alerts.yml"]


def test_alert_rules_are_well_formed_and_use_real_metrics() -> None:
    rules = [rule for group in load("alerts.yml")["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in rules}
    assert {
        "WartaConsumerLagGrowing",
        "WartaDeadLetters",
        "WartaChannelNeedsReauth",
        "WartaPublishFailureRatioHigh",
        "WartaSchedulerLate",
    } <= names
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/runbooks.md", rule["alert"]
        assert anchor in runbook_sections(), f"{rule['alert']}: no section {anchor!r} in docs/runbooks.md"
        assert metric_names(rule["expr"]) <= KNOWN, rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])


def runbook_sections() -> set[str]:
    text = (ROOT / "docs" / "runbooks.md").read_text()
    return {m.group(1).strip() for m in re.finditer(r"^## (.+)$", text, re.MULTILINE)}


def test_grafana_dashboard_queries_real_metrics() -> None:
    dashboard = json.loads((GRAFANA / "dashboards" / "warta.json").read_text())
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "warta.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert dashboard["uid"] == "warta-overview"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid
        for target in panel["targets"]:
            assert metric_names(target["expr"]) <= KNOWN, panel["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert set(variables) == {"platform", "channel"}
    for variable in variables.values():
        assert metric_names(variable["definition"]) <= KNOWN
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    assert '=~"$platform"' in exprs
    assert '=~"$channel"' in exprs


def test_compose_runs_prometheus_and_grafana_with_these_files() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana", "console"):
        assert services[name]["network_mode"] == "host", name
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            assert (ROOT / volume.split(":")[0]).exists(), volume


@pytest.mark.promised
@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (make browser)")
@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts_test.yml"],  # the rules' own unit tests: when each fires
    ],
)
def test_promtool_accepts_the_files(args: list[str]) -> None:
    result = subprocess.run(["promtool", *args], cwd=PROM, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

"""deploy/: the Prometheus scrape configuration, the alert rules and the Grafana dashboard agree with
the code. promtool (Debian's `prometheus` package, installed by `make browser`) checks the files
where it is installed; the structural checks below run everywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from shared.metrics import SCHEDULER_METRICS_PORT, publisher_metrics_port
from shared.settings import ROOT
from shared.topics import PLATFORMS

PROM = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
# Every metric family Warta exposes (console collector, shared/metrics.py, ingest).
KNOWN = {
    "warta_topic_messages_total",
    "warta_consumer_group_lag",
    "warta_consumer_lag",
    "warta_publish_outcomes_total",
    "warta_dead_letters_total",
    "warta_jobs",
    "warta_channel_health",
    "warta_channel_needs_reauth",
    "warta_channel_paused",
    "warta_channel_failure_ratio",
    "warta_offsets_probe_age_seconds",
    "warta_scheduler_firing_lateness_seconds_bucket",
    "warta_rate_limit_headroom",
    "warta_ingest_requests_total",
    "warta_ingest_request_duration_seconds_bucket",
    "warta_ingest_view_early_events",
    "warta_ingest_view_early_dropped_total",
}


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
    assert targets["warta-scheduler"] == [f"127.0.0.1:{SCHEDULER_METRICS_PORT}"]
    publishers = {
        sc["labels"]["platform"]: sc["targets"][0] for sc in jobs["warta-publisher"]["static_configs"]
    }
    assert publishers == {p: f"127.0.0.1:{publisher_metrics_port(p)}" for p in PLATFORMS}
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
        assert metric_names(rule["expr"]) <= KNOWN, rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])


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


def test_compose_runs_prometheus_and_grafana_with_these_files() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana", "console"):
        assert services[name]["network_mode"] == "host", name
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            assert (ROOT / volume.split(":")[0]).exists(), volume


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (make browser)")
@pytest.mark.parametrize("args", [["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"]])
def test_promtool_accepts_the_files(args: list[str]) -> None:
    result = subprocess.run(["promtool", *args], cwd=PROM, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

"""docker-compose.yml can't run here (no Docker engine); this checks it runs what `make run` runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.ingest.settings import IngestSettings
from services.publisher.adapters.registry import PLATFORM_ADAPTERS
from shared.channels import load_channels
from shared.settings import ROOT
from tests.kafka_broker import kafka_version
from tests.kafka_container import KafkaNodeSpec
from warta.devrun import LocalSystem
from warta.service_table import Layout, common_env

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def env_of(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES[name].get("environment", {}).items()}


def test_the_broker_is_the_pinned_kafka_version() -> None:
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{kafka_version()}"
    env = env_of("kafka")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one combined node
    assert "PLAINTEXT://127.0.0.1:9092" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # topics come from the registry


def test_services_use_the_local_run_settings() -> None:
    local = IngestSettings(_env_file=None)
    for name in ("ingest", "scheduler", "sandbox", "topics"):
        env = env_of(name)
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092", name
        assert SERVICES[name]["network_mode"] == "host", name
        assert Path(env["WARTA_CHANNELS_FILE"]).name == local.channels_file.name, name
    assert env_of("ingest")["WARTA_INGEST_PORT"] == str(local.ingest_port)


def test_topics_are_created_by_the_same_registry() -> None:
    assert SERVICES["topics"]["command"] == ["topics"]


def test_one_publisher_per_configured_platform_with_an_adapter() -> None:
    channels = load_channels(ROOT / "deploy" / "channels.local.yaml")
    publishers = {s["command"][2] for name, s in SERVICES.items() if name.startswith("publisher-")}
    assert publishers <= set(channels.platforms)
    assert {p for p in channels.platforms if p in PLATFORM_ADAPTERS} <= publishers


def test_the_sandbox_serves_the_port_the_channels_point_at() -> None:
    command = SERVICES["sandbox"]["command"]
    port = command[command.index("--port") + 1]
    channels = load_channels(ROOT / "deploy" / "channels.local.yaml")
    for channel in channels.channels:
        assert channel.base_url is not None
        assert channel.base_url.startswith(f"http://127.0.0.1:{port}/"), channel.id


# ---- one table of services and their environment (warta/service_table.py) -----------------

IMAGE_LAYOUT = Layout(
    bootstrap="127.0.0.1:9092",
    channels_file="/app/deploy/channels.local.yaml",
    secrets_file="/app/var/secrets.json",
    keys_file="/app/var/keys.json",
    state_dir="/app/var/state",
    sandbox_accounts_file="/app/var/sandbox-accounts.json",
    credentials_file="/app/var/credentials.vault",
    credentials_key_file="/app/var/credentials.key",
)
LONG_RUNNING = {"sandbox", "ingest", "scheduler", "console"}


def local_run() -> LocalSystem:
    """The system `warta dev` (`make run`) starts, as its main() configures it."""
    return LocalSystem(
        bootstrap="127.0.0.1:9092", console_port=8070, analytics_port=8075, inbox_port=8060, metrics=True
    )


def in_image(value: str, local: LocalSystem) -> str:
    """A path of the local run as the image sees it (the checkout is /app, var/ is mounted there)."""
    return value.replace(str(local.var), "/app/var").replace(str(ROOT), "/app")


def test_every_service_of_the_table_runs_in_compose_with_its_environment() -> None:
    table = local_run().services()
    for service in table:
        assert service.name in SERVICES, service.name
        assert SERVICES[service.name]["command"] == list(in_image(a, local_run()) for a in service.args)
        expected = {**common_env(IMAGE_LAYOUT), **service.env}
        assert env_of(service.name) == expected, service.name
    warta_services = {n for n, s in SERVICES.items() if s.get("image") == "warta:local"}
    assert warta_services - {s.name for s in table} == {"topics", "keys"}


def test_compose_and_warta_dev_agree() -> None:
    local = local_run()
    env = local.env()
    for service in local.services():
        compose = env_of(service.name)
        for key, value in compose.items():
            if key == "WARTA_METRICS_PORT":
                assert value == str(service.metrics_port), service.name
            elif key in service.env:
                assert value == service.env[key], (service.name, key)
            else:
                assert in_image(env[key], local) == value, (service.name, key)
        assert set(common_env(local.layout())) <= set(compose), service.name


def test_every_process_serves_metrics() -> None:
    for service in local_run().services():
        if service.name == "sandbox":
            continue
        if service.name in ("ingest", "console", "analytics", "inbox"):  # /metrics on their own HTTP port
            port_key = f"WARTA_{service.name.upper()}_PORT"
            assert env_of(service.name)[port_key] == str(service.metrics_port)
        else:
            assert env_of(service.name)["WARTA_METRICS_PORT"] == str(service.metrics_port), service.name


def test_sandbox_media_are_allowed_as_in_the_local_run() -> None:
    for service in local_run().services():
        assert env_of(service.name)["WARTA_MEDIA_ALLOW_HOSTS"] == "127.0.0.1:8090", service.name


def test_kafka_keeps_its_data_on_a_named_volume() -> None:
    data = env_of("kafka")["KAFKA_LOG_DIRS"]
    assert f"kafka-data:{data}" in SERVICES["kafka"]["volumes"]
    assert "kafka-data" in COMPOSE["volumes"]


def test_services_start_in_order_and_report_health() -> None:
    for name, service in SERVICES.items():
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            assert how["condition"] in {
                "service_healthy",
                "service_completed_successfully",
                "service_started",
            }
            if how["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], dependency
    for service in local_run().services():
        assert "healthcheck" in SERVICES[service.name], service.name
        if service.needs_secrets:  # written by `keys` before they start
            assert SERVICES[service.name]["depends_on"]["keys"] == {
                "condition": "service_completed_successfully"
            }


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on this machine; `docker compose config` not run")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"the docker CLI has no compose plugin ({probe.stderr.strip()[:200]}); not run")
    done = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_composed_broker_is_configured_as_the_tests_container() -> None:
    """One node, the same settings; only where it listens differs (host network vs a mapped port)."""
    composed = env_of("kafka")
    container = KafkaNodeSpec(SERVICES["kafka"]["image"], 9092).env()
    where = {"KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS", "KAFKA_CONTROLLER_QUORUM_VOTERS"}
    for key, value in container.items():
        if key not in where:
            assert composed[key] == value, key
    assert set(container) - set(composed) == set()

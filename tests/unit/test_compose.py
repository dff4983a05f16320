"""docker-compose.yml can't run here (no Docker engine); this checks it runs what `make run` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from services.ingest.settings import IngestSettings
from services.publisher.adapters.registry import PLATFORM_ADAPTERS
from shared.channels import load_channels
from shared.settings import ROOT
from tests.kafka_broker import kafka_version

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
    local = IngestSettings(_env_file=None)  # type: ignore[call-arg]
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

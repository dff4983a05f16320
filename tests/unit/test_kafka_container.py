"""The Kafka container the tests start where a Docker engine answers, checked without Docker."""

from __future__ import annotations

import ast

from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from tests.kafka_broker import ROOT, kafka_version
from tests.kafka_container import CONTROLLER_PORT, STARTED, KafkaNodeSpec, configure

IMAGE = f"apache/kafka:{kafka_version()}"


def detached_container() -> DockerContainer:
    """testcontainers' real container object, without the Docker client its constructor opens."""
    container = DockerContainer.__new__(DockerContainer)
    container.env = {}
    container.ports = {}
    container._wait_strategy = None
    return container


def test_a_single_kraft_node_of_the_pinned_version() -> None:
    spec = KafkaNodeSpec(IMAGE, 24567)
    env = spec.env()
    assert spec.image == "apache/kafka:" + kafka_version()
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@localhost:{CONTROLLER_PORT}"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # as deploy/kafka/broker.sh


def test_the_broker_advertises_the_address_the_host_reaches_it_at() -> None:
    spec = KafkaNodeSpec(IMAGE, 24567, advertised_host="docker.example")
    env = spec.env()
    assert "PLAINTEXT://0.0.0.0:24567" in env["KAFKA_LISTENERS"].split(",")
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://docker.example:24567"
    assert spec.bootstrap == "docker.example:24567"
    # The port the broker listens on inside is bound to the same number outside.
    assert spec.port_bindings() == {"24567/tcp": 24567}
    listeners = dict(entry.split("://") for entry in env["KAFKA_LISTENERS"].split(","))
    assert set(listeners) == {"PLAINTEXT", "CONTROLLER"}
    protocol_map = dict(entry.split(":") for entry in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocol_map) == set(listeners)


def test_the_container_is_configured_with_the_spec() -> None:
    spec = KafkaNodeSpec(IMAGE, 24567)
    container = configure(detached_container(), spec)
    assert container.env == spec.env()
    assert container.ports == {"24567/tcp": 24567}
    assert isinstance(container._wait_strategy, LogMessageWaitStrategy)
    assert container._wait_strategy._message.pattern == STARTED


def test_testcontainers_kafka_module_is_not_used() -> None:
    """Importing it warns (an error here) and its KRaft mode expects Confluent's image."""
    for name in ("kafka_broker.py", "kafka_container.py"):
        tree = ast.parse((ROOT / "tests" / name).read_text())
        modules = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert "testcontainers.kafka" not in modules, name

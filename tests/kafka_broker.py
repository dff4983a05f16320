"""Finds a real Kafka broker for the test session.

1. ``KAFKA_BOOTSTRAP_SERVERS`` when set (a broker someone already runs);
2. apache/kafka (the version deploy/kafka pins) in KRaft mode through testcontainers' generic
   container when a Docker engine answers (tests/kafka_container.py);
3. otherwise the project's own broker (deploy/kafka/broker.sh) on port 19092 with its data under
   var/test-kafka, started once per session and stopped at the end.

A test that stops and starts a broker (an outage) runs one of its own instead: ``own_broker``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from warta.devrun import free_listen_port

ROOT = Path(__file__).resolve().parent.parent
BROKER = ROOT / "deploy" / "kafka" / "broker.sh"
TEST_PORT = int(os.environ.get("WARTA_TEST_KAFKA_PORT", "19092"))


def kafka_version() -> str:
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    match = re.search(r"<kafka.version>(.+?)</kafka.version>", pom)
    assert match, "deploy/kafka/pom.xml must pin kafka.version"
    return match.group(1)


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def kafka_broker() -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    if _docker_answers():
        from tests.kafka_container import kafka_container
        from warta.devrun import free_listen_port

        container, spec = kafka_container(f"apache/kafka:{kafka_version()}", free_listen_port())
        with container:
            yield spec.bootstrap
        return
    # A test session creates thousands of short-lived topics: give the broker room for them.
    env = dict(
        os.environ,
        KAFKA_PORT=str(TEST_PORT),
        WARTA_VAR=str(ROOT / "var" / "test-kafka"),
        KAFKA_HEAP=os.environ.get("KAFKA_HEAP", "2g"),
    )
    # A fresh broker each session: old test topics would only slow it down.
    shutil.rmtree(ROOT / "var" / "test-kafka" / f"kafka-{TEST_PORT}", ignore_errors=True)
    subprocess.run([str(BROKER), "stop"], env=env, check=False, capture_output=True)
    subprocess.run([str(BROKER), "start"], env=env, check=True)
    try:
        yield f"127.0.0.1:{TEST_PORT}"
    finally:
        subprocess.run([str(BROKER), "stop"], env=env, check=False)


@dataclass(frozen=True)
class OwnBroker:
    """A broker one test stops and starts (deploy/kafka/broker.sh with ``env``)."""

    bootstrap: str
    env: dict[str, str]

    def run(self, command: str, *, check: bool = True) -> None:
        """``start`` or ``stop`` it; start waits until the broker answers (broker.sh)."""
        subprocess.run([str(BROKER), command], env=self.env, check=check, capture_output=True, timeout=180)


@contextmanager
def own_broker(name: str, heap: str | None = None) -> Iterator[OwnBroker]:
    """A fresh broker of the test's own on free ports (another checkout on the machine may be
    running the same test), data under var/``name``-<random>; never the session's: the test may
    stop it. Stopped and its data removed at the end."""
    if shutil.which("java") is None:
        pytest.skip("an outage test runs a broker of its own and needs a Java runtime")
    port = free_listen_port(span=2)  # the broker's listener and its controller's
    var = ROOT / "var" / f"{name}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, KAFKA_PORT=str(port), WARTA_VAR=str(var))
    if heap is not None:
        env["KAFKA_HEAP"] = heap
    broker = OwnBroker(f"127.0.0.1:{port}", env)
    broker.run("start")
    try:
        yield broker
    finally:
        # Not raising here: a failed stop must not hide the test's own failure or keep the data.
        broker.run("stop", check=False)
        shutil.rmtree(var, ignore_errors=True)

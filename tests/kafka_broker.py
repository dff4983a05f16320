"""Finds a real Kafka broker for the test session.

1. ``KAFKA_BOOTSTRAP_SERVERS`` when set (a broker someone already runs);
2. apache/kafka (the version deploy/kafka pins) in KRaft mode through testcontainers' generic
   container when a Docker engine answers (tests/kafka_container.py);
3. otherwise the project's own broker (deploy/kafka/broker.sh) on port 19092 with its data under
   var/test-kafka, started once per session and stopped at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

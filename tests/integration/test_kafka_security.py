"""Warta against a broker that only speaks SASL_SSL (TLS + SCRAM-SHA-512), as production runs it.

The test makes its own CA and broker certificate with openssl, starts the project's broker
(deploy/kafka/broker.sh with its SASL_SSL settings) on free ports with its own data, and creates
the SCRAM user when the storage is formatted. Then: a Warta producer and consumer with the right
settings round-trip an event; a wrong password, a client that does not trust the CA and a
clear-text client are each refused with a reason that says so; the password is in no log line.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.codec import decode
from shared.events import ContentApproved, ControlAction, ControlIssued
from shared.ids import new_event_id
from shared.kafka import KafkaUnavailable, ensure_topics, make_producer, replay, send_event
from shared.kafka_connection import KafkaConnection, KafkaMisconfigured, client_args, start_client
from shared.topics import TopicRegistry
from tests.integration.ingest_app import content_body, running_ingest
from tests.kafka_broker import BROKER
from tests.loopback_ports import free_port_run

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (shutil.which("openssl") and shutil.which("java")), reason="needs openssl and java"
    ),
]

USER, PASSWORD = "warta-ingest", "scram-test-password-8f3a"
BROKER_PASSWORD = "broker-test-password-51c0"


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    ca: Path

    def connection(self, password: str = PASSWORD, *, trusted: bool = True) -> KafkaConnection:
        return KafkaConnection(
            self.bootstrap,
            "SASL_SSL",
            ssl_cafile=str(self.ca) if trusted else None,
            sasl_username=USER,
            sasl_password=password,
        )


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> tuple[Path, Path]:
    """A throw-away CA and a broker certificate for 127.0.0.1; returns (key store, CA)."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Warta test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", "ca.key", "-out", "ca.pem", cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "broker.key", "-out", "broker.csr", cwd=folder,
    )  # fmt: skip
    (folder / "broker.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "broker.ext", "-out", "broker.pem", cwd=folder,
    )  # fmt: skip
    # Kafka's PEM key store: the unencrypted PKCS#8 key, then the certificate chain.
    keystore = folder / "keystore.pem"
    keystore.write_text("".join((folder / f).read_text() for f in ("broker.key", "broker.pem", "ca.pem")))
    return keystore, folder / "ca.pem"


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    folder = tmp_path_factory.mktemp("secure-kafka")
    keystore, ca = make_certificates(folder)
    users = folder / "scram-users"
    users.write_text(f"{USER}={PASSWORD}\n")
    port = free_port_run(2)
    env = dict(
        os.environ,
        KAFKA_PORT=str(port),
        KAFKA_CONTROLLER_PORT=str(port + 1),
        WARTA_VAR=str(folder / "var"),
        KAFKA_HEAP="512m",
        KAFKA_SSL_KEYSTORE=str(keystore),
        KAFKA_SSL_TRUSTSTORE=str(ca),
        KAFKA_BROKER_USER="broker",
        KAFKA_BROKER_PASSWORD=BROKER_PASSWORD,
        KAFKA_SCRAM_USERS_FILE=str(users),
    )
    subprocess.run([str(BROKER), "start"], env=env, check=True)
    try:
        yield SecureBroker(f"127.0.0.1:{port}", ca)
    finally:
        subprocess.run([str(BROKER), "stop"], env=env, check=False)


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    leaked = [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()]
    assert leaked == []


async def test_a_warta_producer_and_consumer_round_trip_an_event(
    secure_broker: SecureBroker, run_id: str
) -> None:
    conn = secure_broker.connection()
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=1)
    assert topics.content_control in await ensure_topics(conn, topics.specs())
    event = ControlIssued(
        event_id=new_event_id(),
        occurred_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        action=ControlAction.PAUSE,
        by="operator-1",
        reason="drill over TLS",
    )
    producer = make_producer(conn, "test-secure")
    await start_client(producer, conn, 30.0)
    try:
        await send_event(producer, topics.content_control, "*", event)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topics.content_control, **client_args(conn), group_id=f"g{run_id}", auto_offset_reset="earliest"
    )
    await start_client(consumer, conn, 30.0)
    try:
        batch = await consumer.getmany(timeout_ms=20_000)
    finally:
        await consumer.stop()
    assert [decode(r.value) for records in batch.values() for r in records] == [event]


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("wrong password", "SASL authentication failed"),
        ("untrusted CA", "TLS certificate is not trusted"),
        ("clear text", "the listener speaks TLS and this client connects in clear"),
    ],
)
async def test_a_client_the_broker_refuses_gets_the_reason(
    secure_broker: SecureBroker, run_id: str, how: str, reason: str
) -> None:
    right = secure_broker.connection()
    conn = {
        "wrong password": secure_broker.connection("wrong-" + PASSWORD),
        "untrusted CA": secure_broker.connection(trusted=False),
        "clear text": replace(
            right, security_protocol="PLAINTEXT", ssl_cafile=None, sasl_username=None, sasl_password=None
        ),
    }[how]
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=1)
    # The first thing every service does; a refusal stops it at once instead of retrying.
    with pytest.raises(KafkaMisconfigured, match=reason) as caught:
        await ensure_topics(conn, topics.specs(), patience=5.0)
    assert PASSWORD not in str(caught.value)
    producer = make_producer(conn, "test-refused")
    with pytest.raises(KafkaMisconfigured, match=reason):
        await start_client(producer, conn, 30.0)
    await producer.stop()
    # Nothing was created by the refused client.
    created = await ensure_topics(right, topics.specs()[:1])
    assert created == [topics.specs()[0].name]


async def test_ingest_accepts_an_item_over_sasl_ssl_and_its_status_view_follows(
    secure_broker: SecureBroker, run_id: str, tmp_path: Path
) -> None:
    # The whole service, from its settings: topic creation, the writer's producer, the status
    # view's feeder (running_ingest waits until it has caught up) and readiness's admin client
    # all go through the secured listener.
    topics = TopicRegistry(prefix=f"t{run_id}.", partitions=1)
    secured: dict[str, Any] = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_ssl_cafile": secure_broker.ca,
        "kafka_sasl_username": USER,
        "kafka_sasl_password": PASSWORD,
    }
    async with running_ingest(secure_broker.bootstrap, topics, tmp_path, **secured) as ingest:
        accepted = await ingest.call("POST", "/v1/content", content_body())
        assert accepted.status == 202, accepted
        content_id = accepted.body["content_id"]
        assert (await ingest.call("GET", "/readyz", role=None)).status == 200
        assert (await ingest.call("GET", f"/v1/content/{content_id}")).status == 200
    tps = [TopicPartition(topics.content_approved, 0)]
    approved = [decode(r.value) async for r in replay(secure_broker.connection(), tps)]
    assert [e.content_id for e in approved if isinstance(e, ContentApproved)] == [content_id]


async def test_a_broker_that_is_down_is_an_outage_not_a_refusal() -> None:
    # Waiting cures an outage, so ensure_topics must keep retrying it (KafkaUnavailable at the
    # end of its patience), unlike a refusal.
    nobody = f"127.0.0.1:{free_port_run(1)}"
    with pytest.raises(KafkaUnavailable):
        await ensure_topics(nobody, TopicRegistry(prefix="t-down.").specs()[:1], timeout=2.0, patience=3.0)

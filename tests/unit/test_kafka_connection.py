"""How Warta reaches Kafka: the settings become one ``KafkaConnection``, every aiokafka client is
built from ``client_args``, topics carry the deployment's replication, and no secret shows in a
repr or an error. The broker's side is tests/integration/test_kafka_security.py."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.kafka_connection import KafkaConnection, KafkaMisconfigured, client_args
from shared.settings import ROOT, CommonSettings
from shared.topics import TopicRegistry

PASSWORD = "correct-horse-battery-staple"
AIOKAFKA_CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}


def secured(**overrides: object) -> CommonSettings:
    values: dict[str, object] = {
        "kafka_bootstrap": "b1:9093",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "warta-ingest",
        "kafka_sasl_password": PASSWORD,
    }
    return CommonSettings.model_validate(values | overrides)


def test_a_plain_bootstrap_string_is_a_plaintext_connection() -> None:
    assert client_args("127.0.0.1:9092") == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_settings_give_scram_credentials_and_a_verifying_tls_context() -> None:
    args = client_args(secured(kafka_bootstrap="b1:9093,b2:9093").kafka)
    context = args.pop("ssl_context")
    assert args == {
        "bootstrap_servers": "b1:9093,b2:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "warta-ingest",
        "sasl_plain_password": PASSWORD,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARTA_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("WARTA_KAFKA_SASL_USERNAME", "warta-scheduler")
    monkeypatch.setenv("WARTA_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("WARTA_KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("WARTA_KAFKA_MIN_INSYNC_REPLICAS", "2")
    settings = CommonSettings()
    assert settings.kafka.sasl_username == "warta-scheduler"
    assert {(s.replication, s.configs["min.insync.replicas"]) for s in settings.topics.specs()} == {(3, "2")}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kafka_sasl_password": None}, "needs a SASL user name and password"),
        ({"kafka_security_protocol": "PLAINTEXT"}, "would not send it"),
        ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_ssl_cafile": "/ca.pem"}, "does not use TLS"),
        ({"kafka_ssl_certfile": "/client.pem"}, "both its certificate and its key"),
        ({"kafka_replication_factor": 1, "kafka_min_insync_replicas": 2}, "min.insync.replicas"),
        ({"kafka_replication_factor": 0}, "greater than or equal to 1"),
    ],
)
def test_settings_that_cannot_work_stop_the_service_at_start(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        secured(**overrides)
    assert PASSWORD not in str(caught.value)


def test_an_unreadable_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing-ca.pem"
    with pytest.raises(KafkaMisconfigured, match="cannot load the Kafka TLS files"):
        client_args(KafkaConnection("b1:9093", "SSL", ssl_cafile=str(missing)))
    with pytest.raises(ValidationError, match="cannot load the Kafka TLS files"):
        secured(kafka_ssl_cafile=missing)


def test_the_password_shows_in_no_repr_and_no_description() -> None:
    settings = secured()
    shown = [repr(settings), str(settings), repr(settings.kafka), settings.kafka.description]
    assert not [text for text in shown if PASSWORD in text]
    assert settings.kafka.description == "b1:9093 over SASL_SSL as warta-ingest (SCRAM-SHA-512)"


def test_topics_carry_the_replication_of_the_deployment() -> None:
    local = TopicRegistry().specs()
    cluster = TopicRegistry(replication_factor=3, min_insync_replicas=2).specs()
    assert {(s.replication, s.configs["min.insync.replicas"]) for s in local} == {(1, "1")}
    assert {(s.replication, s.configs["min.insync.replicas"]) for s in cluster} == {(3, "2")}
    # The topics' own configs stay as declared.
    assert [s.configs["cleanup.policy"] for s in cluster] == [s.configs["cleanup.policy"] for s in local]


def test_min_insync_replicas_above_the_replication_factor_is_refused() -> None:
    with pytest.raises(ValueError, match="no write could ever be acknowledged"):
        TopicRegistry(replication_factor=2, min_insync_replicas=3)


def _clients_built_without_client_args(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        if name not in AIOKAFKA_CLIENTS:
            continue
        spread = [k.value for k in node.keywords if k.arg is None]
        from_client_args = any(
            isinstance(v, ast.Call) and getattr(v.func, "id", None) == "client_args" for v in spread
        )
        if not from_client_args or any(k.arg == "bootstrap_servers" for k in node.keywords):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_kafka_client_of_the_services_is_built_from_client_args() -> None:
    # One forgotten client would reach a secured cluster in clear (and be refused) or, worse,
    # keep a clear-text listener needed.
    sources = (
        sorted((ROOT / "services").rglob("*.py"))
        + sorted((ROOT / "shared").rglob("*.py"))
        + sorted((ROOT / "warta").rglob("*.py"))
    )
    assert [bad for path in sources for bad in _clients_built_without_client_args(path)] == []

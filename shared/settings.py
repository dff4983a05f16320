"""Settings common to every service, read once from the environment (prefix ``WARTA_``).

Each service has one settings class deriving from ``CommonSettings``; it is built in the entry
point and passed down, never read at import time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import horizon
from shared.channels import ChannelDirectory, load_channels
from shared.kafka_connection import KafkaConnection, SaslMechanism, SecurityProtocol, client_args
from shared.logs import LogFormat
from shared.runtime import EventLoop
from shared.topics import TopicRegistry

# Allocations between two young-generation collections: from CPython's own 700 up; 0 or less
# would turn the cyclic collector off, and cyclic garbage would then never be freed.
GcYoungThreshold = Annotated[int, Field(ge=700, le=1_000_000)]

ROOT = Path(__file__).resolve().parent.parent
# The public calendar (holidays, cuti bersama, Ramadan, school holidays): the scheduler's regimes and
# the inbox's working days. Inside the package, so the wheel carries it.
CALENDAR_FILE = Path(__file__).resolve().parent / "calendar.yaml"


class CommonSettings(BaseSettings):
    # Errors show no input: the input holds secrets (the Kafka password), and a start-up error
    # ends up in logs.
    model_config = SettingsConfigDict(env_prefix="WARTA_", extra="ignore", hide_input_in_errors=True)

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap")
    )
    # How clients reach the brokers (README.md, "Kafka in production"); PLAINTEXT is for the
    # broker on loopback only.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # Copies of every Warta topic, and how many must have a write before acks=all answers:
    # 3 and 2 on a cluster (one broker may fail without losing or refusing writes), 1 and 1 on
    # the local broker.
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    topic_prefix: str = ""
    group_prefix: str = "warta"
    partitions: int = 6
    channels_file: Path = ROOT / "deploy" / "channels.local.yaml"
    log_level: str = "INFO"
    # JSON lines (shared/logs.py) for log stores; "text" for a person at a terminal.
    log_format: LogFormat = "json"
    # One structured line per HTTP request on ingest, the console and the inbox (shared/access_log.py).
    access_log: bool = True
    # Where spans go (OTLP over HTTP, e.g. http://collector:4318/v1/traces); unset: no tracing.
    otlp_endpoint: str | None = None
    # A service loop without progress for this long exits so its supervisor restarts it.
    stall_limit_s: float = 120.0
    # Allocations between two young-generation collections (CPython's default is 700). Each
    # collection walks every young object still alive, and under load that is every request in
    # flight; a request allocates hundreds of objects, so at 700 ingest collected every two or
    # three requests and promoted in-flight requests to the old generation, whose full
    # collections then walk the whole status view. 10,000 cut ingest's CPU per request from
    # 433 to 201 µs at 64 requests in flight (docs/ingest.md); short-lived objects are freed by
    # reference counting anyway, so memory barely grows.
    gc_young_threshold: GcYoungThreshold = 10_000
    # The asyncio event loop the process runs on (shared/runtime.py, ``use_event_loop``):
    # "asyncio", the standard library's, or "uvloop", which runs the same coroutines with less
    # CPU per callback, task step and socket read. A service whose figures gained from uvloop
    # makes it its default (the analytics worker); the others measured no difference
    # (docs/analytics.md, "The event loop") and keep the standard library's.
    event_loop: EventLoop = "asyncio"
    # This replica's stable name within its service (e.g. a StatefulSet ordinal; `warta dev` uses
    # the process name). It names the Kafka transactional producers, so a restarted replica fences
    # its predecessor and aborts what it left open at once; empty = a random name per process
    # (shared/kafka_txn.py says what that costs).
    instance_id: str = ""
    # Mixed into every API key's stored hash (shared/http_auth.py) by the services that check
    # keys (ingest, console): a leaked key store alone then cannot even confirm a guessed key.
    # Kept out of the store file, in the environment (WARTA_KEY_PEPPER); changing it voids
    # every stored key.
    key_pepper: SecretStr = SecretStr("")
    # How far from now an item's not_before and deadline may lie (shared/horizon.py): ingest
    # refuses later dates, the scheduler parks a job past it as unschedulable. One setting for
    # both, so what ingest accepts the scheduler plans.
    schedule_horizon_days: int = Field(default=horizon.DEFAULT_DAYS, ge=1, le=horizon.MAX_DAYS)

    # How long a finished job (published and measured, failed, dead, withdrawn, superseded) stays
    # in the scheduler's compacted plan before its tombstone is written; the publishers keep
    # their ledger entries longer (services/publisher/ledger_retention.py says by how much and
    # why). One setting for both, so the ledger always outlives the plan. docs/operations.md.
    finished_retention_s: float = Field(default=7 * 86400.0, gt=0)

    @property
    def schedule_horizon(self) -> timedelta:
        return horizon.schedule_horizon(self.schedule_horizon_days)

    @property
    def finished_retention(self) -> timedelta:
        return timedelta(seconds=self.finished_retention_s)

    def api_key_pepper(self) -> bytes:
        return self.key_pepper.get_secret_value().encode("utf-8")

    @model_validator(mode="after")
    def _kafka_settings_work(self) -> CommonSettings:
        # Built once here so contradictory settings, or TLS files that cannot be read, stop the
        # service at start with the reason.
        _ = client_args(self.kafka), self.topics
        return self

    @property
    def kafka(self) -> KafkaConnection:
        password = self.kafka_sasl_password
        return KafkaConnection(
            bootstrap=self.kafka_bootstrap,
            security_protocol=self.kafka_security_protocol,
            ssl_cafile=str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None,
            ssl_certfile=str(self.kafka_ssl_certfile) if self.kafka_ssl_certfile else None,
            ssl_keyfile=str(self.kafka_ssl_keyfile) if self.kafka_ssl_keyfile else None,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=password.get_secret_value() if password else None,
        )

    @property
    def topics(self) -> TopicRegistry:
        return TopicRegistry(
            prefix=self.topic_prefix,
            partitions=self.partitions,
            replication_factor=self.kafka_replication_factor,
            min_insync_replicas=self.kafka_min_insync_replicas,
        )

    def group(self, role: str) -> str:
        return f"{self.group_prefix}-{role}"

    def load_channels(self) -> ChannelDirectory:
        return load_channels(self.channels_file)

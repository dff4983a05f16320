"""Settings common to every service, read once from the environment (prefix ``WARTA_``).

Each service has one settings class deriving from ``CommonSettings``; it is built in the entry
point and passed down, never read at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.channels import ChannelDirectory, load_channels
from shared.topics import TopicRegistry

ROOT = Path(__file__).resolve().parent.parent


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARTA_", extra="ignore")

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap")
    )
    topic_prefix: str = ""
    group_prefix: str = "warta"
    partitions: int = 6
    channels_file: Path = ROOT / "deploy" / "channels.local.yaml"
    log_level: str = "INFO"
    # A service loop without progress for this long exits so its supervisor restarts it.
    stall_limit_s: float = 120.0
    # Allocations between two young-generation collections (CPython's default is 700). Each
    # collection walks every young object still alive, and under load that is every request in
    # flight; a request allocates hundreds of objects, so at 700 ingest collected every two or
    # three requests and promoted in-flight requests to the old generation, whose full
    # collections then walk the whole status view. 10,000 cut ingest's CPU per request from
    # 433 to 201 µs at 64 requests in flight (docs/ingest.md); short-lived objects are freed by
    # reference counting anyway, so memory barely grows.
    gc_young_threshold: int = 10_000
    # Mixed into every API key's stored hash (services/ingest/auth.py) by the services that check
    # keys (ingest, console): a leaked key store alone then cannot even confirm a guessed key.
    # Kept out of the store file, in the environment (WARTA_KEY_PEPPER); changing it voids
    # every stored key.
    key_pepper: SecretStr = SecretStr("")

    def api_key_pepper(self) -> bytes:
        return self.key_pepper.get_secret_value().encode("utf-8")

    @property
    def topics(self) -> TopicRegistry:
        return TopicRegistry(prefix=self.topic_prefix, partitions=self.partitions)

    def group(self, role: str) -> str:
        return f"{self.group_prefix}-{role}"

    def load_channels(self) -> ChannelDirectory:
        return load_channels(self.channels_file)

"""The analytics service's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from shared.settings import ROOT, CommonSettings


class AnalyticsSettings(CommonSettings):
    # The press office's read API (/v1/reach, /v1/items/{id}), /readyz and /metrics, on faust's
    # own web server. Loopback by default: the API has no keys of its own yet.
    analytics_host: str = "127.0.0.1"
    analytics_port: int = Field(default=8075, ge=0, le=65535)
    # Days and weeks of the topic and tag figures, which span channels (each channel's own
    # figures use the channel's timezone).
    report_timezone: str = "Asia/Jakarta"
    # faust's table store. memory:// rebuilds the tables from their changelog at every start;
    # rocksdb:// would keep them on disk but needs the native faust-streaming-rocksdb build.
    analytics_store: str = "memory://"
    # faust's own files (its table stores, when on disk) live under here, not in the working directory.
    state_dir: Path = ROOT / "var" / "state"
    # How long the group waits for a member that stopped answering before it hands its
    # partitions on. faust's default is 60 s: a worker killed outright and restarted would sit
    # that long before it could restore its tables.
    analytics_session_timeout_s: float = Field(default=10.0, ge=6.0, le=300.0)
    # Changelog writes wait this long to be batched (faust's default sends each one alone).
    analytics_producer_linger_s: float = Field(default=0.005, ge=0.0, le=1.0)

    @field_validator("report_timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @property
    def app_id(self) -> str:
        """faust's app id: its consumer group, and the prefix of its changelog topics."""
        return f"{self.topic_prefix}{self.group('analytics')}"

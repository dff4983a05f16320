"""The analytics service's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.runtime import EventLoop
from shared.settings import ROOT, CommonSettings, GcYoungThreshold


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
    # The fold takes up to this many records of one fetch at once: each key a batch changes is
    # one changelog write, however many of its records touched it.
    analytics_batch_max: int = Field(default=1000, ge=1, le=20_000)
    # No batch for this long after a short one means the fold has caught up, and it commits then
    # rather than at faust's next interval (``CaughtUpCommit``). Shorter than faust's 2.8 s
    # interval, longer than the gap between a burst's fetches.
    analytics_caught_up_quiet_s: float = Field(default=0.4, gt=0.0, le=20.0)
    # The former name of the quiet period, still read: it was the fold's wait for records, and
    # the quiet period was two of those waits, so its value counts twice. The new name wins.
    former_batch_within_s: float | None = Field(
        default=None,
        gt=0.0,
        le=10.0,
        validation_alias="WARTA_ANALYTICS_BATCH_WITHIN_S",
        exclude=True,
    )
    # Copies of the other workers' tables each worker keeps by reading their changelog
    # partitions (faust's default is 1). With two workers that reading took 15-38 % of their
    # CPU during a burst (docs/analytics.md); without it, a worker that takes over a dead one's
    # partitions rebuilds them from the changelog, as every worker does at start with the
    # in-memory store. faust's own TABLE_STANDBY_REPLICAS, when set, wins over this.
    analytics_standby_replicas: int = Field(default=0, ge=0, le=5)
    # Allocations between two young-generation collections (``CommonSettings`` says what they
    # cost). A burst grows the table by hundreds of thousands of objects: at CPython's 700 the
    # collector passed over the whole heap eight times during a 100,000-event burst, ~14 % of the
    # worker's CPU (docs/analytics.md, "faust's monitor and Python's cyclic collector"); the
    # table's values hold no cycles, and cyclic garbage is still collected, only less often.
    gc_young_threshold: GcYoungThreshold = 50_000
    # faust's consumer starts several tasks per record: on uvloop the worker folded 0.3-31 %
    # more events per CPU second than on asyncio's loop (docs/analytics.md, "The event loop").
    # uvloop is not built for Windows, where the worker keeps asyncio's loop.
    event_loop: EventLoop = Field(default_factory=lambda: "uvloop" if find_spec("uvloop") else "asyncio")

    # The weekly report, delivered every Monday from this hour (report_timezone) for the week
    # before, by each method configured below (services/analytics/delivery.py).
    report_delivery_hour: int = Field(default=7, ge=0, le=23)
    report_delivery_lang: Literal["en", "id"] = "id"
    report_delivery_check_s: float = Field(default=60.0, gt=0)
    # The lifecycle webhook: a Standard Webhooks-signed POST of the report document.
    report_webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    report_webhook_secret: SecretStr | None = None
    # E-mail over SMTP: the HTML report as the body, the CSV attached.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str | None = None
    # The password from the environment, or the token of this entry of the credential store
    # (the vault or the secrets file, as the publisher reads them).
    smtp_password: SecretStr | None = None
    smtp_password_secret: str | None = None
    report_mail_from: str | None = None
    report_mail_to: tuple[str, ...] = ()
    secrets_file: Path = ROOT / "var" / "secrets.json"
    credentials_file: Path = ROOT / "var" / "credentials.vault"
    credentials_key: SecretStr | None = None
    credentials_key_file: Path | None = None

    @model_validator(mode="after")
    def _former_quiet_period(self) -> Self:
        if (
            self.former_batch_within_s is not None
            and "analytics_caught_up_quiet_s" not in self.model_fields_set
        ):
            self.analytics_caught_up_quiet_s = 2 * self.former_batch_within_s
        return self

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

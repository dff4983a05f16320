"""The console's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from shared.settings import ROOT, CommonSettings


class ConsoleSettings(CommonSettings):
    console_host: str = "127.0.0.1"
    console_port: int = 8070
    keys_file: Path = ROOT / "var" / "keys.json"
    # Where pause/resume are forwarded: ingest owns content.control's validation and authorization.
    ingest_url: str = "http://127.0.0.1:8080"
    # How often end offsets and committed offsets are read from the broker for metrics and charts.
    probe_interval_s: float = 2.0
    # Samples kept for the dashboard's charts (at the default interval, ten minutes).
    history_samples: int = 300
    # How long the view keeps jobs that can no longer change (published, withdrawn, superseded)
    # and jobs that failed or died (retry stays possible until then); the topics keep everything.
    finished_retention_hours: float = Field(default=7 * 24, gt=0)
    attention_retention_hours: float = Field(default=30 * 24, gt=0)
    webhooks_file: Path | None = None
    # A new subscriber starts at the end of the topics (not years of audit history); tests that
    # produce before the dispatcher joins use "earliest".
    webhooks_offset_reset: Literal["earliest", "latest"] = "latest"
    webhook_max_attempts: int = 6
    webhook_backoff_base_s: float = 1.0
    webhook_backoff_cap_s: float = 60.0
    webhook_timeout_s: float = 10.0
    webhook_log_size: int = 1000
    # Connecting accounts (services/console/connect.py): the publishers' vault and its key, the
    # apps Warta is registered as ({"x": {"client_id", "client_secret"}, …}, kept 0600), and the
    # console's address as browsers reach it (behind a proxy): the redirect URI registered with
    # each platform is <console_public_url>/v1/connect/callback.
    secrets_file: Path = ROOT / "var" / "secrets.json"
    credentials_file: Path = ROOT / "var" / "credentials.vault"
    credentials_key: SecretStr | None = None
    credentials_key_file: Path | None = None
    oauth_apps_file: Path | None = None
    console_public_url: str | None = None

"""The publisher's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import SecretStr, field_validator
from pydantic_settings import NoDecode

from services.publisher.decide import RetryPolicy
from shared.settings import ROOT, CommonSettings


class PublisherSettings(CommonSettings):
    platform: str = "mastodon"
    # The old clear-text secrets file: imported into the vault once, then shredded.
    secrets_file: Path = ROOT / "var" / "secrets.json"
    # The encrypted credentials and their key (shared/credentials/keys.py). Without
    # a key the publisher reads ``secrets_file`` in clear and says so at start.
    credentials_file: Path = ROOT / "var" / "credentials.vault"
    credentials_key: SecretStr | None = None
    credentials_key_file: Path | None = None
    # The apps Warta is registered as (``{"facebook": {"client_id", "client_secret"}}``, 0600),
    # as the console reads it: ``channels check`` inspects Page tokens with the app's token.
    oauth_apps_file: Path | None = None
    refresh_interval_s: float = 1.0
    max_attempts: int = 6
    retry_base_s: float = 30.0
    retry_cap_s: float = 3600.0
    call_timeout_s: float = 30.0
    # Wait in-process for a rate-limit token up to this long; longer waits go back to the scheduler.
    max_local_wait_s: float = 2.0
    # How long a post waits for the operators' commands (content.control) to be read up to the
    # topic's end before its call; past it the post goes back to the scheduler unsent
    # (services/publisher/control_follower.py).
    control_wait_s: float = 30.0
    # How often the attempt ledger forgets final entries past their retention
    # (services/publisher/ledger_retention.py; derived from finished_retention_s).
    retention_sweep_s: float = 60.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # 0 = no metrics endpoint; `warta dev` uses 9110 + the platform's index
    # ``host:port`` authorities whose media may be fetched over plain http from any address: the
    # local sandbox and tests only (``WARTA_MEDIA_ALLOW_HOSTS=127.0.0.1:8090``). Empty, that is
    # https from public addresses only, unless set. See services/publisher/safe_fetch.py.
    media_allow_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    media_timeout_s: float = 30.0  # per connect and per read of a media fetch, not in total
    # Largest media file fetched (each platform's own limit applies below it) and how much of one
    # is held in memory before the rest goes to a spool file under state_dir (publisher/spool.py).
    media_max_bytes: int = 2 * 1024**3
    media_spill_bytes: int = 16 * 1024**2
    # Budget of one publish call on platforms that upload video in resumable chunks (YouTube,
    # TikTok): each HTTP request still has call_timeout_s, but a gigabyte takes many of them.
    upload_timeout_s: float = 1800.0
    # Where adapters keep what must survive a crash: resumable-upload sessions (YouTube, TikTok)
    # and WhatsApp's per-recipient sends (services/publisher/adapters/upload_state.py).
    state_dir: Path = ROOT / "var" / "state"

    @field_validator("media_allow_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base=timedelta(seconds=self.retry_base_s),
            cap=timedelta(seconds=self.retry_cap_s),
        )

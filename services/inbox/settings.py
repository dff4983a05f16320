"""The inbox service's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from shared.settings import CALENDAR_FILE, ROOT, CommonSettings


class InboxSettings(CommonSettings):
    inbox_host: str = "127.0.0.1"
    inbox_port: int = 8060
    keys_file: Path = ROOT / "var" / "keys.json"
    secrets_file: Path = ROOT / "var" / "secrets.json"
    # The publishers' encrypted vault and its key (shared/credentials): the inbox
    # reads the channels' tokens from it; without a key, ``secrets_file`` in clear.
    credentials_file: Path = ROOT / "var" / "credentials.vault"
    credentials_key: SecretStr | None = None
    credentials_key_file: Path | None = None
    # Meta's app secret signs every webhook delivery (X-Hub-Signature-256); the verify token is
    # what the app's webhook subscription was configured with. Without a secret, deliveries are
    # refused: nothing unsigned is believed.
    meta_app_secret: SecretStr = SecretStr("")
    meta_verify_token: SecretStr = SecretStr("")
    # How long a write waits for the broker's acknowledgement before it is answered 503 with
    # Retry-After (services/inbox/broker_refusal.py), and the inbox's producer's request timeout,
    # so an unacknowledged record fails rather than landing later. Meta waits at most 20 s for a
    # webhook's answer ("A webhook call will timeout after 20 seconds", Messenger Platform FAQ,
    # developers.facebook.com/docs/messenger-platform/faq) and its webhooks guide asks for the
    # 200 within 5 s; a refusal well inside both is a delivery Meta simply sends again, not a
    # timed-out call it counts against the subscription. A healthy broker acknowledges in
    # milliseconds. The inbox's own loops give up after the same time (the polling stops for its
    # supervisor to restart it, as it did after the producer's 15 s before): raise it where the
    # broker's failovers pause writes longer.
    ack_deadline_s: float = Field(default=4.0, gt=0, le=15.0)
    # The largest delivery read: Meta batches up to 1,000 changes; comments are short.
    webhook_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # A young post is polled this often (older ones less: services/inbox/schedule.py).
    poll_interval_s: float = Field(default=60.0, gt=0)
    poll_tick_s: float = Field(default=1.0, gt=0)
    watch_days: float = Field(default=7.0, gt=0)
    # How long a comment may wait for its first answer before it counts as waiting too long
    # (the list's ``waiting_over_target``, the metric of the same name); a channel may set its
    # own with the option ``answer_target_minutes``.
    answer_target_s: float = Field(default=7200.0, gt=0)
    # A post spikes with at least this many comments in 15 minutes, and a count its channel's usual
    # rate would reach with a probability below spike_alpha (services/inbox/spikes.py).
    spike_min_count: int = Field(default=10, ge=2)
    spike_alpha: float = Field(default=1e-5, gt=0, lt=0.5)
    # A new inbox reads publish.outcomes from the start to learn every post Warta published.
    outcomes_offset_reset: Literal["earliest", "latest"] = "earliest"
    # Working time (services/inbox/working_time.py): complaint deadlines and, where a channel
    # asks for it, answer targets count office hours on working days in the channel's zone; the
    # days off are the calendar's national holidays and cuti bersama.
    # The same file the scheduler reads, shipped in the wheel (a path under the checkout would not
    # exist where the wheel is installed).
    calendar_path: Path = CALENDAR_FILE
    working_hours_start: time = time(8, 0)
    working_hours_end: time = time(16, 0)
    # SP4N-LAPOR!'s integration API: its address and token come with the agency's registration
    # (empty: forwarding a complaint is refused with that reason, the record kept).
    lapor_base_url: str = ""
    lapor_token: SecretStr = SecretStr("")
    # A forward LAPOR! failed (5xx, timeout) is tried again this long after, with the same
    # client reference; a refusal (401, 4xx) waits for an operator.
    lapor_retry_s: float = Field(default=300.0, gt=0)

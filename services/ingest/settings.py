"""Ingest's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ROOT, CommonSettings


class IngestSettings(CommonSettings):
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8080
    keys_file: Path = ROOT / "var" / "keys.json"
    max_body_bytes: int = 256 * 1024
    # The largest content.approved record ingest writes. Each channel carries its own copy of the
    # content, so a body under max_body_bytes can make a record the broker refuses on every retry
    # (message.max.bytes: 1,048,588 per record batch by default; the producers' max_request_size:
    # 1,048,576). Kept below both, with room for the batch's header, the key and the trace
    # headers the scheduler adds when it forwards the record to schedule.commands.
    max_event_bytes: int = Field(default=1_000_000, gt=0)
    # Per API key: a burst of this many requests, refilled at rate_per_minute.
    rate_burst: int = 60
    rate_per_minute: float = 600.0
    # Listings (GET /v1/content, GET /v1/drafts) have a stricter bucket of their own: a page
    # costs more than any other read, and a loop over them is what a scraper would run.
    list_rate_burst: int = 10
    list_rate_per_minute: float = 60.0
    # How long an Idempotency-Key is kept after its first use: 24 h, as payment APIs keep theirs
    # (Stripe, Adyen). A retry within it answers the first answer; after it the key is new.
    idempotency_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    # /readyz (no key needed) asks the broker at most once per this many seconds.
    readiness_cache_s: float = Field(default=2.0, ge=0)
    # How long a request may wait for the broker's acknowledgement before answering 503.
    ack_timeout_s: float = 10.0
    # Under load, how long a record may wait for others to share its batch (writer.py): a
    # partition hands the producer at most one batch per window; after a quiet window a record
    # leaves at once.
    write_batch_window_ms: float = Field(default=3.0, ge=0, le=100)
    retry_after_s: int = 5
    # How often the whole heap is collected (app.py): what survives a collection is otherwise
    # frozen, so a reference cycle among such objects waits this long to be freed. A sweep
    # walks the whole status view: 1-5 ms per 1,000 items on the 2-core bench machine.
    gc_sweep_s: float = Field(default=600.0, ge=1)
    page_size: int = 50
    # schedule_horizon_days lives on CommonSettings: the scheduler plans by the same rule.

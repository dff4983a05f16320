"""A channel's whole model state, its calendar regimes' included, fits one Kafka record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from services.scheduler.policy.calendar import Calendar
from services.scheduler.policy.model import EngagementModel
from shared.codec import InvalidEvent, decode
from shared.event_fields import MAX_COUNT
from tests.unit.test_policy_chooser import IG, MONDAY, seen

RECORD_LIMIT = 1_000_000  # under the producers' and the broker's 1 MB


def test_years_of_a_busy_channel_with_three_regimes_stay_inside_one_record() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Each regime a tenth of the time, as the calendar's months and holidays are, over three years.
    periods = [
        (name, start + timedelta(days=120 * k + 40 * n), start + timedelta(days=120 * k + 40 * n + 12))
        for k in range(9)
        for n, name in enumerate(("ramadan", "idul_fitri", "libur_sekolah"))
    ]
    model = EngagementModel("instagram", "Asia/Makassar", calendar=Calendar.from_periods(periods))
    for n in range(3 * 365 * 20):  # twenty posts a day
        at = start + timedelta(minutes=72 * n)
        # A job id as ingest makes them (48 hex digits, the channel) and an item quality measured.
        job = f"{n:048x}:instagram-pemprov-kaltim"
        for horizon in (60, 360, 1440):  # the publisher's three readings of each post
            model.observe(at, horizon, horizon // 6 + n % 50, post_id=job, quality=1.0 + (n % 7) / 10)
    assert len(orjson.dumps(model.to_dict())) < RECORD_LIMIT


def test_a_count_no_platform_gives_is_refused_at_decode() -> None:
    """Summed with the others into the model's state it would leave the codec's 64-bit integers
    and stop the planner on every replay; refused, it is a dead letter."""
    raw = (
        seen(IG, "garbled", MONDAY, 1)
        .model_dump_json()
        .replace('"reactions":1', f'"reactions":{MAX_COUNT + 1}')
    )
    with pytest.raises(InvalidEvent, match="reactions"):
        decode(raw.encode())

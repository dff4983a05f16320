"""Slot worlds the exploration tests share, drawn with bench.adversarial's own audience sampler
and item stream: audiences outside the smooth series' family (a few hot hours on a floor)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.adversarial import _content
from bench.audiences import audience_curve

TZ = ZoneInfo("Asia/Jakarta")


def lunch_then_dawn_world(seed: int) -> dict[str, Any]:
    """One channel, six weeks, two items a day with deadlines of days; its lunchtime audience
    (bench.adversarial's sampler) moves to dawn after three weeks."""
    rng = random.Random(f"reexplore/{seed}")
    start = datetime(2027, 1, 4, tzinfo=TZ)
    half, end = start + timedelta(weeks=3), start + timedelta(weeks=6)
    channel = {
        "id": "instagram-0",
        "platform": "instagram",
        "timezone": str(TZ),
        "activity": audience_curve(rng, "lunchtime"),
        "half_life_minutes": 60,
        "base_reach": 2000,
        "crowding": 0.3,
        "min_gap_minutes": 120,
        "max_posts_per_day": 3,
        "habitual_times": ["12:00"],
        "blackouts": [],
        "seasons": [
            {"start": half.isoformat(), "end": end.isoformat(), "activity": audience_curve(rng, "dawn")}
        ],
    }
    items = _content(rng, start, 6, ["instagram-0"])
    for item in items:
        if item["priority"] == "urgent":
            item["priority"] = "evergreen"  # urgent posts skip the choice this test is about
        item["deadline"] = (datetime.fromisoformat(item["arrives_at"]) + timedelta(days=3)).isoformat()
    return {
        "name": f"lunch-then-dawn-{seed}",
        "seed": seed,
        "start": start.isoformat(),
        "weeks": 6,
        "warmup_weeks": 1,
        "grid_minutes": 5,
        "channels": [channel],
        "content": items,
    }


def dawn_world(seed: int) -> dict[str, Any]:
    """One channel whose audience is bench.adversarial's dawn (a peak 04-06 h on a floor: a narrow
    peak, outside the smooth series' family), six weeks of items with deadlines of days."""
    raw = lunch_then_dawn_world(seed)
    rng = random.Random(f"dawn/{seed}")
    channel = raw["channels"][0]
    channel["activity"] = audience_curve(rng, "dawn")
    del channel["seasons"]
    raw["name"] = f"dawn-{seed}"
    return raw

"""The slot simulator and the real policy on worlds nobody here wrote by hand: any world that
slot-world.md allows, odd corners included (time zones with DST or 45-minute offsets, audiences
at zero, no reach, a cap of 0, blackouts over the whole run, items with no channel, no deadline
or a window of one instant, seasons and calendar periods outside the run). Each must run to its
JSON line with violations 0: a hidden evaluation world that crashed the bench would score nothing."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.slots import simulate

ZONES = (
    "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC", "America/New_York", "Europe/London",
    "Australia/Lord_Howe", "Asia/Kathmandu",
)  # fmt: skip
PLATFORMS = ("instagram", "facebook", "x", "youtube", "tiktok", "whatsapp", "telegram", "website", "bluesky")
CALENDAR_NAMES = ("ramadan", "idul_fitri", "natal", "libur_sekolah", "pemilu", "Ramadan 1448")


def activity(rng: random.Random, kind: str) -> list[float]:
    if kind == "zero":
        return [0.0] * 168
    if kind == "flat":
        return [1.0] * 168
    if kind == "spiky":
        return [rng.choice((0.0, 0.0, 0.0, rng.uniform(0, 5))) for _ in range(168)]
    return [round(rng.uniform(0, 2), 4) for _ in range(168)]


def channel(rng: random.Random, n: int, start: datetime, weeks: int) -> dict[str, Any]:
    blackouts = []
    for _ in range(rng.choice((0, 0, 1, 3))):
        at = start + timedelta(minutes=rng.randrange(-2000, weeks * 10080))
        length = timedelta(minutes=rng.choice((5, 60, 3000, 20000)))
        blackouts.append({"start": at.isoformat(), "end": (at + length).isoformat()})
    out: dict[str, Any] = {
        "id": f"ch{n}",
        "platform": rng.choice(PLATFORMS),
        "timezone": rng.choice(ZONES),
        "activity": activity(rng, rng.choice(("zero", "flat", "spiky", "random", "random"))),
        "half_life_minutes": rng.choice((1, 5, 24, 60, 720, 1440)),
        "base_reach": rng.choice((0, 1, 50, 1000, 100000)),
        "crowding": rng.choice((0.0, 0.3, 2.0)),
        "min_gap_minutes": rng.choice((0, 5, 60, 240, 1440)),
        "max_posts_per_day": rng.choice((None, 0, 1, 3, 50)),
        "habitual_times": rng.sample(["00:00", "09:00", "12:30", "23:55", "19:07"], rng.randint(0, 3)),
        "blackouts": blackouts,
    }
    if rng.random() < 0.3:
        at = start + timedelta(days=rng.randint(-3, 7 * weeks))
        season = {"start": at.isoformat(), "end": (at + timedelta(days=rng.randint(1, 10))).isoformat()}
        out["seasons"] = [{**season, "activity": activity(rng, "random")}]
    return out


def item(rng: random.Random, n: int, start: datetime, weeks: int, channels: list[str]) -> dict[str, Any]:
    arrives = start + timedelta(minutes=rng.randrange(-600, weeks * 10080 + 600))
    deadline = None if rng.random() < 0.2 else arrives + timedelta(minutes=rng.choice((0, 5, 30, 600, 20000)))
    not_before = None if rng.random() < 0.7 else arrives + timedelta(minutes=rng.choice((0, 60, 5000)))
    return {
        "id": f"i{n}",
        "arrives_at": arrives.isoformat(),
        "channels": rng.sample(channels, rng.randint(0, len(channels))),
        "priority": rng.choice(("urgent", "normal", "normal", "evergreen")),
        "not_before": not_before.isoformat() if not_before else None,
        "deadline": deadline.isoformat() if deadline else None,
        "freshness_half_life_hours": rng.choice((None, 0.5, 12, 168)),
        "quality": rng.choice((0.0, 0.1, 1.0, 3.7)),
    }


def world(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    offset = timezone(timedelta(hours=rng.choice((7, 8, 9, 0, -5))))
    start = datetime(
        2027, rng.choice((1, 3, 10, 11)), rng.randint(1, 27), rng.choice((0, 5, 13)), tzinfo=offset
    )
    weeks = rng.choice((1, 1, 2, 3))
    channels = [channel(rng, n, start, weeks) for n in range(rng.randint(1, 4))]
    ids = [c["id"] for c in channels]
    out: dict[str, Any] = {
        "name": f"hostile-{seed}",
        "seed": seed,
        "start": start.isoformat(),
        "weeks": weeks,
        "warmup_weeks": rng.choice((0, 1)) if weeks > 1 else 0,
        "grid_minutes": rng.choice((5, 5, 10, 15)),
        "channels": channels,
        "content": [item(rng, n, start, weeks, ids) for n in range(rng.randint(0, 40))],
    }
    if rng.random() < 0.4:
        periods = []
        for _ in range(rng.randint(1, 3)):
            at = start + timedelta(days=rng.randint(-5, 7 * weeks))
            end = at + timedelta(days=rng.randint(1, 30))
            periods.append(
                {"name": rng.choice(CALENDAR_NAMES), "start": at.isoformat(), "end": end.isoformat()}
            )
        out["calendar"] = periods
    return out


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31 - 1))
def test_any_world_the_format_allows_runs_with_no_violation(seed: int) -> None:
    line = simulate(world(seed))
    assert line["violations"] == 0
    assert (
        set(line["missed"]) == set(line["sum_mu"]) == {"policy", "oracle", "habitual", "immediate", "random"}
    )
    assert all(isinstance(n, int) and n >= 0 for n in line["missed"].values())
    assert all(math.isfinite(x) and x >= 0 for x in line["sum_mu"].values())
    assert math.isfinite(line["captured_vs_oracle"])
    assert line["captured_vs_oracle"] >= 0

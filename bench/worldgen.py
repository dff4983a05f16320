"""Varied slot worlds (slot-world.md format), deterministic from a seed, for tuning the policy.

The worlds Warta is judged on are not the ones in ``bench/worlds/``, so the policy's settings are
chosen on many of these instead: different platforms and half-lives, WIB/WITA/WIT channels,
audiences that depart from the national prior (lunchtime, late night, Ramadan sahur, a morning
commute), tight daily caps and long gaps, blackouts (an election silence, a day of mourning),
urgent items, tight deadlines, embargoes, few or many items, items on one channel or on all.

Usage::

    python -m bench.worldgen --seed 3 -o /tmp/w3.json              # one world
    python -m bench.worldgen --seeds 1-12 --out-dir /tmp/worlds    # many: /tmp/worlds/gen-01.json ...
    python -m bench.worldgen --seed 5 --audience late_night --name late-night -o w.json
    python -m bench.worldgen --seeds 1-12 --evaluate               # bench.slots on each + summary

Nothing here reads a clock or the network: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.policy_options import exploring_of, policy_arguments
from bench.slots import simulate
from services.scheduler.policy.explore import Exploring
from services.scheduler.policy.model import DEFAULT_SHAPE

# The national hours the policy's prior also uses (scheduling.md §4.2); worlds depart from them.
_WEEKDAY = (0.14, 0.08, 0.05, 0.05, 0.09, 0.20, 0.33, 0.47, 0.51, 0.51, 0.45, 0.41,
            0.44, 0.42, 0.38, 0.38, 0.41, 0.46, 0.55, 0.625, 0.625, 0.57, 0.40, 0.24)  # fmt: skip
_WEEKEND = (0.18, 0.10, 0.06, 0.05, 0.07, 0.14, 0.24, 0.36, 0.45, 0.50, 0.50, 0.47,
            0.46, 0.44, 0.42, 0.42, 0.44, 0.48, 0.55, 0.62, 0.625, 0.59, 0.45, 0.28)  # fmt: skip

# Multipliers by local hour on top of the national hours: (all days, weekdays only).
AUDIENCES: dict[str, tuple[dict[int, float], dict[int, float]]] = {
    "national": ({}, {}),
    "evening": ({19: 1.2, 20: 1.35, 21: 1.35, 22: 1.2, 7: 0.8, 8: 0.8}, {}),
    # office workers and students reading at lunch (weekdays), quieter evenings
    "lunchtime": ({19: 0.75, 20: 0.7, 21: 0.7}, {11: 1.6, 12: 2.3, 13: 2.0, 14: 1.3}),
    # a young audience: late evening to past midnight, late mornings
    "late_night": ({22: 1.9, 23: 2.8, 0: 4.0, 1: 4.0, 2: 2.5, 7: 0.6, 8: 0.6, 9: 0.7, 19: 0.8}, {}),
    # Ramadan: up for sahur 03-05, offline at iftar (18 h) and tarawih (19-20 h), online after
    "sahur": ({2: 3.0, 3: 7.0, 4: 7.0, 5: 2.0, 17: 0.8, 18: 0.45, 19: 0.5, 20: 0.8, 22: 1.4, 23: 1.8}, {}),
    "commute": ({}, {5: 1.6, 6: 2.0, 7: 1.8, 8: 1.3, 17: 1.4, 20: 0.8, 21: 0.8}),
}
DEPARTING = ("lunchtime", "late_night", "sahur", "commute")

# (half-life range in minutes, base reach range) per platform (scheduling.md §3.4 for the shapes).
PLATFORMS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "instagram": ((40, 90), (500, 5000)),
    "facebook": ((60, 150), (300, 3000)),
    "x": ((15, 40), (150, 1500)),
    "telegram": ((30, 90), (100, 800)),
    "website": ((240, 900), (200, 2000)),
    "threads": ((20, 60), (100, 800)),
    "tiktok": ((90, 300), (500, 8000)),
}
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
# Office hours are when press releases arrive; a few come in the evening.
ARRIVAL_HOURS = (7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 15, 16, 17, 18, 19, 20, 21)


def activity(rng: random.Random, audience: str, noise: float) -> list[float]:
    """168 hourly numbers, Monday 00:00 first: the national hours reshaped, with per-hour noise."""
    every, weekdays = AUDIENCES[audience]
    # a channel's own smooth departure as well: a random bump somewhere in the day
    bump_at, bump = rng.randrange(24), math.exp(rng.gauss(0, 0.25))
    out: list[float] = []
    for day in range(7):
        base = list(_WEEKEND if day >= 5 else _WEEKDAY)
        for hour in range(24):
            factor = every.get(hour, 1.0) * (weekdays.get(hour, 1.0) if day < 5 else 1.0)
            distance = min(abs(hour - bump_at), 24 - abs(hour - bump_at))
            factor *= bump ** math.exp(-distance * distance / 4)
            if day == 4 and hour == 12:
                factor *= 0.75  # Friday prayer
            out.append(round(base[hour] * factor * math.exp(rng.gauss(0, noise)), 4))
    return out


def _channel(
    rng: random.Random, n: int, platform: str, tz: str, audience: str, tight: bool
) -> dict[str, Any]:
    (hl_lo, hl_hi), (reach_lo, reach_hi) = PLATFORMS[platform]
    fast = platform in ("x", "threads", "telegram")
    gap = rng.choice((0, 15, 30, 60) if fast else (60, 90, 120, 180))
    per_day: int | None = rng.choice((4, 6, 8, 12, None) if fast else (2, 3, 4, 5, None))
    if tight:
        gap, per_day = gap * 2 + 60, rng.choice((1, 2, 2, 3))
    habitual = sorted(
        {f"{rng.randrange(6, 21):02d}:{rng.choice((0, 0, 30)):02d}" for _ in range(rng.randint(1, 3))}
    )
    return {
        "id": f"{platform}-{n}",
        "platform": platform,
        "timezone": tz,
        "audience": audience,  # informative only; the simulator and the policy ignore it
        "activity": activity(rng, audience, noise=rng.uniform(0.05, 0.2)),
        "half_life_minutes": round(rng.uniform(hl_lo, hl_hi)),
        "base_reach": round(math.exp(rng.uniform(math.log(reach_lo), math.log(reach_hi)))),
        "crowding": round(rng.uniform(0.1, 0.6), 2),
        "min_gap_minutes": gap,
        "max_posts_per_day": per_day,
        "habitual_times": habitual,
        "blackouts": [],
    }


def _blackouts(rng: random.Random, start: datetime, weeks: int) -> list[dict[str, str]]:
    """An election silence of 3 days, or a day of mourning, or a night-time maintenance window."""
    out = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        day = start + timedelta(days=rng.randrange(7, 7 * weeks - 3))
        kind = rng.random()
        if kind < 0.4:
            lo, hi = day, day + timedelta(days=3)
        elif kind < 0.8:
            lo, hi = day, day + timedelta(days=1)
        else:
            lo = day + timedelta(hours=22)
            hi = lo + timedelta(hours=rng.choice((4, 8, 10)))
        out.append({"start": lo.isoformat(), "end": hi.isoformat()})
    return out


def content(rng: random.Random, start: datetime, weeks: int, channels: list[str], knobs: dict[str, float]) -> list[dict[str, Any]]:  # fmt: skip
    """A world's items: ``knobs`` as ``generate`` draws them (items a day, shares of urgent,
    evergreen and embargoed items, deadlines in hours, the quality's log-normal sigma)."""
    items: list[dict[str, Any]] = []
    for day in range(7 * weeks):
        midnight = start + timedelta(days=day)
        weekend = midnight.weekday() >= 5
        count = max(0, round(rng.gauss(knobs["per_day"] * (0.5 if weekend else 1.1), 1.2)))
        for _ in range(count):
            at = midnight + timedelta(
                hours=rng.choice(ARRIVAL_HOURS), minutes=rng.randrange(60), seconds=rng.randrange(60)
            )
            draw = rng.random()
            urgent, evergreen = knobs["urgent"], knobs["evergreen"]
            priority = "urgent" if draw < urgent else "evergreen" if draw < urgent + evergreen else "normal"
            width = rng.choice((1, 1, 2, len(channels))) if knobs["single"] > rng.random() else 0
            chans = rng.sample(channels, max(1, min(len(channels), width or rng.randint(2, len(channels)))))
            not_before = None
            if priority == "normal" and rng.random() < knobs["embargo"]:
                not_before = at + timedelta(hours=rng.choice((1, 2, 4, 12, 20)))
            half_life: float | None
            if priority == "evergreen":
                deadline = None if rng.random() < 0.6 else at + timedelta(days=rng.randint(2, 6))
                half_life = None
            elif priority == "urgent":
                deadline, half_life = at + timedelta(hours=rng.choice((2, 4, 6))), rng.choice((1.0, 2.0, 3.0))
            else:
                lo, hi = int(knobs["deadline_lo"]), int(knobs["deadline_hi"])
                deadline = (not_before or at) + timedelta(hours=rng.randint(lo, hi))
                half_life = rng.choice((4, 6, 8, 12, 12, 18, 24, 36))
            items.append(
                {
                    "id": "",
                    "arrives_at": at.isoformat(),
                    "channels": chans,
                    "priority": priority,
                    "not_before": not_before.isoformat() if not_before else None,
                    "deadline": deadline.isoformat() if deadline else None,
                    "freshness_half_life_hours": half_life,
                    "quality": round(math.exp(rng.gauss(0, knobs["quality_sigma"])), 3),
                }
            )
    items.sort(key=lambda c: str(c["arrives_at"]))
    for n, item in enumerate(items, 1):
        item["id"] = f"c-{n:04d}"
    return items


def generate(seed: int, *, name: str | None = None, audience: str | None = None) -> dict[str, Any]:
    """One world. ``audience`` forces the channels' audiences, comma-separated and taken in turn
    (``"lunchtime,late_night"``); without it each channel draws its own."""
    rng = random.Random(f"worldgen/{seed}")
    home = rng.choice(ZONES)
    tz = ZoneInfo(home)
    weeks = rng.choice((4, 6, 8))
    start = datetime(2027, 1, 4, tzinfo=tz) + timedelta(weeks=rng.randrange(40))
    platforms = rng.sample(sorted(PLATFORMS), rng.randint(2, 5))
    constrained = rng.random() < 0.3
    channels = []
    forced = audience.split(",") if audience else []
    for n, platform in enumerate(platforms):
        own = rng.choice(DEPARTING if rng.random() < 0.5 else ("national", "evening"))
        own = forced[n % len(forced)] if forced else own
        chan_tz = home if rng.random() < 0.7 else rng.choice(ZONES)
        channels.append(_channel(rng, n, platform, chan_tz, own, tight=constrained and rng.random() < 0.6))
    silence = _blackouts(rng, start, weeks)
    for ch in channels:
        ch["blackouts"] = silence if rng.random() < 0.8 else _blackouts(rng, start, weeks)
    knobs = {
        "per_day": rng.choice((1.5, 3.0, 5.0, 8.0, 12.0)),
        "urgent": rng.choice((0.0, 0.05, 0.1, 0.2)),
        "evergreen": rng.choice((0.05, 0.2, 0.35)),
        "embargo": rng.choice((0.0, 0.05, 0.15)),
        "single": rng.choice((0.0, 0.2, 0.5)),
        "deadline_lo": rng.choice((2, 6, 12)),
        "deadline_hi": rng.choice((12, 24, 48, 72)),
        "quality_sigma": rng.uniform(0.2, 0.5),
    }
    knobs["deadline_hi"] = max(knobs["deadline_hi"], knobs["deadline_lo"] + 2)
    return {
        "name": name or f"gen-{seed:02d}",
        "seed": seed,
        "start": start.isoformat(),
        "weeks": weeks,
        "warmup_weeks": 1 if weeks == 4 else 2,
        "grid_minutes": 5,
        "generator": {"seed": seed, "audience": audience, **knobs},  # informative only
        "channels": channels,
        "content": content(rng, start, weeks, [c["id"] for c in channels], knobs),
    }


def _seeds(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def evaluate(
    seeds: list[int],
    audience: str | None = None,
    shape: str = DEFAULT_SHAPE,
    exploring: Exploring | None = None,
) -> list[dict[str, Any]]:
    """``bench.slots`` on each generated world, one process per CPU; results in seed order."""
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        worlds = [generate(seed, audience=audience) for seed in seeds]
        return list(pool.map(partial(simulate, shape=shape, exploring=exploring), worlds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worldgen", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, help="one world from this seed")
    parser.add_argument("--seeds", help="a range of seeds, e.g. 1-12, written to --out-dir")
    parser.add_argument(
        "--audience", help=f"force the channels' audiences, comma-separated: {sorted(AUDIENCES)}"
    )
    parser.add_argument("--name", help="the world's name")
    parser.add_argument("-o", "--output", type=Path, help="file for --seed (default: stdout)")
    parser.add_argument("--out-dir", type=Path, default=Path("."), help="directory for --seeds")
    parser.add_argument("--evaluate", action="store_true", help="run bench.slots on --seeds, print a summary")
    policy_arguments(parser)
    args = parser.parse_args(argv)
    if args.audience and not set(args.audience.split(",")) <= set(AUDIENCES):
        parser.error(f"--audience takes names from {sorted(AUDIENCES)}")
    if args.seeds and args.evaluate:
        results = evaluate(_seeds(args.seeds), args.audience, args.shape, exploring_of(args))
        for line in results:
            print(json.dumps(line), flush=True)
        captured = sorted(r["captured_vs_oracle"] for r in results)
        lifts = sorted(r["lift_vs_habitual"] for r in results)
        summary = {
            "worlds": len(results),
            "captured_min": captured[0],
            "captured_median": statistics.median(captured),
            "captured_mean": round(statistics.fmean(captured), 4),
            "lift_vs_habitual_min": lifts[0],
            "lift_vs_habitual_median": statistics.median(lifts),
            "violations": sum(r["violations"] for r in results),
            "policy_seconds": round(sum(r["policy_seconds"] for r in results), 2),
        }
        print(json.dumps({"summary": summary}))
        return 0
    if args.seeds:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for seed in _seeds(args.seeds):
            world = generate(seed, audience=args.audience)
            (args.out_dir / f"{world['name']}.json").write_text(json.dumps(world, indent=1), encoding="utf-8")
        return 0
    if args.seed is None:
        parser.error("give --seed or --seeds")
    text = json.dumps(generate(args.seed, name=args.name, audience=args.audience), indent=1)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

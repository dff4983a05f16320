"""Adversarial slot worlds (slot-world.md format): audiences the policy's prior gets wrong.

``bench.worldgen`` reshapes the national hours the policy also starts from, so it cannot show a
policy that trusts its prior too much. These worlds are drawn from their own audiences, most of
them contradicting that prior: late night, dawn, lunchtime only, weekend only, one strong weekday;
with sparse posting (1-2 items a day), long deadlines where waiting pays, heavy-tailed item
quality, an audience that shifts mid-run (a ``seasons`` entry), noisy counts (a small reach), and
calendar worlds whose Ramadan reshapes the day (public ``calendar``, hidden per-channel season).

Seeds split the worlds: odd seeds are the tuning half, even seeds the held-out half. Settings of
the policy are chosen on the tuning half only; the held-out half is run to report, never to tune.

Usage::

    python -m bench.adversarial --seeds 1-16 --evaluate          # both halves, summarised apart
    python -m bench.adversarial --seed 4 -o /tmp/a4.json         # one world
    python -m bench.adversarial --ramadan-of bench/worlds/kaltim_bureau.json > k.json  # a season

Nothing here reads a clock or the network: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from bench.audiences import AUDIENCES, audience_curve, ramadan_curve
from bench.policy_options import policy_arguments
from bench.world_output import capture_summary, simulate_each, write_world
from bench.worldgen import PLATFORMS, ZONES

KINDS = ("shift", "ramadan", "plain", "plain")  # by seed // 2: half the worlds plain


def generate(seed: int) -> dict[str, Any]:
    rng = random.Random(f"adversarial/{seed}")
    tz = ZoneInfo(rng.choice(ZONES))
    weeks = rng.choice((6, 8))
    start = datetime(2027, 1, 4, tzinfo=tz) + timedelta(weeks=rng.randrange(3))
    end = start + timedelta(weeks=weeks)
    kind = kind_of(seed)
    noisy = rng.random() < 0.3
    channels = []
    for n, platform in enumerate(rng.sample(sorted(PLATFORMS), rng.randint(1, 3))):
        (hl_lo, hl_hi), (reach_lo, reach_hi) = PLATFORMS[platform]
        audience = rng.choice(AUDIENCES)
        reach = (
            rng.uniform(20, 80) if noisy else math.exp(rng.uniform(math.log(reach_lo), math.log(reach_hi)))
        )
        channel: dict[str, Any] = {
            "id": f"{platform}-{n}",
            "platform": platform,
            "timezone": str(tz),
            "audience": audience,  # informative only; the simulator and the policy ignore it
            "activity": audience_curve(rng, audience),
            "half_life_minutes": round(rng.uniform(hl_lo, hl_hi)),
            "base_reach": round(reach),
            "crowding": round(rng.uniform(0.1, 0.5), 2),
            "min_gap_minutes": rng.choice((60, 120, 180)),
            "max_posts_per_day": rng.choice((2, 3, None)),
            "habitual_times": [f"{rng.randrange(7, 20):02d}:00"],
            "blackouts": [],
        }
        if kind == "shift":  # the audience moves to another shape half-way through
            moved = rng.choice([a for a in AUDIENCES if a != audience])
            half = start + timedelta(weeks=weeks // 2)
            channel["seasons"] = [
                {"start": half.isoformat(), "end": end.isoformat(), "activity": audience_curve(rng, moved)}
            ]
            channel["audience"] = f"{audience}->{moved}"
        channels.append(channel)
    world: dict[str, Any] = {
        "name": f"adv-{seed:02d}-{kind}",
        "seed": seed,
        "start": start.isoformat(),
        "weeks": weeks,
        "warmup_weeks": 1,
        "grid_minutes": 5,
        "channels": channels,
    }
    if kind == "ramadan":
        lo = start + timedelta(weeks=rng.choice((2, 3)))
        add_hidden_ramadan(world, lo, lo + timedelta(days=30), partial(ramadan_curve, rng))
    world["content"] = _content(rng, start, weeks, [c["id"] for c in channels])
    return world


def _content(rng: random.Random, start: datetime, weeks: int, channels: list[str]) -> list[dict[str, Any]]:
    per_day = rng.choice((1.0, 1.5, 2.0))
    long_deadlines = rng.random() < 0.5
    sigma = rng.uniform(0.3, 0.9)  # heavy-tailed: a few items get several times the reactions
    items: list[dict[str, Any]] = []
    for day in range(7 * weeks):
        midnight = start + timedelta(days=day)
        count = sum(1 for _ in range(4) if rng.random() < per_day / 4)
        for _ in range(count):
            at = midnight + timedelta(hours=rng.randrange(7, 18), minutes=rng.randrange(60))
            draw = rng.random()
            priority = "urgent" if draw < 0.05 else "evergreen" if draw < 0.35 else "normal"
            fresh: float | None
            if priority == "urgent":
                deadline, fresh = at + timedelta(hours=4), 2.0
            elif priority == "evergreen":
                deadline, fresh = at + timedelta(days=rng.randint(3, 12) if long_deadlines else 2), None
            else:
                days = rng.randint(2, 10) if long_deadlines else rng.randint(1, 2)
                deadline, fresh = at + timedelta(days=days), rng.choice((24, 48, 96, 168))
            width = rng.randint(1, len(channels))
            items.append(
                {
                    "id": "",
                    "arrives_at": at.isoformat(),
                    "channels": rng.sample(channels, width),
                    "priority": priority,
                    "not_before": None,
                    "deadline": deadline.isoformat(),
                    "freshness_half_life_hours": fresh,
                    "quality": round(math.exp(rng.gauss(0, sigma)), 3),
                }
            )
    items.sort(key=lambda c: str(c["arrives_at"]))
    for n, item in enumerate(items, 1):
        item["id"] = f"c-{n:04d}"
    return items


def with_ramadan(raw: dict[str, Any], first_day: int, days: int = 30) -> dict[str, Any]:
    """A world's copy in which Ramadan starts ``first_day`` days after its start: the public
    calendar says so and every channel's audience follows worldgen's sahur shape meanwhile."""
    from bench.worldgen import AUDIENCES

    every, _ = AUDIENCES["sahur"]
    start = datetime.fromisoformat(raw["start"])
    lo = start + timedelta(days=first_day)
    out = json.loads(json.dumps(raw))
    out["name"] = f"{raw['name']}-ramadan"

    def sahur(base: list[float]) -> list[float]:
        return [round(a * every.get(b % 24, 1.0), 4) for b, a in enumerate(base)]

    add_hidden_ramadan(out, lo, lo + timedelta(days=days), sahur)
    return dict(out)


def add_hidden_ramadan(
    world: dict[str, Any], lo: datetime, hi: datetime, curve: Callable[[list[float]], list[float]]
) -> None:
    """Ramadan from ``lo`` to ``hi`` in ``world``'s public calendar, and on each channel a hidden season
    of those dates whose audience is ``curve`` of the channel's base one (drawn in channel order)."""
    world["calendar"] = [{"name": "ramadan", "start": lo.isoformat(), "end": hi.isoformat()}]
    for ch in world["channels"]:
        season = {"start": lo.isoformat(), "end": hi.isoformat(), "activity": curve(ch["activity"])}
        ch["seasons"] = [season]


def kind_of(seed: int) -> str:
    """The seed's kind of world; seeds 2k and 2k+1 share it, so both halves hold every kind alike."""
    return KINDS[(seed // 2) % len(KINDS)]


def half(seed: int) -> str:
    return "tuning" if seed % 2 else "held_out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.adversarial", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, help="one world from this seed")
    parser.add_argument("--seeds", help="a range of seeds, e.g. 1-16 (odd: tuning, even: held out)")
    parser.add_argument("--half", choices=("tuning", "held_out", "both"), default="both")
    parser.add_argument("--kind", choices=sorted(set(KINDS)), help="only --seeds of this kind")
    parser.add_argument("-o", "--output", help="file for --seed (default: stdout)")
    parser.add_argument("--evaluate", action="store_true", help="run bench.slots on --seeds")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    policy_arguments(parser)
    parser.add_argument("--ramadan-of", help="a world file: print its copy with a Ramadan from day 21")
    args = parser.parse_args(argv)
    if args.ramadan_of:
        with open(args.ramadan_of, encoding="utf-8") as f:
            print(json.dumps(with_ramadan(json.load(f), 21), indent=1))
        return 0
    if args.seeds:
        lo, _, hi = args.seeds.partition("-")
        seeds = [
            s
            for s in range(int(lo), int(hi or lo) + 1)
            if args.half in ("both", half(s)) and args.kind in (None, kind_of(s))
        ]
        results = simulate_each([generate(s) for s in seeds], args)
        for seed, line in zip(seeds, results, strict=True):
            print(json.dumps({"half": half(seed), **line}), flush=True)
        for name in ("tuning", "held_out"):
            mine = [r for s, r in zip(seeds, results, strict=True) if half(s) == name]
            if mine:
                print(json.dumps({"summary": name, **capture_summary(mine)}), flush=True)
        return 0
    if args.seed is None:
        parser.error("give --seed or --seeds")
    write_world(generate(args.seed), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Worlds of the kinds the slot policy's evaluation worlds are (slot-world.md format), at a bureau's
volume: a proxy for worlds kept outside the project, never used to tune.

``bench.adversarial`` posts once or twice a day to find where the policy's learning breaks. The
evaluation worlds the policy is judged on are bureaus: several channels, items every day, caps and
silences. This module draws such a world (``bench.worldgen``'s channels, constraints and items)
and gives its audiences one of the evaluation kinds:

- ``wita_unlike``: a bureau in WITA whose platforms' audiences are unlike each other and the
  national hours (each channel another of bench.adversarial's audiences);
- ``crisis``: a crisis fortnight, 8-14 items a day, a third of them urgent, tight caps and gaps;
- ``late_night``: a young audience online late at night, on every channel;
- ``weekend_long``: a community audience online at weekends, items allowed to wait 3-10 days;

each with a hidden Ramadan season and the public calendar when asked (``--ramadan``): the Ramadan
bench.audiences draws, or with ``--ramadan-family`` one the policy's Ramadan prior does not assume.
Seeds are independent of every other generator's.

Usage::

    python -m bench.evaluation_like --seeds 1-4 --evaluate            # every kind, both calendars
    python -m bench.evaluation_like --kind late_night --seed 3 -o w.json

Nothing here reads a clock or the network: the same arguments give the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bench.adversarial import add_hidden_ramadan
from bench.audiences import AUDIENCES, RAMADAN_FAMILIES, audience_curve, ramadan_curve
from bench.policy_options import policy_arguments
from bench.world_output import capture_summary, simulate_each, write_world
from bench.worldgen import content
from bench.worldgen import generate as bureau

KINDS = ("wita_unlike", "crisis", "late_night", "weekend_long")
RAMADAN_DAYS = 30


def generate(kind: str, seed: int, *, ramadan: bool = False, family: str = "ours") -> dict[str, Any]:
    """A bureau's world (``bench.worldgen``) with ``kind``'s audiences and items."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    rng = random.Random(f"evaluation-like/{kind}/{seed}")
    world = bureau(10_000 + 1_000 * KINDS.index(kind) + seed)  # past bench.worldgen's own seeds
    world.pop("generator", None)
    channels = world["channels"]
    start = datetime.fromisoformat(world["start"])
    audiences = {
        "wita_unlike": rng.sample(AUDIENCES, len(AUDIENCES)),
        "late_night": ["late_night"],
        "weekend_long": ["weekend"],
    }.get(kind)
    for n, ch in enumerate(channels):
        if audiences is not None:
            ch["audience"] = audiences[n % len(audiences)]
            ch["activity"] = audience_curve(rng, ch["audience"])
        if kind == "wita_unlike":
            ch["timezone"] = "Asia/Makassar"
        if kind == "crisis":
            ch["max_posts_per_day"] = rng.choice((2, 3))
            ch["min_gap_minutes"] = rng.choice((120, 180, 240))
    knobs = _items(rng, kind)
    if knobs is not None:
        world["weeks"], world["warmup_weeks"] = knobs.pop("weeks"), 1
        end = start + timedelta(weeks=int(world["weeks"]))
        for ch in channels:  # silences drawn for the longer world may fall past its end
            ch["blackouts"] = [b for b in ch["blackouts"] if datetime.fromisoformat(b["start"]) < end]
        world["content"] = content(rng, start, int(world["weeks"]), [c["id"] for c in channels], knobs)
    if kind == "weekend_long":  # news that keeps: waiting for the weekend costs little of it
        for item in world["content"]:
            if item["priority"] == "normal":
                item["freshness_half_life_hours"] = rng.choice((48, 96, 168))
    named = "" if not ramadan else "-ramadan" if family == "ours" else f"-ramadan_{family}"
    world["name"] = f"eval-{kind}{named}-{seed:02d}"
    world["seed"] = seed
    if ramadan:
        _add_ramadan(rng, world, family)
    return world


def _items(rng: random.Random, kind: str) -> dict[str, float] | None:
    """``worldgen.content``'s knobs for the kinds whose items differ from a bureau's; None keeps them."""
    if kind == "crisis":  # two counted weeks after a warm-up week
        return {
            "weeks": 3,
            "per_day": rng.uniform(8.0, 14.0),
            "urgent": 0.33,
            "evergreen": 0.05,
            "embargo": 0.05,
            "single": 0.2,
            "deadline_lo": 2,
            "deadline_hi": 12,
            "quality_sigma": rng.uniform(0.2, 0.5),
        }
    if kind == "weekend_long":
        return {
            "weeks": rng.choice((6, 8)),
            "per_day": rng.choice((1.5, 3.0, 5.0)),
            "urgent": 0.03,
            "evergreen": 0.3,
            "embargo": 0.0,
            "single": 0.2,
            "deadline_lo": 72,
            "deadline_hi": 240,
            "quality_sigma": rng.uniform(0.2, 0.5),
        }
    return None


def _add_ramadan(rng: random.Random, world: dict[str, Any], family: str) -> None:
    """A public Ramadan from the second counted week on, and each channel's hidden Ramadan season."""
    lo = datetime.fromisoformat(world["start"]) + timedelta(weeks=int(world["warmup_weeks"]) + 1)
    curve = partial(ramadan_curve, rng, family=family)
    add_hidden_ramadan(world, lo, lo + timedelta(days=RAMADAN_DAYS), curve)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evaluation_like", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--kind", choices=KINDS, action="append", help="one kind (repeatable; default all)")
    parser.add_argument("--seed", type=int, help="one world from this seed")
    parser.add_argument("--seeds", help="a range of seeds, e.g. 1-4")
    parser.add_argument("--ramadan", choices=("with", "without", "both"), default="both")
    parser.add_argument(
        "--ramadan-family",
        choices=RAMADAN_FAMILIES,
        default="ours",
        help="the hidden Ramadan's shape (bench.audiences.RAMADAN_FAMILIES)",
    )
    parser.add_argument("-o", "--output", help="file for --seed (default: stdout)")
    parser.add_argument("--evaluate", action="store_true", help="run bench.slots on --seeds")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    policy_arguments(parser)
    args = parser.parse_args(argv)
    kinds = args.kind or list(KINDS)
    calendars = {"with": [True], "without": [False], "both": [False, True]}[args.ramadan]
    if args.seeds and args.evaluate:
        lo, _, hi = args.seeds.partition("-")
        worlds = [
            generate(kind, seed, ramadan=ramadan, family=args.ramadan_family)
            for kind in kinds
            for ramadan in calendars
            for seed in range(int(lo), int(hi or lo) + 1)
        ]
        lines = simulate_each(worlds, args)
        for line in lines:
            print(json.dumps(line), flush=True)
        for kind in kinds:
            mine = [line for line in lines if line["world"].startswith(f"eval-{kind}-")]
            print(json.dumps({"summary": kind, **capture_summary(mine)}), flush=True)
        print(json.dumps({"summary": "all", **capture_summary(lines)}), flush=True)
        return 0
    if args.seed is None or len(kinds) != 1 or len(calendars) != 1:
        parser.error("give --seeds with --evaluate, or one --kind, one --ramadan and --seed")
    write_world(generate(kinds[0], args.seed, ramadan=calendars[0], family=args.ramadan_family), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

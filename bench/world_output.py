"""What the world generators' commands do with their worlds: print one world's file, simulate many
under the policy options on the command line, and summarise the simulated lines."""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

from bench.policy_options import exploring_of, knobs_of
from bench.slots import simulate


def write_world(world: dict[str, Any], output: str | None) -> None:
    """The world as indented JSON, to the file ``output`` or, without one, to stdout."""
    text = json.dumps(world, indent=1)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)


def capture_summary(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """``captured_vs_oracle`` over bench.slots' lines: its least, median and mean, how many worlds
    fall under the 0.95 the policy is asked for, and the violations in all."""
    captured = sorted(line["captured_vs_oracle"] for line in lines)
    return {
        "worlds": len(captured),
        "captured_min": captured[0],
        "captured_median": statistics.median(captured),
        "captured_mean": round(statistics.fmean(captured), 4),
        "below_0.95": sum(1 for c in captured if c < 0.95),
        "violations": sum(line["violations"] for line in lines),
    }


def simulate_each(worlds: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """bench.slots' line for each world, in order, under the policy options ``args`` names
    (``bench.policy_options.policy_arguments``), ``args.jobs`` worlds at a time."""
    options = {
        "shape": args.shape,
        "exploring": exploring_of(args),
        "truth_from_day": args.truth_from_day,
        "knobs": knobs_of(args),
    }
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        return list(pool.map(partial(simulate, **options), worlds))

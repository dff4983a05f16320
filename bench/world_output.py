"""What the world generators' commands print: one world's file, and a summary of simulated lines."""

from __future__ import annotations

import json
import statistics
from typing import Any


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

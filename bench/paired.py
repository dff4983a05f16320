"""Two runs of the same worlds compared world by world: is a candidate better than its baseline?

One world's capture moves by several points between two draws of the same policy, so two
settings are compared on the same worlds, paired: the mean of the per-world differences in
``captured_vs_oracle`` and its standard error. Reads the JSON lines that ``bench.slots``,
``bench.adversarial --evaluate`` and ``bench.evaluation_like --evaluate`` print (summary lines
and anything else without a ``world`` are skipped) and prints one JSON line for every world
together and one for each kind of world with two or more::

    python -m bench.adversarial --seeds 1-255 --half tuning --evaluate > base.jsonl
    python -m bench.adversarial --seeds 1-255 --half tuning --evaluate --explore-spread 0 > cand.jsonl
    python -m bench.paired base.jsonl cand.jsonl

Run both in the same session: figures from another day's code or machine are not a baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
from collections.abc import Iterable
from typing import Any

from bench.world_output import capture_summary

_COUNTER = re.compile(r"-\d+$")  # an evaluation world's seed: eval-crisis-ramadan-03


class PairingError(ValueError):
    """The two runs cannot be compared: no world in common, a line that is not JSON, or a world's
    line without a finite capture and a whole number of violations."""


def read_lines(lines: Iterable[str], source: str) -> dict[str, dict[str, Any]]:
    """The per-world lines of one run, by world name; ``source`` names the run in errors."""
    worlds: dict[str, dict[str, Any]] = {}
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PairingError(f"{source}:{number}: not a JSON line ({exc.msg})") from exc
        if not isinstance(line, dict) or "world" not in line:
            continue  # a summary line, or another bench's
        captured, violations = line.get("captured_vs_oracle"), line.get("violations")
        if not _is_number(captured) or not isinstance(violations, int) or isinstance(violations, bool):
            raise PairingError(
                f"{source}:{number}: world {line['world']!r} has no numeric capture and violations"
            )
        worlds[str(line["world"])] = line
    return worlds


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def world_kind(world: str) -> str:
    """The kind a world's name says: adv-05-plain → plain, eval-crisis-ramadan-03 →
    crisis-ramadan; any other name is its own kind."""
    if world.startswith("adv-"):
        return world.rsplit("-", 1)[-1]
    if world.startswith("eval-"):
        return _COUNTER.sub("", world.removeprefix("eval-"))
    return world


def compare(
    baseline: dict[str, dict[str, Any]], candidate: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One line for all the worlds both runs hold, then one per kind with two or more worlds."""
    common = sorted(set(baseline) & set(candidate))
    if not common:
        raise PairingError("the two runs share no world")
    groups: dict[str, list[str]] = {"all": common}
    for world in common:
        groups.setdefault(world_kind(world), []).append(world)
    return [
        _line(name, [baseline[w] for w in worlds], [candidate[w] for w in worlds])
        for name, worlds in groups.items()
        if name == "all" or len(worlds) >= 2
    ]


def _line(name: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    diffs = [b["captured_vs_oracle"] - a["captured_vs_oracle"] for a, b in zip(before, after, strict=True)]
    mean = statistics.fmean(diffs)
    se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else math.nan
    return {
        "kind": name,
        "worlds": len(diffs),
        "paired_mean": round(mean, 4),
        "paired_se": round(se, 4),
        "t": round(mean / se, 2) if se > 0 else None,
        "better": sum(1 for d in diffs if d > 0),
        "worse": sum(1 for d in diffs if d < 0),
        "baseline": capture_summary(before),
        "candidate": capture_summary(after),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paired", description=__doc__.splitlines()[0])
    parser.add_argument("baseline", help="JSON lines of the baseline's run")
    parser.add_argument("candidate", help="JSON lines of the candidate's run, on the same worlds")
    args = parser.parse_args(argv)
    runs = []
    for path in (args.baseline, args.candidate):
        with open(path, encoding="utf-8") as f:
            runs.append(read_lines(f, path))
    try:
        lines = compare(*runs)
    except PairingError as exc:
        parser.error(str(exc))
    for line in lines:
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""X's weighted length on benign and hostile texts: CPU time per text, one JSON line per case.

    python -m bench.x_length [--length 40000]

Each hostile text is one that a backtracking link pattern scans quadratically (``"a-" * N``:
every start scans to the end of the run); the figure to compare is its time against the benign
text of the same length, which is dense in links and so the linear finder's own worst kind.
"""

from __future__ import annotations

import argparse
import json
import time

from shared.text_length import x_weighted_length


def cases(length: int) -> dict[str, str]:
    return {
        "benign-press": ("Gubernur meresmikan jembatan baru di Samarinda pagi ini. " * length)[:length],
        "benign-links": ("lihat kaltimprov.go.id " * length)[:length],
        "hyphenated-names": ("a-" * length)[: length - 1] + ".",
        "schemes-without-hosts": ("www.:" * length)[:length],
        "closing-parentheses": "https://a.id/" + ")" * (length - 13),
    }


def cpu_seconds(text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        x_weighted_length(text)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=40_000)
    args = parser.parse_args()
    texts = cases(args.length)
    baseline = cpu_seconds(texts["benign-links"])
    for name, text in texts.items():
        seconds = cpu_seconds(text)
        line = {"bench": "x_length", "case": name, "chars": len(text), "cpu_ms": round(seconds * 1e3, 2)}
        print(json.dumps({**line, "vs_benign_links": round(seconds / baseline, 2)}))


if __name__ == "__main__":
    main()

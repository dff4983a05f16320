"""`make bench` on a machine with no broker running: every benchmark finds or starts its broker
through one helper (``bench._system.own_broker``), never by assuming one on a default address."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.settings import ROOT

BENCH = ROOT / "bench"
HELPER = BENCH / "_system.py"


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_only_the_helper_reads_the_bootstrap_variable() -> None:
    readers = [
        p.name
        for p in sorted(BENCH.glob("*.py"))
        if p != HELPER and "KAFKA_BOOTSTRAP_SERVERS" in _string_constants(p)
    ]
    assert readers == [], f"read KAFKA_BOOTSTRAP_SERVERS through bench._system.own_broker: {readers}"


def test_no_benchmark_assumes_a_broker_on_a_fixed_address() -> None:
    fixed = [
        (p.name, s)
        for p in sorted(BENCH.glob("*.py"))
        for s in _string_constants(p)
        if s.startswith("127.0.0.1:9") and s[len("127.0.0.1:") :].isdigit()
    ]
    assert fixed == []


def test_the_benchmarks_that_need_kafka_use_the_helper() -> None:
    kafka_words = ("aiokafka", "ensure_topics", "bootstrap")
    needs_kafka = {
        p.name for p in BENCH.glob("*.py") if p != HELPER and any(w in p.read_text() for w in kafka_words)
    }
    users = {p.name for p in BENCH.glob("*.py") if "own_broker" in p.read_text()}
    # chaos stops and starts its broker on purpose, so it runs one of its own by hand (on a free port).
    assert needs_kafka - users == {"chaos.py"}

"""The short version of `make chaos`: the whole system, two workers per group, under kills of every
service, a broker stop/start and platform storms. Nothing lost, nothing posted twice, and, every
fault being recoverable, no job ends unpublished but an ``unconfirmed`` one whose platform cannot
tell (``bench/unpublished.py``; the table prints each with its reason)."""

from __future__ import annotations

import pytest

from bench.chaos import chaos, print_table

pytestmark = pytest.mark.e2e


async def test_chaos_loses_nothing_and_duplicates_nothing() -> None:
    result = await chaos(items=100, rate=5.0, workers=2, seed=3, interval=2.0, outages=1, patience=400.0)
    print_table(result)
    assert result["items_accepted"] == 100
    kinds = {kind.split()[-1] for kind in result["faults"] if kind.startswith("kill -9")}
    assert {"ingest", "scheduler", "publisher"} <= kinds
    assert result["faults"].get("broker stop/start") == 1
    storms = {kind.split()[-1] for kind in result["faults"] if kind.startswith("platform")}
    assert storms == {"429", "5xx", "timeout", "slow"}
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["unpublished_defects"] == 0, "\n".join(result["unpublished_detail"])

"""Fixtures shared by the unit suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.scheduler.store import JobStore, SqliteJobStore
from services.scheduler.store_memory import MemoryJobStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[JobStore]:
    """Each of the scheduler's job stores in turn: the plan must behave the same over both."""
    if request.param == "memory":
        yield MemoryJobStore()
    else:
        sqlite = SqliteJobStore(":memory:")
        yield sqlite
        sqlite.close()

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator

import pytest
from _pytest.reports import TestReport
from hypothesis import settings as hypothesis_settings

from shared.topics import TopicRegistry
from tests.kafka_broker import kafka_broker

# Property tests judge results, never speed: on two shared cores a slow example is load, not a
# bug (hypothesis's default 200 ms deadline failed correct tests under a parallel run).
hypothesis_settings.register_profile("warta", deadline=None)
hypothesis_settings.load_profile("warta")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real broker for the whole session (see tests/kafka_broker.py for where it comes from)."""
    with kafka_broker() as bootstrap:
        yield bootstrap


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def topics(run_id: str) -> TopicRegistry:
    """Fresh topic names for one test."""
    return TopicRegistry(prefix=f"t{run_id}.", partitions=3)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, None]:
    """Where the promised checks are required (CI), a skip of one is a failure with its reason:
    locally a missing browser or package skips quietly; in CI it must not pass unseen."""
    outcome = yield
    report: TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and promised_skip_fails(item):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"a promised check was skipped, and WARTA_PROMISED_REQUIRED=1: {reason}"


def promised_skip_fails(item: pytest.Item) -> bool:
    return (
        item.get_closest_marker("promised") is not None and os.environ.get("WARTA_PROMISED_REQUIRED") == "1"
    )

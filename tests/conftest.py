from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared.topics import TopicRegistry
from tests.kafka_broker import kafka_broker


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

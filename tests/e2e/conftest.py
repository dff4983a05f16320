from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from shared.settings import ROOT
from warta.devrun import LocalSystem, free_listen_port


@dataclass(frozen=True)
class Keys:
    editor: str
    approver: str
    operator: str
    admin: str


def local_system(kafka_bootstrap: str, **env: str) -> Iterator[LocalSystem]:
    run = uuid.uuid4().hex[:8]
    var = ROOT / "var" / "test-e2e" / run
    local = LocalSystem(
        bootstrap=kafka_bootstrap,
        var=var,
        ingest_port=free_listen_port(),
        sandbox_port=free_listen_port(),
        topic_prefix=f"e2e{run}.",
        group_prefix=f"e2e{run}",
        ephemeral=True,
        extra_env={
            "WARTA_ENGAGEMENT_HORIZONS_S": "[2, 4, 6]",
            "WARTA_RETRY_BASE_S": "0.3",
            "WARTA_RETRY_CAP_S": "2",
            "WARTA_CALL_TIMEOUT_S": "3",
            "WARTA_PARTITIONS": "3",
            **env,
        },
    )
    try:
        local.start(timeout=90)
        yield local
    finally:
        local.stop()
    shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="module")
def system(kafka_bootstrap: str) -> Iterator[LocalSystem]:
    """The whole system as `make run` starts it, on fresh topics, groups and ports.

    Jobs fire at their not_before (the naive policy): these tests are about durability and
    control, not about slot choice (tests/e2e/test_learned_slots.py is).
    """
    yield from local_system(kafka_bootstrap, WARTA_POLICY="naive")


@pytest.fixture(scope="module")
def keys(system: LocalSystem) -> Keys:
    raw = json.loads(system.dev_keys_file.read_text())
    return Keys(**{role: raw[role]["key"] for role in ("editor", "approver", "operator", "admin")})

"""Shared by the system-level benchmarks: a broker of their own and a Warta system on it."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from shared.settings import ROOT
from tests.kafka_broker import own_broker as fresh_broker
from warta.devrun import LocalSystem, free_listen_port


@contextmanager
def own_broker(name: str) -> Iterator[str]:
    """KAFKA_BOOTSTRAP_SERVERS when set; otherwise a fresh broker on free ports, stopped and its
    data removed after (the tests' ``own_broker``)."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    with fresh_broker(f"bench-{name}", os.environ.get("KAFKA_HEAP", "2g")) as broker:
        yield broker.bootstrap


@contextmanager
def running_system(
    bootstrap: str, name: str, *, workers: int = 1, platforms: tuple[str, ...] = ("mastodon",), **env: str
) -> Iterator[tuple[LocalSystem, str, list[list[str]]]]:
    """The whole system with many accounts per platform (chaos's channel file); yields the system,
    an approver key and the channel ids per platform."""
    from bench.chaos import write_channels

    run = uuid.uuid4().hex[:6]
    var = ROOT / "var" / f"bench-{name}-{run}"
    var.mkdir(parents=True)
    source = var / "channels.yaml"
    ids = write_channels(source)
    system = LocalSystem(
        bootstrap=bootstrap,
        var=var / "system",
        ingest_port=free_listen_port(),
        sandbox_port=free_listen_port(),
        topic_prefix=f"{name}{run}.",
        group_prefix=f"{name}{run}",
        source_channels=source,
        ephemeral=True,
        workers=workers,
        platforms=platforms,
        extra_env={
            "WARTA_RATE_BURST": "1000000",
            "WARTA_RATE_PER_MINUTE": "100000000",
            "WARTA_LIST_RATE_BURST": "1000000",
            "WARTA_LIST_RATE_PER_MINUTE": "100000000",
            **env,
        },
    )
    try:
        system.start(timeout=120)
        key = json.loads(system.dev_keys_file.read_text())["approver"]["key"]
        yield system, key, ids
    finally:
        system.stop()
        shutil.rmtree(var, ignore_errors=True)


def item_body(text: str, channel: str, approved_at: str) -> dict[str, object]:
    return {
        "author": "rina",
        "approval": {"approved_by": "yuyun", "approved_at": approved_at},
        "priority": "urgent",
        "content": {"text": text},
        "targets": [{"channel": channel}],
    }


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

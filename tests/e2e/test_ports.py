"""A test system whose port is taken between choosing and binding it still starts (the console
lost its port once in CI): the service goes to a new port instead of failing the run."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.request
import uuid

import pytest

from shared.settings import ROOT
from warta.devrun import LocalSystem, free_listen_port

pytestmark = pytest.mark.e2e


def test_a_taken_console_port_moves_and_the_system_starts(kafka_bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8]
    var = ROOT / "var" / "test-e2e" / run
    with socket.socket() as squatter:
        taken = free_listen_port()
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        local = LocalSystem(
            bootstrap=kafka_bootstrap,
            var=var,
            ingest_port=free_listen_port(),
            sandbox_port=free_listen_port(),
            console_port=taken,
            topic_prefix=f"ports{run}.",
            group_prefix=f"ports{run}",
            ephemeral=True,
            platforms=("mastodon",),
        )
        try:
            local.start(timeout=90)
            assert local.console_port != taken
            assert local.procs["console"].poll() is None
        finally:
            local.stop()
    shutil.rmtree(var, ignore_errors=True)


def test_a_taken_inbox_port_moves_and_the_system_starts(kafka_bootstrap: str) -> None:
    run = uuid.uuid4().hex[:8]
    var = ROOT / "var" / "test-e2e" / run
    with socket.socket() as squatter:
        taken = free_listen_port()
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        local = LocalSystem(
            bootstrap=kafka_bootstrap,
            var=var,
            ingest_port=free_listen_port(),
            sandbox_port=free_listen_port(),
            inbox_port=taken,
            topic_prefix=f"ports{run}.",
            group_prefix=f"ports{run}",
            ephemeral=True,
            platforms=("mastodon",),
        )
        try:
            local.start(timeout=90)
            assert local.inbox_port != taken
            assert local.procs["inbox"].poll() is None
        finally:
            local.stop()
    shutil.rmtree(var, ignore_errors=True)


def test_a_taken_analytics_port_moves_and_the_worker_answers(kafka_bootstrap: str) -> None:
    """The analytics worker binds its port seconds after it starts (faust's web server): a port
    taken meanwhile moves it, and the console, which links to it, follows."""
    run = uuid.uuid4().hex[:8]
    var = ROOT / "var" / "test-e2e" / run
    with socket.socket() as squatter:
        taken = free_listen_port()
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        local = LocalSystem(
            bootstrap=kafka_bootstrap,
            var=var,
            ingest_port=free_listen_port(),
            sandbox_port=free_listen_port(),
            analytics_port=taken,
            topic_prefix=f"ports{run}.",
            group_prefix=f"ports{run}",
            ephemeral=True,
            platforms=("mastodon",),
        )
        try:
            local.start(timeout=90)
            deadline = time.monotonic() + 90
            while local.analytics_port == taken and time.monotonic() < deadline:
                time.sleep(0.5)
                local.wait_ready(30)  # notices the worker's exit and moves it
            assert local.analytics_port != taken
            answered = None
            while answered != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{local.analytics_port}/readyz", timeout=2
                    ) as r:
                        answered = r.status
                except OSError:
                    continue
            assert answered == 200
        finally:
            local.stop()
    shutil.rmtree(var, ignore_errors=True)

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


@pytest.mark.parametrize("service", ["console", "inbox", "analytics"])
def test_a_taken_port_moves_and_the_service_answers(kafka_bootstrap: str, service: str) -> None:
    """Each service with a port of its own. The analytics worker binds its port seconds after it
    starts (faust's web server): a port taken meanwhile moves it, and the console, which links to
    it, follows."""
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
            topic_prefix=f"ports{run}.",
            group_prefix=f"ports{run}",
            ephemeral=True,
            platforms=("mastodon",),
            # 0: a free port of the system's choosing
            console_port=taken if service == "console" else 0,
            inbox_port=taken if service == "inbox" else 0,
            analytics_port=taken if service == "analytics" else 0,
        )

        def port() -> int:
            moved: int = getattr(local, f"{service}_port")
            return moved

        try:
            local.start(timeout=90)
            deadline = time.monotonic() + 90
            while port() == taken and time.monotonic() < deadline:
                time.sleep(0.5)
                local.wait_ready(30)  # notices a worker's exit and moves it
            assert port() != taken
            assert _ready(port(), deadline) == 200
            assert local.procs[service].poll() is None
        finally:
            local.stop()
    shutil.rmtree(var, ignore_errors=True)


def _ready(port: int, deadline: float) -> int | None:
    """The service's /readyz status, asked again until it is 200 or ``deadline`` passes."""
    answered = None
    while answered != 200 and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                answered = r.status
        except OSError:
            time.sleep(0.5)
    return answered

"""``warta dev`` restarting its sandbox (a crash revived, ``make run`` again over var/): the new
sandbox process numbers its posts past the old one's, as a real platform never reuses an id."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warta.devrun import LocalSystem, ensure_secrets, free_listen_port

pytestmark = pytest.mark.integration


@pytest.fixture
def system(tmp_path: Path) -> Iterator[LocalSystem]:
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path, sandbox_port=free_listen_port())
    system.logs.mkdir(parents=True)
    ensure_secrets(system.sandbox_accounts_file, [("x-demo", "x")])
    yield system
    system.stop()


def _post_on_x(system: LocalSystem, token: str, text: str) -> int:
    deadline = time.monotonic() + 30
    while True:  # the process is starting: wait until it answers
        try:
            with urllib.request.urlopen(f"{system.sandbox_url}/healthz", timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.2)
    request = urllib.request.Request(
        f"{system.sandbox_url}/x/2/tweets",
        data=json.dumps({"text": text}).encode(),  # X refuses a duplicate
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return int(json.load(resp)["data"]["id"])


def test_a_sandbox_restarted_by_the_launcher_never_reuses_a_post_id(system: LocalSystem) -> None:
    started = [datetime(2026, 12, 8, 9, 30, tzinfo=UTC)]
    system.clock = lambda: started[0]
    token = json.loads(system.sandbox_accounts_file.read_text())["x-demo"]["token"]
    args = ("sandbox", "--port", str(system.sandbox_port), "--secrets", str(system.sandbox_accounts_file))
    system._spawn("sandbox", *args)
    first = [_post_on_x(system, token, "Jadwal vaksin"), _post_on_x(system, token, "Jadwal posyandu")]
    system.kill("sandbox")
    started[0] += timedelta(seconds=30)
    system.restart("sandbox")  # what ``revive`` does for a crashed sandbox
    again = _post_on_x(system, token, "Jadwal vaksin")
    assert again > max(first)

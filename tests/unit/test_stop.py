"""What `make run`, `make test` and `make bench` leave running is stopped by `make stop`, and the
test session's WordPress is this checkout's own.

Stand-ins (``sleep``, a static HTTP server) take the place of Kafka, PHP and MariaDB: the scripts
only act on the pid files under var/ and on what answers on the site's port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import ROOT
from warta.devrun import LocalSystem, free_listen_port

SETUP = ROOT / "deploy" / "wordpress" / "setup.sh"


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def stand_in(
    procs: list[subprocess.Popen[bytes]], pidfile: Path, argv: tuple[str, ...] = ("sleep", "300")
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, start_new_session=True)
    procs.append(proc)
    # Reaped as soon as it ends: a zombie child would still pass the scripts' `kill -0` test.
    threading.Thread(target=proc.wait, daemon=True).start()
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{proc.pid}\n")
    return proc


def gone(proc: subprocess.Popen[bytes], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return True
        time.sleep(0.05)
    return False


def test_make_stop_stops_every_broker_and_the_test_site_of_this_checkout(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> None:
    var = tmp_path / "var"
    ours = [
        stand_in(spawned, var / "kafka-9092" / "broker.pid"),  # make run
        stand_in(spawned, var / "test-kafka" / "kafka-19092" / "broker.pid"),  # an interrupted make test
        stand_in(spawned, var / "bench-ingest" / "kafka-23456" / "broker.pid"),  # an interrupted bench
        stand_in(spawned, var / "wordpress" / "php.pid"),
        stand_in(spawned, var / "wordpress" / "mysqld.pid"),
    ]
    # A `warta dev` killed outright leaves its services (warta/devrun.py records them).
    service = (sys.executable, "-c", "import time; time.sleep(300)", "warta.cli", "scheduler")
    ours.append(stand_in(spawned, var / "pids" / "scheduler.pid", service))
    ours.append(stand_in(spawned, var / "test-e2e" / "abc" / "pids" / "ingest.pid", service))
    elsewhere = stand_in(spawned, tmp_path / "other-checkout" / "var" / "kafka-9092" / "broker.pid")
    # A stale pid file whose number now belongs to another program: that program is not stopped.
    unrelated = stand_in(spawned, var / "pids" / "console.pid")
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "stop"],
        env=dict(os.environ, WARTA_VAR=str(var)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert all(gone(proc) for proc in ours), done.stdout
    assert elsewhere.poll() is None  # another checkout's broker is not ours to stop
    assert unrelated.poll() is None
    assert not list(var.rglob("*.pid"))


@pytest.fixture
def site_on_port(
    tmp_path: Path, spawned: list[subprocess.Popen[bytes]]
) -> tuple[int, subprocess.Popen[bytes]]:
    """Something that answers GET /wp-json/ with 200, as a running WordPress does."""
    docroot = tmp_path / "docroot"
    (docroot / "wp-json").mkdir(parents=True)
    (docroot / "wp-json" / "index.html").write_text("{}")
    port = free_listen_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(docroot)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    spawned.append(server)
    import urllib.request

    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/wp-json/", timeout=1):
                return port, server
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def setup_sh(var: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WARTA_VAR=str(var), WARTA_WP_PORT=str(port))
    return subprocess.run([str(SETUP), *args], env=env, capture_output=True, text=True, timeout=60)


def test_another_checkouts_site_on_the_port_is_not_ours(
    tmp_path: Path, site_on_port: tuple[int, subprocess.Popen[bytes]]
) -> None:
    port, _ = site_on_port
    assert setup_sh(tmp_path / "var", port, "status").returncode == 1


def test_the_session_leaves_a_site_that_ran_before_running_and_keeps_its_exit_status(
    tmp_path: Path, site_on_port: tuple[int, subprocess.Popen[bytes]]
) -> None:
    port, server = site_on_port
    var = tmp_path / "var"
    (var / "wordpress").mkdir(parents=True)
    (var / "wordpress" / "php.pid").write_text(f"{server.pid}\n")  # this checkout's site
    assert setup_sh(var, port, "status").returncode == 0
    assert setup_sh(var, port, "with", "true").returncode == 0
    assert setup_sh(var, port, "with", "sh", "-c", "exit 3").returncode == 3
    assert server.poll() is None


def test_make_test_runs_the_session_through_the_site_wrapper() -> None:
    """`make test` must not start the site as a separate prerequisite: nothing would stop it."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "wordpress" not in recipe.splitlines()[0]
    assert "deploy/wordpress/setup.sh with $(BIN)/pytest" in recipe


def test_the_local_run_records_its_processes_while_they_run(tmp_path: Path) -> None:
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path / "var")
    system.logs.mkdir(parents=True)
    system._spawn("cli-help", "--help")
    pidfile = system.pids / "cli-help.pid"
    assert pidfile.read_text().strip() == str(system.procs["cli-help"].pid)
    system._stop_processes()
    assert not pidfile.exists()

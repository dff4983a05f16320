"""``warta dev`` on a machine where its ports are taken: a taken port moves (and the banner says
where), the processes restarted by a move are not mistaken for crashes, and a taken sandbox port
is refused with the variable to set."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from warta import devrun
from warta.dev_welcome import cli_env
from warta.devrun import LocalSystem


class FakeProc:
    """A process as ``subprocess.Popen`` shows it: running (None) or its exit code."""

    def __init__(self, code: int | None) -> None:
        self.returncode = code
        self.pid = 0

    def poll(self) -> int | None:
        return self.returncode


def _procs(**procs: FakeProc) -> dict[str, subprocess.Popen[bytes]]:
    """``LocalSystem.procs`` of fakes (they answer what the system asks of a process)."""
    return cast(dict[str, subprocess.Popen[bytes]], procs)


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _cli_env(system: LocalSystem) -> str:
    urls = {"ingest": system.ingest_url, "console": system.console_url}
    return cli_env(urls, system.var, system.channels_file, system.moves)


def _system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bind_error_in: str) -> LocalSystem:
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / f"{bind_error_in}.log").write_text("OSError: [Errno 98] address already in use\n")

    def kill(name: str, sig: int = signal.SIGKILL) -> None:
        system.procs[name].returncode = -sig if sig != signal.SIGTERM else 0  # the console exits 0

    def restart(name: str) -> None:
        system.procs.update(_procs(**{name: FakeProc(None)}))

    monkeypatch.setattr(system, "kill", kill)
    monkeypatch.setattr(system, "restart", restart)
    return system


def test_ingest_moved_off_a_taken_port_does_not_abort_on_the_console_it_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = _system(tmp_path, monkeypatch, "ingest")
    system.procs = _procs(ingest=FakeProc(1), console=FakeProc(None), scheduler=FakeProc(None))
    old_console = system.procs["console"]
    system._check_exits()
    assert system.ingest_port != 8080
    assert system.moves["ingest"] == (8080, system.ingest_port)
    assert old_console.returncode == 0  # stopped to learn ingest's new URL, and started again
    assert all(proc.poll() is None for proc in system.procs.values())
    assert f"WARTA_URL={system.ingest_url}" in _cli_env(system)


def test_a_taken_metrics_port_moves_instead_of_ending_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = _system(tmp_path, monkeypatch, "publisher-mastodon")
    system.procs = _procs(**{"publisher-mastodon": FakeProc(1)})
    system.metric_ports = {"publisher-mastodon": 9110}
    system._check_exits()
    assert system.metric_ports["publisher-mastodon"] != 9110
    assert system.procs["publisher-mastodon"].poll() is None
    assert "publisher-mastodon metrics: 9110 was taken" in _cli_env(system)


def test_a_crash_that_is_no_bind_error_still_ends_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = _system(tmp_path, monkeypatch, "other")
    (tmp_path / "logs" / "scheduler.log").write_text("ImportError: no module named nope\n")
    system.procs = _procs(scheduler=FakeProc(1))
    system.metric_ports = {"scheduler": 9101}
    with pytest.raises(RuntimeError, match="ImportError"):
        system._check_exits()


def test_ports_taken_before_the_start_are_moved_up_front(tmp_path: Path, held_port: int) -> None:
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path, ingest_port=held_port)
    system._move_taken_ports()
    assert system.ingest_port != held_port
    assert devrun.port_is_free(system.ingest_port)
    assert system.moves == {"ingest": (held_port, system.ingest_port)}


def test_a_taken_sandbox_port_is_refused_naming_the_variable(
    held_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WARTA_SANDBOX_PORT", str(held_port))
    monkeypatch.setattr(LocalSystem, "start", lambda self, timeout=60.0: pytest.fail("started anyway"))
    assert devrun.main() == 1
    err = capsys.readouterr().err
    assert f"port {held_port} (the sandbox) is taken" in err
    assert "WARTA_SANDBOX_PORT" in err

"""The local runner reads what a dead service wrote in this run only: a log appended to across
runs keeps yesterday's bind error, which must not make today's crash look like a taken port."""

from __future__ import annotations

from pathlib import Path

from warta.log_tail import log_since


def test_only_this_runs_lines_are_read_and_at_most_the_last_bytes(tmp_path: Path) -> None:
    log = tmp_path / "inbox.log"
    log.write_bytes(b"OSError: [Errno 98] address already in use\n")
    start = log.stat().st_size
    with log.open("ab") as out:
        out.write(b"x" * 500 + b"\nImportError: no module named nope\n")
    this_run = log_since(log, start, 100_000)
    assert "address already in use" not in this_run
    assert this_run.endswith("ImportError: no module named nope\n")
    assert len(log_since(log, start, 40)) == 40
    assert log_since(tmp_path / "missing.log", 0, 10) == ""


def test_a_log_truncated_since_the_run_began_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "inbox.log"
    log.write_bytes(b"yesterday\n" * 50)
    start = log.stat().st_size
    log.write_bytes(b"Traceback: the crash of this run\n")  # rotated: shorter than where the run began
    assert log_since(log, start, 100_000) == "Traceback: the crash of this run\n"
    assert log_since(log, start, 10) == " this run\n"

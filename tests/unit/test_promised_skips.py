"""A promised check that skips fails where WARTA_PROMISED_REQUIRED=1 (CI), and only there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.settings import ROOT

CASE = """
import pytest

@pytest.mark.promised
def test_promised():
    pytest.skip("no browser here")

def test_ordinary():
    pytest.skip("not promised")
"""


def run(tmp_path: Path, required: bool) -> str:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_runtest_makereport  # noqa: F401\n"
    )
    (tmp_path / "test_case.py").write_text(CASE)
    env = {k: v for k, v in os.environ.items() if k != "WARTA_PROMISED_REQUIRED"}
    env["PYTHONPATH"] = str(ROOT)
    if required:
        env["WARTA_PROMISED_REQUIRED"] = "1"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            "-o",
            "markers=promised: x",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    return done.stdout


@pytest.mark.parametrize(("required", "summary"), [(False, "2 skipped"), (True, "1 failed, 1 skipped")])
def test_a_promised_skip_fails_only_where_required(tmp_path: Path, required: bool, summary: str) -> None:
    out = run(tmp_path, required)
    assert summary in out, out
    if required:
        assert "a promised check was skipped" in out
        assert "no browser here" in out


def test_every_browser_test_is_promised() -> None:
    """A test that skips without Chromium checks a page people use: CI may not skip it."""
    tests = Path(__file__).resolve().parents[1]
    unpromised = [
        str(path.relative_to(tests))
        for path in sorted(tests.rglob("test_*.py"))
        if "chromium_path() is None" in (text := path.read_text(encoding="utf-8"))
        and "pytest.mark.promised" not in text
    ]
    assert not unpromised

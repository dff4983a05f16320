"""Rules the code keeps that no linter checks: no private aiokafka client outside its one wrapper,
and no issue numbers, session numbers or machine paths in code, docs or deploy files."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from shared.settings import ROOT

# The one module allowed to reach aiokafka's private client (shared.kafka_metadata says why).
CLIENT_WRAPPER = "shared/kafka_metadata.py"
SELF = "tests/unit/test_code_hygiene.py"  # names the patterns it looks for


def tracked(*parts: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *parts],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def offending(paths: list[Path], pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for path in paths:
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    return hits


def test_only_one_module_reaches_into_aiokafkas_private_client() -> None:
    code = [
        p for p in tracked("services", "shared", "warta", "sandbox", "bench", "tests") if p.suffix == ".py"
    ]
    code = [p for p in code if p.relative_to(ROOT).as_posix() not in {CLIENT_WRAPPER, SELF}]
    # ``self._client`` is a class's own attribute; any other ``x._client`` is aiokafka's.
    assert offending(code, re.compile(r"(?<!self)\._client\b")) == []


PROSE = (
    "services",
    "shared",
    "warta",
    "bench",
    "tests",
    "docs",
    "deploy",
    "README.md",
    "Makefile",
    "pyproject.toml",
)


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("an issue number", r"(?i)\bissues? #?\d+\b"),
        ("a session number", r"(?i)\bsessions? \d+\b"),
        ("a machine path", r"/work/|/home/\w|/Users/\w"),
    ],
)
def test_no_issue_numbers_or_machine_paths(what: str, pattern: str) -> None:
    files = [p for p in tracked(*PROSE) if p.suffix not in {".pem", ".png", ".jpg", ".ico"}]
    files = [p for p in files if p.relative_to(ROOT).as_posix() != SELF]
    assert offending(files, re.compile(pattern)) == [], f"{what} in the repository"

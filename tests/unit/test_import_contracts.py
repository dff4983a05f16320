"""The import contracts in pyproject.toml hold on this tree, and a deliberate violation breaks them.

`make lint` runs lint-imports; these tests prove the contracts are live (an unmatched or mistyped
contract would pass everything) by running the tool on a scratch copy with one forbidden import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_tree(target: Path) -> Path:
    for package in ("services", "shared", "warta", "sandbox"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    # lint-imports puts its working directory first on sys.path, so the copy is what it reads.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return _copy_tree(tmp_path)


def test_the_tree_keeps_every_contract(scratch: Path) -> None:
    result = _lint(scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        (
            "services/publisher/decide.py",
            "import aiokafka  # noqa",
            "Pure cores import no I/O library BROKEN",
        ),
        (
            "services/scheduler/policy/rules.py",
            "import aiohttp.web  # noqa",
            "Pure cores import no I/O library BROKEN",
        ),
        (
            "services/scheduler/router.py",
            "import services.publisher.worker  # noqa",
            "Services never import each other BROKEN",
        ),
        (
            "services/inbox/app.py",
            "import services.analytics.report  # noqa",
            "Services never import each other BROKEN",
        ),
        (
            # The inbox reads tokens through shared/credentials; the publisher's own credential
            # code (the refresher's wiring) is as closed to it as any other service's.
            "services/inbox/app.py",
            "import services.publisher.credentials.wiring  # noqa",
            "Services never import each other BROKEN",
        ),
        (
            "services/analytics/report.py",
            "import services.console.view  # noqa",
            "Services never import each other BROKEN",
        ),
        (
            "services/ingest/writer.py",
            "import warta.cli  # noqa",
            "Services import neither sandbox/ nor warta/ BROKEN",
        ),
        (
            "services/publisher/credentials/commands.py",
            "import sandbox.oauth  # noqa",
            "Services import neither sandbox/ nor warta/ BROKEN",
        ),
        (
            "sandbox/mastodon.py",
            "import services.publisher.adapters.mastodon  # noqa",
            "sandbox/ imports no service and nothing of warta/ BROKEN",
        ),
        (
            "sandbox/base.py",
            "import warta.devrun  # noqa",
            "sandbox/ imports no service and nothing of warta/ BROKEN",
        ),
        (
            "shared/codec.py",
            "import services.ingest.writer  # noqa",
            "shared/ imports no service, sandbox/ or warta/ BROKEN",
        ),
        (
            "shared/credentials/vault.py",
            "import services.publisher.credentials.refresher  # noqa",
            "shared/ imports no service, sandbox/ or warta/ BROKEN",
        ),
        (
            "shared/events.py",
            "import sandbox.base  # noqa",
            "shared/ imports no service, sandbox/ or warta/ BROKEN",
        ),
        (
            "shared/topics.py",
            "import warta.cli  # noqa",
            "shared/ imports no service, sandbox/ or warta/ BROKEN",
        ),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(
    scratch: Path, module: str, line: str, contract: str
) -> None:
    _append(scratch / module, line)
    result = _lint(scratch)
    assert result.returncode != 0
    assert contract in result.stdout, result.stdout + result.stderr

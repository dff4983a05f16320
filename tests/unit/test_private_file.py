"""Secrets files are the owner's alone from their first byte, and a write never leaves half a file."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.private_file import write_private
from warta.devrun import ensure_secrets


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: a file created without an explicit mode is world-readable."""
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


class ChmodRefused(OSError):
    pass


def _refuse_chmod(self: Path, mode: int, **kwargs: object) -> None:
    raise ChmodRefused(f"chmod {mode:o} {self} refused")


@pytest.mark.usefixtures("open_umask")
def test_sandbox_secrets_are_created_private_not_chmod_ed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A filesystem that refuses chmod stands for the moment between a write and its chmod:
    # whatever is on disk must already be 0600.
    monkeypatch.setattr(Path, "chmod", _refuse_chmod)
    path = tmp_path / "var" / "secrets.json"
    ensure_secrets(path, [("mastodon-demo", "mastodon"), ("wp", "wordpress")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"mastodon-demo", "wp"}
    assert data["wp"]["username"] == "warta"


@pytest.mark.usefixtures("open_umask")
def test_rewriting_keeps_the_file_private_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{}")
    path.chmod(0o644)  # an older, readable copy
    write_private(path, '{"a": 1}')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == '{"a": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"]

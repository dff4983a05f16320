"""``--json`` on every command that prints data: scripts read one JSON document on stdout."""

from __future__ import annotations

import argparse
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from warta.cli import build_parser, main

# The commands that run a service (or the whole local system) print logs, not data.
RUNS_A_SERVICE = {"ingest", "scheduler", "publisher", "console", "analytics", "dev"}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def _options(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> set[str]:
    for name in path:
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = action.choices[name]
    return {option for a in parser._actions for option in a.option_strings}


def test_every_command_that_prints_data_takes_json() -> None:
    parser = build_parser()
    leaves = list(_leaves(parser))
    assert len(leaves) > 25
    lacking = [
        " ".join(path)
        for path in leaves
        if path[0] not in RUNS_A_SERVICE and not {"--json", "--format"} & _options(parser, path)
    ]
    assert not lacking


def test_generate_key_says_where_the_key_went_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "vault.key"
    assert main(["credentials", "generate-key", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"path": str(out)}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert main(["credentials", "generate-key", str(out), "--json"]) == 2  # never overwritten
    assert capsys.readouterr().out == ""

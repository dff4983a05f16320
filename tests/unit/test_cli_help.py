"""The CLI's help (every command's description and help strings, argparse's own words) and its
usage errors speak Bahasa Indonesia on an ``id`` locale or with ``--lang id``, English otherwise;
and no message the CLI prints is written in English only."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from warta import cli_messages
from warta.cli import build_parser, main
from warta.cli_help import HELP, argparse_error, english_texts
from warta.cli_messages import MESSAGES

WARTA = Path(__file__).resolve().parents[2] / "warta"


@pytest.fixture(autouse=True)
def _fresh_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    yield
    cli_messages._chosen.clear()


def test_every_help_text_of_every_command_has_its_indonesian_sentence() -> None:
    """Walks the whole parser as built: a new command or option without Indonesian fails here."""
    texts = english_texts(build_parser())
    assert len(texts) > 70
    missing = sorted(t for t in texts if t not in HELP)
    assert not missing
    for english in texts:
        assert HELP[english] != english or english in {"options"}, english


def test_no_indonesian_sentence_is_left_without_its_english() -> None:
    assert not set(HELP) - english_texts(build_parser())


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["-h"], ["inbox", "list", "-h"], ["channels", "connect", "-h"], ["report", "-h"], ["import", "-h"]],
)
def test_the_help_follows_the_locale(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    english = _help(argv, capsys)
    assert english.startswith("usage: warta")
    assert "show this help message and exit" in english
    monkeypatch.setenv("LANG", "id_ID.UTF-8")
    indonesian = _help(argv, capsys)
    assert indonesian.startswith("penggunaan: warta")
    assert "tampilkan bantuan ini lalu keluar" in indonesian
    assert "options:" not in indonesian
    assert "show this help" not in indonesian


def test_the_flag_wins_over_the_locale_wherever_it_is_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LC_ALL", "id_ID.UTF-8")
    assert "penggunaan:" in _help(["status", "-h"], capsys)
    assert _help(["--lang", "en", "status", "-h"], capsys).startswith("usage:")
    assert _help(["status", "-h", "--lang=en"], capsys).startswith("usage:")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    assert "kunci API (bawaan: WARTA_KEY)" in _help(["status", "--lang", "id", "-h"], capsys)


def test_a_usage_error_is_said_in_the_locales_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "id_ID.UTF-8")
    with pytest.raises(SystemExit) as done:
        main(["publisher"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("penggunaan: warta publisher")
    assert "warta publisher: galat: argumen berikut wajib diisi: --platform" in err


@pytest.mark.parametrize(
    ("english", "indonesian"),
    [
        ("the following arguments are required: --platform", "argumen berikut wajib diisi: --platform"),
        ("unrecognized arguments: --colour", "argumen tidak dikenal: --colour"),
        (
            "argument --lang: invalid choice: 'fr' (choose from 'en', 'id')",
            "argumen --lang: pilihan 'fr' tidak dikenal (pilih dari 'en', 'id')",
        ),
        ("argument --port: invalid int value: 'x'", "argumen --port: nilai int tidak valid: 'x'"),
        ("argument --day: expected one argument", "argumen --day: memerlukan satu nilai"),
        ("something argparse may say one day", "something argparse may say one day"),
    ],
)
def test_argparses_errors_in_indonesian(english: str, indonesian: str) -> None:
    assert argparse_error(english, "en") == english
    assert argparse_error(english, "id") == indonesian


# A line the CLI prints is said through ``say`` (warta/cli_messages.py) unless it holds only data:
# placeholders, punctuation and the program's name; errors raised for it are said the same way.
_DATA_WORDS = {
    "warta",
    "dev",
    "report",
    "priority",
    "author",
    "approved_by",
    "partitions",
    "replication",
    "key",
}


def _english_literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
            continue
        if node.func.id not in ("print", "CliError", "RuntimeError", "TimeoutError", "ValueError"):
            continue
        first = node.args[0]
        parts = first.values if isinstance(first, ast.JoinedStr) else [first]
        text = " ".join(p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str))
        words = set(re.findall(r"[a-z_]{3,}", text.lower())) - _DATA_WORDS
        if words:
            yield node.lineno, text


def test_the_cli_prints_no_sentence_in_english_only() -> None:
    found = [
        f"{path.name}:{line}: {text!r}"
        for path in sorted(WARTA.glob("*.py"))
        for line, text in _english_literals(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found
    assert "report_refused" in MESSAGES


def test_warta_devs_welcome_follows_the_language() -> None:
    from warta.dev_welcome import welcome

    urls = {
        s: f"http://127.0.0.1:80{n}"
        for n, s in enumerate(("ingest", "console", "analytics", "inbox", "sandbox"))
    }
    keys = {"operator": {"key": "k-op", "person": "opa"}, "approver": {"key": "k-ap", "person": "yuyun"}}
    texts = {}
    for lang in ("en", "id"):
        cli_messages.use(lang)
        texts[lang] = welcome(urls, keys, "var/logs", "var/dev-keys.json")
        assert "Bearer k-ap" in texts[lang]
        assert "k-op" in texts[lang]
        assert "http://127.0.0.1:802/reach" in texts[lang]
        assert '"approved_by": "yuyun"' in texts[lang]
    assert "Warta is running" in texts["en"]
    assert "Warta berjalan" in texts["id"]
    assert cli_messages.say("dev_stopping") == "warta dev: menghentikan…"

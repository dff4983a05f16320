"""The CLI speaks Bahasa Indonesia on an ``id`` locale or with ``--lang id``, English otherwise:
its own messages, its table headings, and the language it asks the services to refuse in."""

from __future__ import annotations

import io
import json
import string
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from warta import cli_messages
from warta.cli import main
from warta.cli_messages import HEADINGS, MESSAGES, language_of, use
from warta.ops_client import table


@pytest.fixture(autouse=True)
def _fresh_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    yield
    cli_messages._chosen.clear()


@pytest.mark.parametrize(
    ("flag", "env", "lang"),
    [
        (None, {}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {"LANG": "id_ID.UTF-8"}, "id"),
        (None, {"LANG": "en_US.UTF-8", "LC_ALL": "id_ID.UTF-8"}, "id"),
        (None, {"LANG": "id_ID.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "id"}, "id"),
        ("id", {"LANG": "en_US.UTF-8"}, "id"),
        ("en", {"LANG": "id_ID.UTF-8"}, "en"),
    ],
)
def test_the_language_is_the_flag_else_the_locale(flag: str | None, env: dict[str, str], lang: str) -> None:
    assert language_of(flag, env) == lang


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_is_written_in_both_languages_with_the_same_parameters() -> None:
    for key, (english, indonesian) in MESSAGES.items():
        assert english != indonesian, key
        assert _fields(english) == _fields(indonesian), key
    assert all(h.strip() for h in HEADINGS.values())


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["submit", "missing.json", "--key", "k"], {}, "cannot read missing.json"),
        (["--lang", "id", "submit", "missing.json", "--key", "k"], {}, "tidak bisa membaca missing.json"),
        (["submit", "missing.json", "--key", "k", "--lang", "id"], {}, "tidak bisa membaca missing.json"),
        (["submit", "missing.json", "--key", "k"], {"LANG": "id_ID.UTF-8"}, "tidak bisa membaca"),
        (["--lang", "en", "submit", "missing.json", "--key", "k"], {"LANG": "id_ID.UTF-8"}, "cannot read"),
        (["status", "abc"], {"LANG": "id_ID.UTF-8"}, "tidak ada kunci API"),
        (["status", "abc"], {}, "no API key"),
    ],
)
def test_the_cli_errors_follow_the_language(
    argv: list[str],
    env: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WARTA_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    assert expected in capsys.readouterr().err


def test_table_headings_follow_the_language() -> None:
    out = io.StringIO()
    use("id")
    table([["x-demo", "published"]], ["CHANNEL", "STATE"], out)
    use("en")
    table([["x-demo", "published"]], ["CHANNEL", "STATE"], out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["KANAL", "STATUS"]
    assert lines[2].split() == ["CHANNEL", "STATE"]


class _Refusing(BaseHTTPRequestHandler):
    """Ingest refusing every request, in the language it was asked for."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        lang = self.headers.get("Accept-Language")
        self.seen.append(lang)
        message = "tidak ada konten 'abc'" if lang == "id" else "no content 'abc'"
        body = json.dumps(
            {"errors": [{"channel": None, "field": None, "rule": "not_found", "message": message}]}
        )
        self.send_response(404)
        self.send_header("Content-Type", "application/problem+json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_ingest() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("flag", "header", "refused", "message"),
    [
        ("en", "en", "status: refused (404)", "no content 'abc'"),
        ("id", "id", "status: ditolak (404)", "tidak ada konten"),
    ],
)
def test_the_cli_asks_the_services_in_its_language(
    refusing_ingest: str,
    flag: str,
    header: str,
    refused: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _Refusing.seen.clear()
    assert main(["--lang", flag, "status", "abc", "--key", "k", "--url", refusing_ingest]) == 1
    err = capsys.readouterr().err
    assert _Refusing.seen == [header]
    assert refused in err
    assert message in err

"""``warta report`` reads the analytics API's refusals as the API writes them: RFC 9457 problem
details, the sentence in the language the CLI asked for (a loopback server, no broker)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import orjson
import pytest

from shared.http_errors import said_error
from shared.messages import negotiate, said
from shared.problems import PROBLEM_JSON, problem
from warta.ops_client import EXIT_REFUSED, CliError
from warta.report import fetch_report


class _Refusing(BaseHTTPRequestHandler):
    """Answers every GET as the analytics API answers a bad ``weeks``."""

    def do_GET(self) -> None:
        lang = negotiate(self.headers.get("Accept-Language"))
        bad = said("bad_query.whole", name="weeks", raw="x")
        body = orjson.dumps(problem(400, [said_error(None, None, bad)], lang, "/v1/report"))
        self.send_response(400)
        self.send_header("Content-Type", PROBLEM_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test reads the answer, not the server's log


@pytest.fixture
def api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [("en", "weeks must be a whole number, not 'x'"), ("id", "weeks harus bilangan bulat, bukan 'x'")],
)
def test_a_refused_report_shows_the_problems_sentence_in_the_clis_language(
    api: str, lang: str, sentence: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("warta.report.current", lambda: lang)
    with pytest.raises(CliError) as refused:
        fetch_report(api, {"week": "2026-W49", "weeks": "x"})
    assert refused.value.code == EXIT_REFUSED
    assert "(400)" in str(refused.value)
    assert sentence in str(refused.value)

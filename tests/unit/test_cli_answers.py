"""What the operator commands make of the services' answers, from stateful fakes of the routes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from warta import cli_ops
from warta.cli import build_parser, main
from warta.ops_client import EXIT_UNREACHABLE, Answer, Client, CliError

INGEST, CONSOLE = "http://ingest.test", "http://console.test"


@dataclass(frozen=True)
class FakeServices(Client):
    """Routes answered from a table; a base URL in ``down`` does not answer at all."""

    routes: dict[tuple[str, str], Answer] = field(default_factory=dict)
    down: frozenset[str] = frozenset()

    def call(
        self, method: str, url: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Answer:
        if any(url.startswith(base) for base in self.down):
            raise CliError(f"cannot reach {url}", EXIT_UNREACHABLE)
        return self.routes[(method, url)]


def use(monkeypatch: pytest.MonkeyPatch, fake: FakeServices) -> None:
    monkeypatch.setattr(cli_ops, "client_of", lambda args: fake)


def test_replaying_a_consumer_s_letter_says_where_the_record_went(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The console's answer for a record a consumer's handler refused: no job, a topic.
    written = Answer(202, {"id": "L1", "replayed_to": "warta.publish.x", "partition": 2, "accepted": True})
    use(
        monkeypatch,
        FakeServices(INGEST, CONSOLE, "k", routes={("POST", f"{CONSOLE}/v1/dead/L1/replay"): written}),
    )
    assert main(["dead", "replay", "L1", "--key", "k"]) == 0
    assert "back on warta.publish.x (partition 2)" in capsys.readouterr().out


def test_channels_are_listed_when_the_console_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = {
        "channels": [{"channel": "x-demo", "platform": "x", "timezone": "Asia/Makassar", "paused": None}]
    }
    routes = {("GET", f"{INGEST}/v1/channels"): Answer(200, listed)}
    use(monkeypatch, FakeServices(INGEST, CONSOLE, "k", routes=routes, down=frozenset({CONSOLE})))
    assert main(["channels", "--key", "k"]) == 0
    out, err = capsys.readouterr()
    assert "x-demo" in out
    assert "Asia/Makassar" in out
    assert "the console did not answer" in err


@pytest.mark.parametrize(
    ("argv", "lang"),
    [(["--lang", "id", "report"], "id"), (["report", "--lang", "id"], "id"), (["report"], None)],
)
def test_the_report_s_language_is_the_cli_s_unless_it_names_its_own(
    argv: list[str], lang: str | None
) -> None:
    # None: the report takes the CLI's language (its --lang, else the locale's) when it runs.
    assert build_parser().parse_args(argv).lang == lang

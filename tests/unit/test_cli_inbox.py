"""``warta inbox``: how its arguments are read and how comments are printed (no network)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

from warta import cli, cli_messages
from warta.cli_inbox import list_query, render_entry, render_list, shown
from warta.cli_messages import use


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    use("en")
    yield
    cli_messages._chosen.clear()


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def test_without_a_subcommand_it_runs_the_service() -> None:
    args = parse("inbox")
    assert args.func is cli._inbox
    assert args.inbox_command is None


def test_the_comment_and_the_api_key_are_two_arguments() -> None:
    # They once shared one name: the API key replaced the comment and every command answered 404.
    args = parse("inbox", "show", "ib123", "--key", "secret")
    assert (args.comment, args.key) == ("ib123", "secret")
    args = parse(
        "--lang", "id", "inbox", "--key", "secret", "reply", "ib9", "--template", "thanks", "--in", "en"
    )
    assert (args.comment, args.key, args.template, args.reply_lang, args.lang) == (
        "ib9",
        "secret",
        "thanks",
        "en",
        "id",
    )


def test_the_list_filters_become_the_apis_query() -> None:
    args = parse("inbox", "list", "--channel", "x-demo", "--state", "new", "--post", "p 1", "--tag", "banjir")
    assert list_query(args) == "channel=x-demo&state=new&post=p+1&tag=banjir&limit=50"
    assert list_query(parse("inbox", "list", "--limit", "5"), "abc") == "limit=5&cursor=abc"


@pytest.mark.parametrize(
    "argv",
    [
        ("inbox", "reply", "ib1"),  # neither a text nor a template
        ("inbox", "reply", "ib1", "--text", "a", "--template", "b"),
        ("inbox", "hide", "ib1"),  # hiding needs a reason
        ("inbox", "delete", "ib1"),  # so does deleting
        ("inbox", "list", "--state", "lost"),
        ("inbox", "templates", "save", "thanks", "--en", "Thanks"),  # both languages
    ],
)
def test_incomplete_commands_are_refused_by_the_parser(argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Kapan surut?", None, "Kapan surut?"),
        ("\x1b[2Jclear", None, "?[2Jclear"),  # an escape sequence would rewrite the screen
        ("line\nbreak\ttab", None, "line break tab"),
        ("a\u202eb", None, "a?b"),  # a direction override would reorder what follows
        ("abcdefgh", 5, "abcd…"),
        (None, None, ""),
    ],
)
def test_citizens_text_is_made_safe_for_a_terminal(
    text: str | None, width: int | None, expected: str
) -> None:
    assert shown(text, width) == expected


def _entry(**over: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": "ib1",
        "channel": "facebook-demo",
        "state": "new",
        "action": "receive",
        "by": "inbox",
        "comment": {
            "post_id": "1_7",
            "author": {"id": "u1", "name": "Warga\x1b[31m"},
            "created_at": "2026-12-04T10:00:00+00:00",
            "text": "Kapan\nsurut?",
        },
    }
    entry.update(over)
    return entry


def test_the_list_prints_a_table_a_count_and_the_next_cursor(capsys: pytest.CaptureFixture[str]) -> None:
    render_list({"items": [_entry()], "total": 3, "waiting_over_target": 1, "next_cursor": "c2"})
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["KEY", "STATE", "CHANNEL"]
    assert "Kapan surut?" in out
    assert "\x1b" not in out
    assert "1 shown of 3; 1 waiting" in out
    assert "--cursor c2" in out


def test_a_comment_with_its_reply_in_bahasa_indonesia(capsys: pytest.CaptureFixture[str]) -> None:
    use("id")
    reply = {"text": "Besok pagi.", "drafted_by": "rina", "drafted_at": "2026-12-04T10:01:00+00:00"}
    render_entry(_entry(reply=reply, state="assigned", assignee="budi"))
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["KOLOM", "NILAI"]
    assert "PENANGGUNG JAWAB" in out
    assert "rina → (belum disetujui)" in out
    assert "\x1b" not in out


def test_a_hidden_comment_says_whether_the_platform_hid_it(capsys: pytest.CaptureFixture[str]) -> None:
    hide = {"status": "local", "detail": "Mastodon's API cannot hide a citizen's comment"}
    render_entry(_entry(state="hidden", platform_hide=hide, hidden_on_platform=False))
    out = capsys.readouterr().out
    assert "ON THE PLATFORM" in out
    assert "local · Mastodon's API cannot hide" in out

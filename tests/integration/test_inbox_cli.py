"""``warta inbox`` against a real inbox on the real broker: listing, showing, replying (with a
saved answer filled in for the comment, in the CLI's language, drafted on a four-eyes channel and
sent by an approver), assigning, hiding, closing; the
saved answers created, refused, listed and deleted; refusals printed with their rule and a
non-zero exit; and the saved answers read back from ``inbox.templates`` by a restarted inbox.

The CLI is synchronous (urllib): each command runs in a thread while the inbox serves on the loop.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import FakePost
from services.inbox.app import running_inbox
from services.inbox.template_api import TEMPLATES
from shared.events import InboxState
from shared.http_auth import KeyStore
from tests.integration.inbox_system import APP_SECRET, PAGE_ID, VERIFY_TOKEN, InboxSystem, inbox_system
from tests.integration.poison_kit import eventually
from warta import cli_messages
from warta.cli import main

pytestmark = pytest.mark.integration


class Terminal:
    """Runs ``warta`` as a person would, against the system's inbox, and keeps what it printed."""

    def __init__(self, system: InboxSystem, capsys: pytest.CaptureFixture[str]) -> None:
        self.system, self.capsys = system, capsys

    async def run(self, *argv: str, role: str = "editor", lang: str = "en") -> tuple[int, str, str]:
        inbox = self.system.url("/").rstrip("/")
        key = self.system.keys[role]["key"]
        full = ["--lang", lang, *argv, "--inbox-url", inbox, "--key", key]
        code = await asyncio.to_thread(main, full)
        out, err = self.capsys.readouterr()
        return code, out, err

    async def data(self, *argv: str, role: str = "editor") -> Any:
        code, out, err = await self.run(*argv, "--json", role=role)
        assert code == 0, err
        return json.loads(out)


async def _two_comments(system: InboxSystem) -> tuple[str, str]:
    subscribe = {
        "callback_url": system.url("/webhooks/meta"),
        "verify_token": VERIFY_TOKEN,
        "app_secret": APP_SECRET,
    }
    async with system.env.session.post(system.env.url("/facebook/_fake/subscriptions"), json=subscribe) as a:
        assert a.status == 201
    post = FakePost(
        f"{PAGE_ID}_9", "demo", "Jalan ditutup", datetime.now(UTC), url="u", data={"page": PAGE_ID}
    )
    await system.published("facebook-demo", "facebook", post)
    first = await system.comment("facebook", post.id, "Sampai kapan?", author="warga1")
    second = await system.comment("facebook", post.id, "\x1b[2Jiklan murah", author="bot")
    book = system.inbox.keeper.book
    await eventually(lambda: len(book) >= 2, "two comments in the inbox")
    keys = {e.comment.comment_id: e.comment.event_id for e in book.select()}
    return keys[first], keys[second]


async def test_an_operator_works_the_inbox_from_the_terminal(
    kafka_bootstrap: str,
    run_id: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "WARTA_KEY"):
        monkeypatch.delenv(name, raising=False)
    async with inbox_system(
        kafka_bootstrap, run_id, tmp_path, four_eyes=("facebook-demo",), publishing=("facebook",)
    ) as system:
        term = Terminal(system, capsys)
        question, spam = await _two_comments(system)
        book = system.inbox.keeper.book

        listed = await term.data("inbox", "list", "--channel", "facebook-demo", "--state", "new")
        assert {item["key"] for item in listed["items"]} == {question, spam}
        code, out, _ = await term.run("inbox", "list", "--limit", "1", "--all")
        assert code == 0
        assert question in out
        assert spam in out
        assert "\x1b" not in out  # a citizen's escape sequence never reaches the terminal
        untagged = await term.data("inbox", "list", "--tag", "banjir")  # no item here carries it
        assert untagged["items"] == []

        # Saved answers: placeholders checked, only operators, approvers and admins change them.
        code, _, err = await term.run(
            "inbox", "templates", "save", "thanks", "--en", "Hi {nama}", "--id", "Halo {name", role="operator"
        )
        assert code == 1
        assert "unknown_placeholder" in err
        assert "unmatched_brace" in err
        assert "text_id" in err
        args = (
            "inbox",
            "templates",
            "save",
            "thanks",
            "--en",
            "Thank you, {name}.",
            "--id",
            "Terima kasih, {name}.",
        )
        code, _, err = await term.run(*args)
        assert (code, "role" in err) == (1, True)
        code, out, _ = await term.run(*args, role="operator")
        assert code == 0
        assert "thanks" in out
        assert [t["name"] for t in (await term.data("inbox", "templates", "list"))["templates"]] == ["thanks"]

        # A reply from a saved answer, filled in for the comment in the CLI's language.
        # The channel needs four eyes: the editor's reply is a draft, an approver sends it.
        code, out, err = await term.run("inbox", "reply", question, "--template", "thanks", lang="id")
        assert code == 0, err
        assert "menunggu penyetuju" in out
        code, _, err = await term.run("inbox", "approve", question)
        assert code == 1
        assert "four_eyes" in err
        code, out, err = await term.run("inbox", "approve", question, role="approver", lang="id")
        assert code == 0, err
        assert "sekarang replying" in out
        entry = book.get(question)
        assert entry is not None
        assert entry.reply is not None
        name = entry.comment.author.name or "Bapak/Ibu"
        assert entry.reply.text == f"Terima kasih, {name}."
        await eventually(lambda: book.get(question).state == InboxState.ANSWERED, "the reply posted")  # type: ignore[union-attr]
        shown = await term.data("inbox", "show", question)
        assert (shown["state"], shown["reply"]["text"]) == ("answered", f"Terima kasih, {name}.")
        # A second answer needs the override: the API's refusal, with its rule, and exit 1.
        code, _, err = await term.run("inbox", "reply", question, "--text", "Lagi")
        assert code == 1
        assert "409" in err

        assert (await term.data("inbox", "assign", spam, "budi", "--reason", "cek"))["assignee"] == "budi"
        assert (await term.data("inbox", "hide", spam, "--reason", "spam"))["state"] == "hidden"
        code, out, _ = await term.run("inbox", "close", spam, "--reason", "iklan", lang="id")
        assert (code, "sekarang closed" in out) == (0, True)
        code, _, err = await term.run("inbox", "show", "facebook-demo:nothere")
        assert (code, "404" in err, "not_found" in err) == (1, True, True)

        # What was saved is on the compacted topic: a restarted inbox reads it back.
        await term.data(
            "inbox", "templates", "save", "later", "--en", "Soon.", "--id", "Segera.", role="operator"
        )
        await term.data("inbox", "templates", "delete", "later", "--reason", "unused", role="admin")
        code, _, err = await term.run("inbox", "templates", "show", "later")
        assert (code, "404" in err) == (1, True)
        async with running_inbox(
            system.settings, asyncio.Event(), keys=KeyStore.load(tmp_path / "keys.json")
        ) as second:
            saved = second.app[TEMPLATES].book
            assert [t.name for t in saved.all()] == ["thanks"]
            thanks = saved.get("thanks")
            assert thanks is not None
            assert (thanks.text_id, thanks.by) == (
                "Terima kasih, {name}.",
                system.keys["operator"]["person"],
            )
    cli_messages._chosen.clear()


async def test_an_operator_works_the_complaints_from_the_terminal(
    kafka_bootstrap: str,
    run_id: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``warta complaints``: a comment recorded, listed and shown, a refusal in Bahasa Indonesia
    with its rule, the complaint forwarded to the LAPOR! fake, answered and closed."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "WARTA_KEY"):
        monkeypatch.delenv(name, raising=False)
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        term = Terminal(system, capsys)
        question, _ = await _two_comments(system)
        made = await term.data("complaints", "record", question, "--reason", "lampu jalan", role="operator")
        assert made["state"] == "recorded"
        ident = made["complaint_id"]
        listed = await term.data("complaints", "list", "--state", "recorded")
        assert [c["complaint_id"] for c in listed["items"]] == [ident]
        code, out, _ = await term.run("complaints", "list", lang="id")
        assert code == 0
        assert "TENGGAT BERIKUTNYA" in out
        assert "1 pengaduan" in out
        code, _, err = await term.run(
            "complaints", "record", question, "--reason", "lagi", role="operator", lang="id"
        )
        assert code != 0
        assert "complaint_state" in err
        assert "sudah menjadi pengaduan" in err
        for verb, state in (("forward", "forwarded"), ("answer", "answered"), ("close", "closed")):
            done = await term.data("complaints", verb, ident, "--reason", "dinas PU", role="operator")
            assert done["state"] == state, verb
        shown = await term.data("complaints", "show", ident)
        assert (shown["state"], shown["tracking_id"]) == ("closed", "LAPOR-000001")

"""A reply or a reason that says nothing is refused by the inbox by the rule ingest refuses a
post's text by (``shared.blank_text``): zero-width spaces, a BOM, bidi marks or tags alone are
no answer to a citizen and no reason to hide their comment (no broker here: nothing is written)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.inbox.book import InboxBook, key_of
from services.inbox.errors import ReasonRequired, TextRequired
from services.inbox.http_api import create_app
from services.inbox.lifecycle import Command, decide
from shared.events import InboxAction
from tests.unit.inbox_app import NOW, editor_keys, new_entry, offline_deps

SAYING_NOTHING = [
    "\u200b",
    "\u200b\u200c\u200d",
    "\ufeff\u2060",
    "\u200e\u2066\u2069",
    "\U000e0041\U000e007f",
]


ASKED = [("reply", "text", "says nothing", "tidak mengatakan apa pun")] + [
    (verb, "reason", "needs a reason", "memerlukan alasan") for verb in ("hide", "close", "delete")
]


@pytest.mark.parametrize(("verb", "field", "said_en", "said_id"), ASKED)
async def test_a_reply_or_a_reason_of_invisible_characters_is_a_422_in_the_callers_language(
    tmp_path: Path, verb: str, field: str, said_en: str, said_id: str
) -> None:
    entry, book = new_entry("ib4", "c4"), InboxBook()
    book.apply(entry)
    app = create_app(offline_deps(tmp_path, book, editor_keys("rina")))
    async with TestClient(TestServer(app)) as client:
        asks = [(nothing, language) for nothing in SAYING_NOTHING for language in ("en", "id")]
        for nothing, language in asks:
            path, body = f"/v1/inbox/{key_of(entry)}/{verb}", {field: nothing}
            answer = await client.post(
                path, json=body, headers={"Authorization": "Bearer rina", "Accept-Language": language}
            )
            [error] = (await answer.json(content_type=None))["errors"]
            assert (answer.status, error["rule"]) == (422, "illegal_transition"), (verb, nothing)
            assert (said_en if language == "en" else said_id) in error["message"]
    assert book.get(key_of(entry)) == entry  # nothing changed


@pytest.mark.parametrize("action", [InboxAction.REPLY, InboxAction.DRAFT_REPLY])
def test_a_blank_reply_is_refused_and_one_visible_character_is_a_reply(action: InboxAction) -> None:
    for nothing in SAYING_NOTHING:
        with pytest.raises(TextRequired):
            decide(new_entry(), Command(action=action, by="rina", text=nothing), four_eyes=False, now=NOW)
    said = decide(
        new_entry(), Command(action=action, by="rina", text="\u200bok\u200b"), four_eyes=False, now=NOW
    )
    assert said.reply is not None
    assert said.reply.text == "\u200bok\u200b"


def test_a_blank_reason_is_refused_and_one_visible_character_is_a_reason() -> None:
    for nothing in SAYING_NOTHING:
        with pytest.raises(ReasonRequired):
            decide(
                new_entry(),
                Command(action=InboxAction.HIDE, by="rina", reason=nothing),
                four_eyes=False,
                now=NOW,
            )
    hidden = decide(
        new_entry(),
        Command(action=InboxAction.HIDE, by="rina", reason="\u200bspam"),
        four_eyes=False,
        now=NOW,
    )
    assert hidden.reason == "\u200bspam"

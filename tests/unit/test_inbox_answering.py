"""No two answers at once: while one person writes an answer to a comment, everyone else sees
who, and a second answer needs a deliberate override (the marks, the lifecycle's rule on a
pending draft, and the API that shows and enforces both; no broker: every refusal comes before
any write)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.inbox.answering import CLAIM_FOR, AnswerClaims
from services.inbox.answering_api import add_answering_routes
from services.inbox.book import InboxBook, key_of
from services.inbox.errors import SomeoneAnswering
from services.inbox.http_api import create_app
from services.inbox.lifecycle import Command, decide
from shared.events import InboxAction, InboxChanged
from tests.unit.inbox_app import NOW, editor_keys, new_entry, offline_deps

A = InboxAction


def an_entry() -> InboxChanged:
    return new_entry(text="Kapan jalan diperbaiki?")


def test_a_mark_holds_for_its_time_is_renewed_by_its_holder_and_taken_over_only_on_purpose() -> None:
    claims = AnswerClaims()
    first = claims.claim("k", "rina", NOW)
    assert (first.by, first.until) == ("rina", NOW + CLAIM_FOR)
    renewed = claims.claim("k", "rina", NOW + timedelta(minutes=5))
    assert (renewed.since, renewed.until) == (NOW, NOW + timedelta(minutes=5) + CLAIM_FOR)
    with pytest.raises(SomeoneAnswering, match="rina is answering"):
        claims.claim("k", "budi", NOW + timedelta(minutes=6))
    with pytest.raises(SomeoneAnswering):
        claims.check("k", "budi", NOW + timedelta(minutes=6), override=False)
    claims.check("k", "rina", NOW + timedelta(minutes=6), override=False)  # its holder answers
    assert claims.claim("k", "budi", NOW + timedelta(minutes=6), override=True).by == "budi"
    assert not claims.release("k", "rina")
    assert claims.release("k", "budi")
    assert claims.holder("k", NOW) is None


def test_a_mark_left_behind_runs_out() -> None:
    claims = AnswerClaims()
    claims.claim("k", "rina", NOW)
    later = NOW + CLAIM_FOR
    assert claims.holder("k", later) is None
    claims.check("k", "budi", later, override=False)
    claims.claim("j", "rina", NOW)
    claims.prune(later)
    assert claims.holder("j", NOW) is None  # forgotten, not only hidden


def test_a_new_answer_over_another_persons_pending_draft_needs_an_override() -> None:
    draft = decide(an_entry(), Command(A.DRAFT_REPLY, by="rina", text="Besok."), four_eyes=True, now=NOW)
    with pytest.raises(SomeoneAnswering, match="rina is answering"):
        decide(draft, Command(A.DRAFT_REPLY, by="budi", text="Lusa."), four_eyes=True, now=NOW)
    with pytest.raises(SomeoneAnswering):
        decide(draft, Command(A.REPLY, by="budi", text="Lusa."), four_eyes=False, now=NOW)
    # Its author may rewrite it; an approver sends it (no new text); an override replaces it.
    rewritten = decide(draft, Command(A.DRAFT_REPLY, by="rina", text="Besok pagi."), four_eyes=True, now=NOW)
    assert rewritten.reply is not None
    assert rewritten.reply.text == "Besok pagi."
    sent = decide(draft, Command(A.REPLY, by="yuyun", by_approver=True), four_eyes=True, now=NOW)
    assert sent.reply is not None
    assert sent.reply.approved_by == "yuyun"
    taken = decide(
        draft, Command(A.DRAFT_REPLY, by="budi", text="Lusa.", override=True), four_eyes=True, now=NOW
    )
    assert taken.reply is not None
    assert taken.reply.drafted_by == "budi"


async def test_the_api_shows_who_is_answering_and_refuses_a_second_answer(tmp_path: Path) -> None:
    entry = an_entry()
    book = InboxBook()
    book.apply(entry)
    app = create_app(offline_deps(tmp_path, book, editor_keys("rina", "budi")))
    add_answering_routes(app)
    key = key_of(entry)
    rina, budi = {"Authorization": "Bearer rina"}, {"Authorization": "Bearer budi"}
    async with TestClient(TestServer(app)) as client:
        answer = await client.post(f"/v1/inbox/{key}/answering", headers=rina)
        assert (answer.status, (await answer.json())["answering"]["by"]) == (200, "rina")
        for path in (f"/v1/inbox/{key}", "/v1/inbox"):
            async with client.get(path, headers=budi) as shown:
                body = await shown.json()
            item = body["items"][0] if "items" in body else body
            assert item["answering"]["by"] == "rina", path
        refusals = [
            ("POST", f"/v1/inbox/{key}/answering", {}),
            ("POST", f"/v1/inbox/{key}/reply", {"text": "Lusa."}),
        ]
        for method, path, body in refusals:
            answer = await client.request(method, path, json=body, headers=budi)
            problem = await answer.json(content_type=None)
            assert (answer.status, problem["errors"][0]["rule"]) == (409, "someone_answering"), path
            assert "rina is answering" in problem["errors"][0]["message"]
        assert (await client.post(f"/v1/inbox/{key}/answering", json=[1], headers=budi)).status == 400
        assert (await client.post(f"/v1/inbox/{key}/answering", json={"x": 1}, headers=budi)).status == 422
        assert (await client.post("/v1/inbox/nope/answering", headers=budi)).status == 404
        answer = await client.delete(f"/v1/inbox/{key}/answering", headers=budi)
        assert (await answer.json())["released"] is False  # not budi's to end
        taken = await client.post(f"/v1/inbox/{key}/answering", json={"override": True}, headers=budi)
        assert (await taken.json())["answering"]["by"] == "budi"
        answer = await client.delete(f"/v1/inbox/{key}/answering", headers=budi)
        assert (await answer.json())["released"] is True
        async with client.get(f"/v1/inbox/{key}", headers=rina) as shown:
            assert "answering" not in await shown.json()

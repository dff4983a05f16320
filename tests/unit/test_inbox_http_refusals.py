"""Refusals the inbox API decides before anything reaches Kafka: a change the event contract
refuses is a 422 naming the field, never a 500 (no broker here: nothing is written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from services.inbox.book import InboxBook, key_of
from services.inbox.http_api import create_app
from shared.events import InboxState
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from tests.unit.inbox_app import editor_keys, new_entry, offline_deps


async def test_a_person_the_event_contract_refuses_gets_a_422(tmp_path: Path) -> None:
    book = InboxBook()
    entry = new_entry()
    book.apply(entry)
    # A key store written by hand may name a person with a space; events take identifiers only.
    keys = KeyStore((KeyRecord(digest_key("k1"), "Rina Wati", Role.EDITOR, frozenset({"*"})),))
    app = create_app(offline_deps(tmp_path, book, keys))
    async with TestClient(TestServer(app)) as client:
        answer = await client.post(
            f"/v1/inbox/{key_of(entry)}/close",
            json={"reason": "spam"},
            headers={"Authorization": "Bearer k1"},
        )
        assert answer.status == 422
        body = await answer.json()
        assert body["errors"][0]["rule"] == "schema"
        assert "by" in body["errors"][0]["message"]


async def test_bad_replies_are_4xx_problem_details_before_anything_is_written(tmp_path: Path) -> None:
    first = new_entry("ib2", "c2")
    sending = first.model_copy(update={"state": InboxState.REPLYING, "version": 2})
    book = InboxBook()
    book.apply(sending)
    app = create_app(offline_deps(tmp_path, book, editor_keys("rina")))
    auth = {"Authorization": "Bearer rina"}
    cases: list[tuple[str, Any, int, str]] = [
        (key_of(sending), {"text": ""}, 422, "schema"),
        (key_of(sending), {"text": "x" * 10_001}, 422, "schema"),
        (key_of(sending), {"text": "Besok", "to": "everyone"}, 422, "schema"),
        (key_of(sending), {"text": 5}, 422, "schema"),
        ("ibnothere", {"text": "Besok"}, 404, "not_found"),
        (key_of(sending), {"text": "Besok", "override": True}, 409, "illegal_transition"),  # mid-send
    ]
    async with TestClient(TestServer(app)) as client:
        for key, body, status, rule in cases:
            answer = await client.post(f"/v1/inbox/{key}/reply", json=body, headers=auth)
            assert (answer.status, answer.content_type) == (status, "application/problem+json"), body
            problem = await answer.json(content_type=None)
            assert (problem["status"], problem["errors"][0]["rule"]) == (status, rule)


async def test_hiding_closing_or_deleting_without_a_reason_is_a_422_in_the_callers_language(
    tmp_path: Path,
) -> None:
    entry = new_entry("ib3", "c3")
    book = InboxBook()
    book.apply(entry)
    app = create_app(offline_deps(tmp_path, book, editor_keys("rina")))
    async with TestClient(TestServer(app)) as client:
        for verb in ("hide", "close", "delete"):
            for body in ({}, {"reason": ""}, {"reason": "  \t"}):
                for language, said in (("en", "needs a reason"), ("id", "memerlukan alasan")):
                    headers = {"Authorization": "Bearer rina", "Accept-Language": language}
                    answer = await client.post(
                        f"/v1/inbox/{key_of(entry)}/{verb}", json=body, headers=headers
                    )
                    problem = await answer.json(content_type=None)
                    assert (answer.status, problem["errors"][0]["rule"]) == (422, "illegal_transition"), body
                    assert said in problem["errors"][0]["message"]
        assert book.get(key_of(entry)) == entry  # nothing changed

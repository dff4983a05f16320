"""The saved answers' API refusals, decided before anything reaches Kafka (no broker here), and
a saved answer filled in for a comment in the language asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from services.inbox.book import InboxBook, key_of
from services.inbox.http_api import create_app
from services.inbox.template_api import add_template_routes
from services.inbox.template_store import TemplateBook, TemplateStore
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.template_events import ReplyTemplateSaved
from tests.unit.inbox_app import NOW, new_entry, offline_deps

EDITOR = {"Authorization": "Bearer k-editor"}
OPERATOR = {"Authorization": "Bearer k-operator"}


def _app(tmp_path: Path) -> tuple[Any, str]:
    book = InboxBook()
    entry = new_entry()
    book.apply(entry)
    keys = KeyStore(
        (
            KeyRecord(digest_key("k-editor"), "rina", Role.EDITOR, frozenset({"*"})),
            KeyRecord(digest_key("k-operator"), "opa", Role.OPERATOR, frozenset({"*"})),
        )
    )
    none: Any = None  # never used: every request here is answered before any write
    templates = TemplateBook()
    templates.apply(
        ReplyTemplateSaved(
            event_id="t1",
            occurred_at=NOW,
            name="thanks",
            text_en="Thank you, {name}.",
            text_id="Terima kasih, {name}.",
            by="opa",
        )
    )
    store = TemplateStore(producer=none, topic="inbox.templates", book=templates)
    return create_app(offline_deps(tmp_path, book, keys), [add_template_routes(store)]), key_of(entry)


async def test_refusals_name_their_rule_and_field(tmp_path: Path) -> None:
    app, _ = _app(tmp_path)
    good = {"text_en": "Thanks {name}", "text_id": "Makasih {name}"}
    cases: list[tuple[str, str, dict[str, str], Any, int, list[tuple[str | None, str]]]] = [
        ("PUT", "/v1/inbox/templates/new", EDITOR, good, 403, [(None, "role")]),
        ("PUT", "/v1/inbox/templates/Bad%20Name", OPERATOR, good, 422, [("name", "template_name")]),
        (
            "PUT", "/v1/inbox/templates/new", OPERATOR, {"text_en": "Hi {nama}", "text_id": "Halo {name"}, 422,
            [("text_en", "unknown_placeholder"), ("text_id", "unmatched_brace")],
        ),
        ("PUT", "/v1/inbox/templates/new", OPERATOR, {"text_en": "x"}, 422, [("text_id", "schema")]),
        ("PUT", "/v1/inbox/templates/new", OPERATOR, {**good, "tone": "warm"}, 422, [("tone", "schema")]),
        ("PUT", "/v1/inbox/templates/new", OPERATOR, {**good, "text_en": "x" * 5001}, 422, [("text_en", "schema")]),
        ("GET", "/v1/inbox/templates/nothere", EDITOR, None, 404, [("name", "not_found")]),
        ("DELETE", "/v1/inbox/templates/nothere", OPERATOR, None, 404, [("name", "not_found")]),
        ("DELETE", "/v1/inbox/templates/thanks", EDITOR, None, 403, [(None, "role")]),
        ("GET", "/v1/inbox/templates/thanks?comment=ib1&lang=fr", EDITOR, None, 422, [("lang", "enum")]),
        ("GET", "/v1/inbox/templates/thanks?comment=nothere", EDITOR, None, 404, [("comment", "not_found")]),
    ]  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        for method, path, auth, body, status, errors in cases:
            answer = await client.request(method, path, json=body, headers=auth)
            assert (answer.status, answer.content_type) == (status, "application/problem+json"), (path, body)
            found = [(e["field"], e["rule"]) for e in (await answer.json())["errors"]]
            assert found == errors, (path, body)
        for raw, content_type, status in ((b"{", "application/json", 400), (b"{}", "text/plain", 415)):
            answer = await client.put(
                "/v1/inbox/templates/new", data=raw, headers={**OPERATOR, "Content-Type": content_type}
            )
            assert answer.status == status
        assert (await client.get("/v1/inbox/templates")).status == 401


async def test_a_saved_answer_is_filled_in_for_a_comment_in_the_language_asked(tmp_path: Path) -> None:
    app, key = _app(tmp_path)
    async with TestClient(TestServer(app)) as client:
        listed = await (await client.get("/v1/inbox/templates", headers=EDITOR)).json()
        assert [t["name"] for t in listed["templates"]] == ["thanks"]
        for query, headers, text in (
            ("lang=id", {}, "Terima kasih, Bapak/Ibu."),
            ("lang=en", {}, "Thank you, Sir/Madam."),
            ("", {"Accept-Language": "id-ID,id;q=0.9"}, "Terima kasih, Bapak/Ibu."),
        ):
            answer = await client.get(
                f"/v1/inbox/templates/thanks?comment={key}&{query}", headers={**EDITOR, **headers}
            )
            assert answer.status == 200
            assert (await answer.json())["rendered"] == text
        # The per-comment route does not take the templates' path.
        assert (await client.get("/v1/inbox/templates/thanks", headers=EDITOR)).status == 200

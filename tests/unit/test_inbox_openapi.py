"""The inbox's OpenAPI 3.1 document, judged from outside: the published OpenAPI 3.1 schema (as
schemathesis validates with it) accepts it, schemathesis can read every operation, it names
exactly the routes the app serves, a JSON Schema implementation (jsonschema_rs) finds the app's
real answers inside their schemas, and the reason the document requires of a hide, close or
delete, and the text it requires of a reply, are, for any text hypothesis writes, the ones the
lifecycle takes (but for a blank text with invisible characters past the BMP, which the
pattern cannot name in every regex dialect and the server refuses).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from schemathesis.core.result import Ok

from services.inbox.abilities import abilities
from services.inbox.app import inbox_app
from services.inbox.book import InboxBook, key_of
from services.inbox.complaint_desk import ComplaintDesk
from services.inbox.errors import IllegalTransition, NotOnPlatform, ReasonRequired, TextRequired
from services.inbox.http_bodies import Answering, Approve, Assign, Reason, Reply, Texts
from services.inbox.lifecycle import NEEDS_REASON, Command, decide
from services.inbox.openapi import openapi_document
from services.inbox.template_store import TemplateStore
from services.inbox.working_time import WorkingHours
from shared.blank_text import is_blank
from shared.capabilities import CAPABILITIES
from shared.channels import Channel, load_channels
from shared.events import InboxAction
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.problems import PROBLEM_JSON
from shared.settings import ROOT
from shared.topics import TopicRegistry
from tests.unit.inbox_app import NOW, new_entry, offline_deps


def _app(tmp_path: Path, book: InboxBook | None = None) -> web.Application:
    none: Any = None  # no broker: these tests write nothing
    keys = KeyStore((KeyRecord(digest_key("k"), "rina", Role.ADMIN, frozenset({"*"})),))
    templates = TemplateStore(producer=none, topic="inbox.templates")
    desk = ComplaintDesk(
        producer=none, topics=TopicRegistry(), port=none, hours=WorkingHours(), zone_of=lambda _: UTC
    )
    return inbox_app(offline_deps(tmp_path, book or InboxBook(), keys), templates, desk)


def test_the_document_names_every_route_the_inbox_serves_and_no_other(tmp_path: Path) -> None:
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in _app(tmp_path).router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for path, ops in openapi_document()["paths"].items() for method in ops}
    assert served == documented


def test_the_published_openapi_31_schema_accepts_it_and_schemathesis_reads_every_operation() -> None:
    # A copy: schemathesis may write inferred links into the schema it loads (not seen here, yet).
    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()))
    schema.validate()  # the OpenAPI 3.1 schema of the specification, as schemathesis ships it
    operations = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in operations), operations
    assert len(operations) == sum(len(ops) for ops in openapi_document()["paths"].values())


def _validator(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"#/components/schemas/{name}",
            "components": openapi_document()["components"],
        }
    )


def test_every_refusal_is_problem_details_and_every_answer_schema_compiles() -> None:
    for path, ops in openapi_document()["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                # Meta's subscription check is answered in plain text, its refusal too (webhook_verify).
                if status[0] in "45" and (method, path) != ("get", "/webhooks/meta"):
                    assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
                assert status.isdigit(), path
    for name in openapi_document()["components"]["schemas"]:
        _validator(name)


async def test_the_apps_answers_fit_their_documented_schemas(tmp_path: Path) -> None:
    book, entry = InboxBook(), new_entry()
    book.apply(entry)
    auth = {"Authorization": "Bearer k"}
    reads = [
        ("/v1/inbox?limit=1", "Entries"),
        (f"/v1/inbox/{key_of(entry)}", "Entry"),
        ("/v1/inbox/channels", "Channels"),
        ("/v1/inbox/terms?hours=6", "Terms"),
        ("/v1/inbox/volume", "Volume"),
        ("/v1/inbox/templates", "Templates"),
        ("/v1/complaints", "Complaints"),
        ("/healthz", "Health"),
    ]
    async with TestClient(TestServer(_app(tmp_path, book))) as client:
        document = await (await client.get("/openapi.json")).json()  # no key
        assert document == json.loads(json.dumps(openapi_document()))
        for path, schema in reads:
            answer = await client.get(path, headers=auth)
            assert answer.status == 200, path
            _validator(schema).validate(await answer.json())
        claimed = await client.post(f"/v1/inbox/{key_of(entry)}/answering", headers=auth)
        _validator("AnsweringMark").validate(await claimed.json())
        listed = await (await client.get("/v1/inbox", headers=auth)).json()
        _validator("Entries").validate(listed)  # with the answering mark now
        assert "answering" in listed["items"][0]
        refused = await client.get("/v1/inbox/nothere", headers=auth)
        assert refused.status == 404
        _validator("Errors").validate(await refused.json(content_type=PROBLEM_JSON))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
BODIES: tuple[type[BaseModel], ...] = (Reason, Assign, Reply, Approve, Answering, Texts)
# What a lax reader takes for another type: "yes" and 1 for true, 1.0 for 1, "5" for 5.
CONFUSING = st.sampled_from(
    [True, False, 0, 1, 1.0, "true", "yes", "on", "1", "0", "", " ", "rina.w@x", "a b"]
)


@settings(max_examples=400)
@given(data=st.data())
def test_a_body_is_taken_by_its_model_exactly_when_the_document_accepts_it(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(BODIES))
    names = [*model.model_fields, "extra"]
    body = data.draw(st.dictionaries(st.sampled_from(names), CONFUSING | JSON, max_size=4))
    try:
        model.model_validate(body)
        taken = True
    except ValidationError:
        taken = False
    assert taken == _validator(model.__name__).is_valid(body), (model.__name__, body)


def test_what_every_platform_can_do_fits_the_documented_abilities() -> None:
    channels = load_channels(ROOT / "deploy" / "channels.local.yaml").channels
    others = [Channel(id=f"{p}-x", platform=p) for p in CAPABILITIES]  # telegram without its group, too
    for channel in (*channels, *others):
        _validator("Abilities").validate(abilities(channel))


# Invisible characters too, so that blank texts are drawn as often as others.
_SAYS_LITTLE = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\t \x00\x85\u200b\u2066\ufeff\U000e0041"), max_size=6
)


def _past_the_pattern(text: str) -> bool:
    """A blank text the documented pattern takes and the server refuses: some of its invisible
    characters are past the Basic Multilingual Plane (the schema's description says so)."""
    return is_blank(text) and any(ord(c) > 0xFFFF for c in text)


@pytest.mark.parametrize("action", sorted(NEEDS_REASON))
@given(reason=_SAYS_LITTLE)
def test_the_documented_reason_is_the_one_the_lifecycle_takes(action: InboxAction, reason: str) -> None:
    documented = _validator("ReasonRequired").is_valid({"reason": reason})
    command = Command(action=action, by="rina", reason=reason, by_approver=True)  # delete asks one
    taken = True
    try:
        decide(new_entry(), command, four_eyes=False, now=NOW)
    except ReasonRequired:
        taken = False
    except NotOnPlatform:  # a delete on Mastodon: refused after its reason was taken
        assert action == InboxAction.DELETE
    assert documented == (taken or _past_the_pattern(reason)), repr(reason)


@given(text=_SAYS_LITTLE)
def test_the_documented_reply_text_is_the_one_the_lifecycle_takes(text: str) -> None:
    documented = _validator("ReplyWithText").is_valid({"text": text})
    taken = True
    try:
        decide(new_entry(), Command(action=InboxAction.REPLY, by="rina", text=text), four_eyes=False, now=NOW)
    except TextRequired:
        taken = False
    except IllegalTransition:  # no text: the pending draft is asked for, and there is none
        assert text == ""
        taken = False
    assert documented == (taken or _past_the_pattern(text)), repr(text)

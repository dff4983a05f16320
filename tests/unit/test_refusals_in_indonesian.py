"""``Accept-Language: id`` gets every refusal of the console, the inbox and the analytics API in
Bahasa Indonesia, with the same status and the same stable rules as in English (no broker here:
every request is refused before anything is written)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.analytics.http_api import refusal, report_for
from services.analytics.report import BadQuery, reach_answer
from services.console.http_api import create_app as console_app
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView
from shared.channels import load_channels
from shared.events import JobState, OperatorAction
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from shared.messages import said
from shared.problems import PROBLEM_JSON
from shared.settings import ROOT
from shared.topics import TopicRegistry
from tests.integration.console_app import console_deps
from tests.unit.test_console import job
from tests.unit.test_inbox_template_api import _app as inbox_app

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
ID = {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}
Case = tuple[str, str, dict[str, str], Any, int, str]  # method, path, headers, json, status, rule


async def _both(client: TestClient[Any, Any], case: Case) -> None:
    """The English and the Indonesian answer: same status and rules, every message from the
    catalog (it carries its parameters), said differently."""
    method, path, headers, body, status, rule = case
    answers = []
    for lang in ({}, ID):
        kwargs: dict[str, Any] = {"headers": {**headers, **lang}}
        if body is not None:
            kwargs["json"] = body
        answer = await client.request(method, path, **kwargs)
        assert answer.status == status, (path, await answer.text())
        assert answer.content_type == "application/problem+json", path
        answers.append((answer.headers["Content-Language"], await answer.json(content_type=None)))
    (en_lang, en), (id_lang, id_) = answers
    assert (en_lang, id_lang) == ("en", "id")
    assert [e["rule"] for e in en["errors"]] == [e["rule"] for e in id_["errors"]]
    assert en["errors"][0]["rule"] == rule, path
    for english, indonesian in zip(en["errors"], id_["errors"], strict=True):
        assert "params" in indonesian, (path, indonesian)  # made from the catalog, not typed in English
        assert indonesian["params"] == english["params"]
        assert indonesian["message"] != english["message"], path
    assert id_["title"] != en["title"]


# ---- the console ---------------------------------------------------------------------------------
OPERATOR = {"Authorization": "Bearer k-op"}
ADMIN = {"Authorization": "Bearer k-admin"}
SCOPED = {"Authorization": "Bearer k-scoped"}
EDITOR = {"Authorization": "Bearer k-editor"}
JOB = "c1:telegram-demo"


def _console() -> web.Application:
    keys = KeyStore(
        (
            KeyRecord(digest_key("k-op"), "opa", Role.OPERATOR, frozenset({"*"})),
            KeyRecord(digest_key("k-admin"), "adi", Role.ADMIN, frozenset({"*"})),
            KeyRecord(digest_key("k-scoped"), "sari", Role.OPERATOR, frozenset({"x-demo"})),
            KeyRecord(digest_key("k-editor"), "rina", Role.EDITOR, frozenset({"*"})),
        )
    )
    view = ConsoleView()
    view.jobs[JOB] = job(JobState.SCHEDULED)
    for state in (JobState.FAILED, JobState.UNCONFIRMED):
        view.jobs[f"{state.value}:telegram-demo"] = job(state).model_copy(
            update={"job_id": f"{state.value}:telegram-demo"}
        )
    view.jobs["discarded:telegram-demo"] = job(JobState.FAILED).model_copy(
        update={"job_id": "discarded:telegram-demo", "decided": OperatorAction.DISCARD}
    )
    none: Any = None  # never used: every request here is refused before a write or a call out
    deps = console_deps(
        settings=ConsoleSettings(_env_file=None),
        topics=TopicRegistry(),
        channels=load_channels(ROOT / "deploy" / "channels.local.yaml"),
        keys=keys,
        producer=none,
        session=none,
        clock=lambda: NOW,
        view=view,
    )
    return console_app(deps)


CONSOLE: list[Case] = [
    ("GET", "/v1/whoami", EDITOR, None, 403, "role"),
    ("GET", "/v1/whoami", {}, None, 401, "missing_key"),
    ("GET", "/v1/plan?channel=nowhere&day=2026-12-04", OPERATOR, None, 422, "unknown_channel"),
    ("GET", "/v1/plan?channel=telegram-demo", OPERATOR, None, 422, "required"),
    ("GET", "/v1/plan?channel=telegram-demo&day=4.12", OPERATOR, None, 422, "type"),
    ("GET", "/v1/plan?channel=telegram-demo&day=9999-12-31", OPERATOR, None, 422, "out_of_range"),
    ("GET", "/v1/plan?channel=telegram-demo&day=2026-12-04", SCOPED, None, 403, "channel_forbidden"),
    ("GET", "/v1/webhooks/deliveries", SCOPED, None, 403, "channel_forbidden"),
    ("GET", "/v1/problems?limit=0", OPERATOR, None, 422, "range"),
    ("GET", "/v1/problems?cursor=zz", OPERATOR, None, 422, "type"),
    ("GET", "/v1/lag", OPERATOR, None, 503, "unavailable"),
    ("POST", "/v1/jobs/nope/actions", OPERATOR, {"action": "retry", "reason": "x"}, 404, "not_found"),
    ("POST", f"/v1/jobs/{JOB}/actions", OPERATOR, {"action": "retry", "reason": "x"}, 409, "not_settled"),
    ("POST", "/v1/jobs/unconfirmed:telegram-demo/actions", OPERATOR, {"action": "mark_published", "reason": "x"}, 422, "bad_request"),
    ("POST", "/v1/jobs/discarded:telegram-demo/actions", OPERATOR, {"action": "discard", "reason": "x"}, 409, "illegal_action"),
    ("POST", f"/v1/jobs/{JOB}/actions", OPERATOR, {"action": "retry"}, 422, "required"),
    ("GET", "/v1/dead/nope", OPERATOR, None, 404, "not_found"),
    ("GET", "/static/nope.js", {}, None, 404, "not_found"),
    ("GET", "/nowhere", {}, None, 404, "http"),
    ("DELETE", "/v1/whoami", OPERATOR, None, 405, "http"),
    ("POST", "/v1/channels/telegram-demo/connect", OPERATOR, None, 403, "role"),
    ("POST", "/v1/channels/nochannel/connect", ADMIN, None, 404, "not_found"),
    ("POST", "/v1/channels/telegram-demo/connect", ADMIN, None, 400, "paste_credential"),
    # A forged callback state needs the shared pending connects (a topic): on the real broker in
    # tests/integration/test_console_connect_shared.py.
]  # fmt: skip


async def test_the_console_refuses_in_the_callers_language() -> None:
    async with TestClient(TestServer(_console())) as client:
        for case in CONSOLE:
            await _both(client, case)


# ---- the inbox -----------------------------------------------------------------------------------
INBOX_EDITOR = {"Authorization": "Bearer k-editor"}
INBOX_OPERATOR = {"Authorization": "Bearer k-operator"}


async def test_the_inbox_refuses_in_the_callers_language(tmp_path: Path) -> None:
    app, key = inbox_app(tmp_path)
    bad_texts = {"text_en": "Hi {nama}", "text_id": "Halo {name"}
    cases: list[Case] = [
        ("GET", "/v1/inbox?limit=abc", INBOX_EDITOR, None, 422, "type"),
        ("GET", "/v1/inbox?limit=900", INBOX_EDITOR, None, 422, "range"),
        ("GET", "/v1/inbox?state=zzz", INBOX_EDITOR, None, 422, "enum"),
        ("GET", "/v1/inbox?cursor=zz", INBOX_EDITOR, None, 400, "cursor"),
        ("GET", "/v1/inbox?channel=elsewhere", INBOX_EDITOR, None, 403, "channel_forbidden"),
        ("GET", "/v1/inbox/terms?hours=x", INBOX_EDITOR, None, 422, "type"),
        ("GET", "/v1/inbox/terms?hours=1000", INBOX_EDITOR, None, 422, "range"),
        ("GET", "/v1/inbox/nothere", INBOX_EDITOR, None, 404, "not_found"),
        ("POST", f"/v1/inbox/{key}/close", INBOX_OPERATOR, {}, 422, "illegal_transition"),  # no reason
        ("POST", f"/v1/inbox/{key}/approve", INBOX_OPERATOR, {"reason": "ok"}, 409, "illegal_transition"),
        ("POST", f"/v1/inbox/{key}/assign", INBOX_OPERATOR, {"assignee": "a b"}, 422, "schema"),
        ("POST", f"/v1/inbox/{key}/close", INBOX_OPERATOR, [1], 400, "malformed_json"),
        ("PUT", "/v1/inbox/templates/new", INBOX_EDITOR, {"text_en": "a", "text_id": "b"}, 403, "role"),
        ("PUT", "/v1/inbox/templates/Bad_Name!", INBOX_OPERATOR, bad_texts, 422, "template_name"),
        ("PUT", "/v1/inbox/templates/new", INBOX_OPERATOR, bad_texts, 422, "unknown_placeholder"),
        ("GET", "/v1/inbox/templates/none", INBOX_EDITOR, None, 404, "not_found"),
        ("GET", "/v1/inbox/templates/thanks?comment=x&lang=fr", INBOX_EDITOR, None, 422, "enum"),
        ("POST", "/webhooks/meta", {}, {"entry": []}, 401, "bad_signature"),
        ("GET", "/static/nope.js", {}, None, 404, "http"),
        ("GET", "/nowhere/at/all", {}, None, 404, "http"),
        ("DELETE", "/v1/inbox", INBOX_EDITOR, None, 405, "http"),
    ]
    async with TestClient(TestServer(app)) as client:
        for case in cases:
            await _both(client, case)


# ---- the analytics API ---------------------------------------------------------------------------
class _View:
    """What ``refusal`` uses of faust's view: its JSON answer, kept as given."""

    def json(
        self, value: Any, *, status: int, content_type: str, headers: dict[str, str]
    ) -> tuple[Any, int, dict[str, str]]:
        return value, status, {**headers, "Content-Type": content_type}


@pytest.mark.parametrize(
    "query",
    [{"by": "colour"}, {"by": "hour", "window": "day"}, {"window": "day", "period": "2026-W49"}],
)
def test_the_analytics_api_refuses_a_query_in_the_callers_language(query: dict[str, str]) -> None:
    with pytest.raises(BadQuery) as refused:
        reach_answer([], query)
    answers = {}
    for header, lang in ((None, "en"), ("id", "id")):
        request = SimpleNamespace(headers={"Accept-Language": header} if header else {})
        body, status, headers = cast(Any, refusal)(_View(), request, 400, refused.value.said, "/v1/reach")
        assert (status, headers["Content-Language"], headers["Content-Type"]) == (400, lang, PROBLEM_JSON)
        assert (body["status"], body["instance"], body["type"]) == (
            400,
            "/v1/reach",
            "urn:warta:problem:bad-query",
        )
        assert [e["rule"] for e in body["errors"]] == ["bad_query"]
        assert body["detail"] == body["errors"][0]["message"]
        answers[lang] = body["detail"]
    assert answers["en"] == str(refused.value)
    assert answers["id"] != answers["en"]


@pytest.mark.parametrize(
    ("query", "indonesian"),
    [
        ({"week": "49"}, "week harus berbentuk seperti 2026-W49, bukan '49'"),
        ({"week": "2026-W60"}, "minggu '2026-W60' tidak ada"),
        ({"week": "2026-W49", "top": "0"}, "top harus di antara 1 dan"),
        ({"week": "2026-W49", "weeks": "x"}, "weeks harus bilangan bulat, bukan 'x'"),
    ],
)
def test_the_weekly_reports_refusals_have_their_indonesian_sentence(
    query: dict[str, str], indonesian: str
) -> None:
    with pytest.raises(BadQuery) as refused:
        report_for([], query, UTC_ZONE, NOW)
    assert refused.value.said.rule == "bad_query"
    assert refused.value.said.in_("id").startswith(indonesian)


def test_an_unknown_item_is_refused_in_the_callers_language() -> None:
    request = SimpleNamespace(headers={"Accept-Language": "id"})
    body, status, _ = cast(Any, refusal)(
        _View(), request, 404, said("not_found.figures", id="c9"), "/v1/items/c9"
    )
    assert (status, body["title"], body["instance"]) == (404, "Tidak ditemukan", "/v1/items/c9")
    assert body["errors"] == [
        {
            "channel": None,
            "field": None,
            "rule": "not_found",
            "message": "tidak ada angka untuk 'c9'",
            "params": {"id": "c9"},
        }
    ]

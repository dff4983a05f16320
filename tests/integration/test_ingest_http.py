"""Ingest's HTTP API over the real broker: who may do what, bad input, Idempotency-Key
across a restart, status and the calendar, withdraw, pause/resume, drafts, rate limits, and the
operational endpoints. Each test runs the real app in-process on fresh topics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.events import ContentApproved, ControlAction, ControlIssued, DraftApproved, DraftSubmitted
from shared.http_auth import ALL_CHANNELS, KeyRecord, KeyStore, Role, digest_key
from shared.topics import TopicRegistry
from tests.integration.ingest_app import (
    Answer,
    Ingest,
    content_body,
    read_events,
    running_ingest,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def ingest(kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path) -> AsyncIterator[Ingest]:
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        yield app


def assert_errors_shape(answer: Answer) -> list[dict[str, Any]]:
    """Every 4xx answers RFC 9457 problem details whose ``errors`` member lists each problem as
    ``{channel, field, rule, message}``."""
    assert 400 <= answer.status < 500, answer
    assert isinstance(answer.body, dict), answer
    assert answer.headers["Content-Type"].startswith("application/problem+json"), answer.headers
    assert set(answer.body) - {"instance"} == {"type", "title", "status", "detail", "errors"}, answer.body
    assert answer.body["status"] == answer.status
    assert answer.body["type"].startswith("urn:warta:problem:")
    errors = answer.body["errors"]
    assert errors, answer.body
    for error in errors:
        # ``params`` (the names and numbers a message states) is the one member added since.
        assert set(error) - {"params"} == {"channel", "field", "rule", "message"}, error
        assert all(isinstance(v, str | int | float | bool | None) for v in error.get("params", {}).values())
        assert isinstance(error["rule"], str)
        assert error["rule"]
        assert isinstance(error["message"], str)
        assert error["message"]
        assert error["channel"] is None or isinstance(error["channel"], str)
        assert error["field"] is None or isinstance(error["field"], str)
    return list(errors)


def rules(answer: Answer) -> set[str]:
    return {e["rule"] for e in assert_errors_shape(answer)}


async def submit(app: Ingest, **kw: Any) -> str:
    answer = await app.call("POST", "/v1/content", content_body(**kw))
    assert answer.status == 202, answer
    return str(answer.body["content_id"])


async def draft(app: Ingest, role: str = "editor", **kw: Any) -> str:
    body = content_body(author=app.people[role], approved_by=None, **kw)
    answer = await app.call("POST", "/v1/drafts", body, role=role)
    assert answer.status == 201, answer
    return str(answer.body["draft_id"])


async def approve(app: Ingest, draft_id: str, role: str) -> Answer:
    """Read the draft, then approve the content read (If-Match: its ETag), as a person would."""
    read = await app.call("GET", f"/v1/drafts/{draft_id}", role=role)
    etag = {k.lower(): v for k, v in read.headers.items()}.get("etag", '"none"')
    return await app.call("POST", f"/v1/drafts/{draft_id}/approve", role=role, headers={"If-Match": etag})


# ---- who may do what -----------------------------------------------------------------------------

ALLOWED: dict[str, set[str]] = {
    "submit": {"approver", "admin"},
    "read": {"editor", "approver", "operator", "admin"},
    "withdraw": {"approver", "operator", "admin"},
    "draft": {"editor", "approver", "admin"},
    "approve": {"approver", "admin"},
    "pause": {"operator", "admin"},
}


async def attempt(app: Ingest, action: str, role: str, content_id: str, draft_id: str) -> list[Answer]:
    """``action`` as ``role``: the answers of its requests (read covers every read endpoint)."""
    person = app.people[role]
    if action == "submit":
        # The item is approved by the caller and written by someone else: only the role decides.
        body = content_body(author="budi", approved_by=person)
        return [await app.call("POST", "/v1/content", body, role=role)]
    if action == "read":
        return [
            await app.call("GET", f"/v1/content/{content_id}", role=role),
            await app.call("GET", "/v1/content", role=role),
            await app.call("GET", "/v1/channels", role=role),
        ]
    if action == "withdraw":
        body = {"reason": "wrong figures"}
        return [await app.call("POST", f"/v1/content/{content_id}/withdraw", body, role=role)]
    if action == "draft":
        body = content_body(author=person, approved_by=None)
        return [await app.call("POST", "/v1/drafts", body, role=role)]
    if action == "approve":
        return [await approve(app, draft_id, role)]
    body = {"reason": "maintenance", "channels": ["mastodon-demo"]}
    return [
        await app.call("POST", "/v1/pause", body, role=role),
        await app.call("POST", "/v1/resume", body, role=role),
    ]


@pytest.mark.parametrize("role", ["editor", "approver", "operator", "admin"])
async def test_each_role_against_each_endpoint(ingest: Ingest, role: str) -> None:
    content_id = await submit(ingest)
    draft_id = await draft(ingest)
    for action in sorted(ALLOWED):
        for answer in await attempt(ingest, action, role, content_id, draft_id):
            if role in ALLOWED[action]:
                assert answer.status in (200, 201, 202), (action, role, answer)
            else:
                assert answer.status == 403, (action, role, answer)
                assert "role" in rules(answer)
                assert role in answer.body["errors"][0]["message"]


ENDPOINTS = [
    ("POST", "/v1/content"),
    ("GET", "/v1/content"),
    ("GET", "/v1/content/abc"),
    ("POST", "/v1/content/abc/withdraw"),
    ("POST", "/v1/drafts"),
    ("POST", "/v1/drafts/abc/approve"),
    ("POST", "/v1/pause"),
    ("POST", "/v1/resume"),
    ("GET", "/v1/channels"),
]


async def test_no_key_or_an_unknown_key_is_401(ingest: Ingest) -> None:
    for method, path in ENDPOINTS:
        body = {"reason": "x"} if method == "POST" else None
        missing = await ingest.call(method, path, body, role=None)
        assert missing.status == 401, (method, path, missing)
        assert rules(missing) == {"missing_key"}
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        unknown = await ingest.call(method, path, body, key="wk_" + uuid.uuid4().hex)
        assert unknown.status == 401, (method, path, unknown)
        assert rules(unknown) == {"unknown_key"}


async def test_a_pre_approved_item_needs_its_approvers_own_key(ingest: Ingest) -> None:
    answer = await ingest.call("POST", "/v1/content", content_body(author="rina", approved_by="budi"))
    assert answer.status == 403, answer
    [error] = assert_errors_shape(answer)
    assert (error["field"], error["rule"]) == ("approval.approved_by", "approver_mismatch")
    assert "yuyun" in error["message"]
    assert "budi" in error["message"]


async def test_four_eyes_the_author_cannot_approve_their_own_item(ingest: Ingest) -> None:
    answer = await ingest.call("POST", "/v1/content", content_body(author="yuyun", approved_by="yuyun"))
    assert answer.status == 403, answer
    assert rules(answer) == {"four_eyes"}
    assert all("four eyes" in e["message"] for e in answer.body["errors"])


async def test_a_key_limited_to_one_channel_cannot_act_on_others(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    plain = {"approver": "wk_limited_" + uuid.uuid4().hex, "operator": "wk_op_" + uuid.uuid4().hex}
    store = KeyStore(
        records=(
            KeyRecord(digest_key(plain["approver"]), "yuyun", Role.APPROVER, frozenset({"mastodon-demo"})),
            KeyRecord(digest_key(plain["operator"]), "opa", Role.OPERATOR, frozenset({"mastodon-demo"})),
        )
    )
    async with running_ingest(kafka_bootstrap, topics, tmp_path, keys=store, plain_keys=plain) as app:
        assert (await app.call("POST", "/v1/content", content_body(("mastodon-demo",)))).status == 202
        answer = await app.call("POST", "/v1/content", content_body(("mastodon-demo", "x-demo")))
        assert answer.status == 403, answer
        [error] = assert_errors_shape(answer)
        assert (error["channel"], error["rule"]) == ("x-demo", "channel_forbidden")
        # Pausing every channel acts on channels this key lacks.
        everything = await app.call("POST", "/v1/pause", {"reason": "storm"}, role="operator")
        assert everything.status == 403, everything
        assert rules(everything) == {"channel_forbidden"}
        one = {"reason": "storm", "channels": ["mastodon-demo"]}
        assert (await app.call("POST", "/v1/pause", one, role="operator")).status == 202


# ---- bad input ------------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(kafka_bootstrap, topics, tmp_path, max_body_bytes=4096) as app:
        body = content_body(text="a" * 5000)
        answer = await app.call("POST", "/v1/content", body)
        assert answer.status == 413, answer
        assert rules(answer) == {"payload_too_large"}
        assert "4096" in answer.body["errors"][0]["message"]


async def test_a_body_that_is_not_json_is_415(ingest: Ingest) -> None:
    answer = await ingest.call(
        "POST", "/v1/content", raw=b"Gubernur meresmikan", headers={"Content-Type": "text/plain"}
    )
    assert answer.status == 415, answer
    assert rules(answer) == {"unsupported_media_type"}
    assert "text/plain" in answer.body["errors"][0]["message"]


async def test_malformed_json_is_400_with_its_position(ingest: Ingest) -> None:
    answer = await ingest.call("POST", "/v1/content", raw=b'{\n  "author": "rina",\n  "content": {,}\n}')
    assert answer.status == 400, answer
    assert rules(answer) == {"malformed_json"}
    assert "line 3, column" in answer.body["errors"][0]["message"]


async def test_every_problem_is_reported_at_once(ingest: Ingest) -> None:
    body = content_body(("x-demo", "instagram-demo", "nowhere-demo"), text="kata " * 100)
    answer = await ingest.call("POST", "/v1/content", body)
    assert answer.status == 422, answer
    found = {(e["channel"], e["field"], e["rule"]) for e in assert_errors_shape(answer)}
    assert ("x-demo", "content.text", "max_length") in found
    assert ("instagram-demo", "content.media", "media_required") in found
    assert ("nowhere-demo", "targets[2].channel", "unknown_channel") in found


async def test_a_length_refusal_states_its_numbers_in_both_languages(ingest: Ingest) -> None:
    body = content_body(("x-demo",), text="a" * 301)
    english = await ingest.call("POST", "/v1/content", body)
    indonesian = await ingest.call("POST", "/v1/content", body, headers={"Accept-Language": "id"})
    (en,) = assert_errors_shape(english)
    (id_,) = assert_errors_shape(indonesian)
    assert en["rule"] == id_["rule"] == "max_length"
    assert en["params"] == id_["params"]
    assert en["params"]["count"] == 301
    assert en["params"]["limit"] == 280
    assert en["message"] == "X counts 301 weighted characters; the limit is 280"
    assert id_["message"] == "X menghitung 301 karakter berbobot; batasnya 280"


async def test_refusals_speak_the_callers_language(ingest: Ingest) -> None:
    body = content_body(("x-demo", "nowhere-demo"), text="kabar")
    body["approval"]["approved_by"] = body["author"]
    english = await ingest.call("POST", "/v1/content", body, headers={"Accept-Language": "en-US,en;q=0.9"})
    indonesian = await ingest.call(
        "POST", "/v1/content", body, headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}
    )
    assert english.status == indonesian.status == 422
    assert (english.headers["Content-Language"], indonesian.headers["Content-Language"]) == ("en", "id")
    assert (english.body["title"], indonesian.body["title"]) == ("Validation failed", "Validasi gagal")
    # The rules and fields are the same in both languages; only the messages are translated.
    key = [(e["channel"], e["field"], e["rule"]) for e in assert_errors_shape(english)]
    assert key == [(e["channel"], e["field"], e["rule"]) for e in assert_errors_shape(indonesian)]
    by_rule = {e["rule"]: e["message"] for e in indonesian.body["errors"]}
    assert "tidak ada kanal" in by_rule["unknown_channel"]
    assert "empat mata" in by_rule["four_eyes"]
    unauthenticated = await ingest.call("GET", "/v1/channels", role=None, headers={"Accept-Language": "id"})
    assert unauthenticated.status == 401
    assert (
        unauthenticated.body["errors"][0]["message"]
        == "kunci API tidak ada: kirim Authorization: Bearer <kunci>"
    )


BAD_REQUESTS: list[tuple[str, str, bytes | None, str | None]] = [
    ("POST", "/v1/content", b"[]", "application/json"),
    ("POST", "/v1/content", b'"text"', "application/json"),
    ("POST", "/v1/content", b"", "application/json"),
    ("POST", "/v1/content", b'{"author": 1}', "application/json; charset=latin-1"),
    ("POST", "/v1/drafts", b"null", "application/json"),
    ("POST", "/v1/pause", b"{}", "application/json"),
    ("POST", "/v1/pause", b'{"reason": "", "channels": []}', "application/json"),
    ("GET", "/v1/content?from=yesterday", None, None),
    ("GET", "/v1/content?from=2026-11-27T08:00:00", None, None),
    ("GET", "/v1/content?cursor=-1", None, None),
    ("GET", "/v1/nothing-here", None, None),
    ("DELETE", "/v1/content", None, None),
]


async def test_bad_requests_are_4xx_with_the_errors_body(ingest: Ingest) -> None:
    for method, path, raw, content_type in BAD_REQUESTS:
        headers = {"Content-Type": content_type} if content_type else None
        answer = await ingest.call(method, path, raw=raw, headers=headers, role="admin")
        assert 400 <= answer.status < 500, (method, path, raw, answer)
        assert_errors_shape(answer)


# ---- Idempotency-Key --------------------------------------------------------------------------------


async def test_the_same_key_and_body_answer_the_first_answer_and_store_once(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    body = content_body(("mastodon-demo", "x-demo"))
    key = {"Idempotency-Key": "adpim-" + uuid.uuid4().hex}
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        first = await app.call("POST", "/v1/content", body, headers=key)
        again = await app.call("POST", "/v1/content", body, headers=key)
        assert first.status == again.status == 202, (first, again)
        assert again.body == first.body
        changed = dict(body, priority="urgent")
        conflict = await app.call("POST", "/v1/content", changed, headers=key)
        assert conflict.status == 409, conflict
        assert rules(conflict) == {"idempotency_key"}
    # A new ingest on the same topics rebuilds its keys from content.approved.
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as restarted:
        after = await restarted.call("POST", "/v1/content", body, headers=key)
        assert after.status == 202, after
        assert after.body == first.body
        assert (await restarted.call("POST", "/v1/content", changed, headers=key)).status == 409
    events = await read_events(kafka_bootstrap, topics.content_approved)
    assert [e.content_id for e in events if isinstance(e, ContentApproved)] == [first.body["content_id"]]


async def test_an_overlong_idempotency_key_is_422(ingest: Ingest) -> None:
    long_key = {"Idempotency-Key": "k" * 201}
    answer = await ingest.call("POST", "/v1/content", content_body(), headers=long_key)
    assert answer.status == 422, answer
    [error] = assert_errors_shape(answer)
    assert (error["field"], error["rule"]) == ("Idempotency-Key", "max_length")


async def test_keys_belong_to_their_person(ingest: Ingest) -> None:
    key = {"Idempotency-Key": "shared-" + uuid.uuid4().hex}
    mine = await ingest.call("POST", "/v1/content", content_body(approved_by="yuyun"), headers=key)
    theirs = await ingest.call(
        "POST", "/v1/content", content_body(approved_by="adi"), headers=key, role="admin"
    )
    assert mine.status == theirs.status == 202, (mine, theirs)
    assert mine.body["content_id"] != theirs.body["content_id"]


# ---- status and the calendar ------------------------------------------------------------------


async def test_an_accepted_item_can_be_read_back(ingest: Ingest) -> None:
    body = content_body(("mastodon-demo", "telegram-demo"), topic_key="jembatan-mahakam")
    accepted = await ingest.call("POST", "/v1/content", body)
    assert accepted.status == 202, accepted
    assert accepted.body["jobs"] == [
        {"channel": "mastodon-demo", "state": "accepted"},
        {"channel": "telegram-demo", "state": "accepted"},
    ]
    content_id = accepted.body["content_id"]
    assert accepted.headers["Location"] == f"/v1/content/{content_id}"
    status = await ingest.call("GET", f"/v1/content/{content_id}", role="editor")
    assert status.status == 200, status
    assert status.body["content_id"] == content_id
    assert status.body["external_ref"] == body["external_ref"]
    assert status.body["topic_key"] == "jembatan-mahakam"
    assert (status.body["author"], status.body["approved_by"]) == ("rina", "yuyun")
    assert [(c["channel"], c["state"]) for c in status.body["channels"]] == [
        ("mastodon-demo", "accepted"),
        ("telegram-demo", "accepted"),
    ]
    missing = await ingest.call("GET", "/v1/content/no-such-item")
    assert missing.status == 404, missing
    assert rules(missing) == {"not_found"}


async def test_the_calendar_filters_and_pages(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(kafka_bootstrap, topics, tmp_path, page_size=2) as app:
        before = datetime.now(UTC) - timedelta(seconds=1)
        ids = [await submit(app, channels=("mastodon-demo", "telegram-demo")) for _ in range(3)]
        after = datetime.now(UTC) + timedelta(seconds=1)

        async def rows(query: str) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            cursor: str | None = ""
            pages = 0
            while cursor is not None:
                sep = "&" if "?" in query else "?"
                page = await app.call(
                    "GET", query + (f"{sep}cursor={cursor}" if cursor else ""), role="editor"
                )
                assert page.status == 200, page
                assert len(page.body["jobs"]) <= 2
                out += page.body["jobs"]
                cursor = page.body["next_cursor"]
                pages += 1
                assert pages < 10
            return out

        everything = await rows("/v1/content")
        assert len(everything) == 6
        assert {(r["content_id"], r["channel"]) for r in everything} == {
            (i, c) for i in ids for c in ("mastodon-demo", "telegram-demo")
        }
        telegram = await rows("/v1/content?channel=telegram-demo&state=accepted")
        assert sorted(r["content_id"] for r in telegram) == sorted(ids)
        assert all(r["channel"] == "telegram-demo" for r in telegram)
        assert await rows("/v1/content?state=published") == []
        window = f"from={before.isoformat()}&to={after.isoformat()}".replace("+", "%2B")
        assert len(await rows(f"/v1/content?{window}")) == 6
        later = (after + timedelta(days=1)).isoformat().replace("+", "%2B")
        assert await rows(f"/v1/content?from={later}") == []


# ---- withdraw, pause and resume ---------------------------------------------------------------


async def test_withdraw_needs_a_reason_and_is_written_to_control(
    kafka_bootstrap: str, ingest: Ingest, topics: TopicRegistry
) -> None:
    content_id = await submit(ingest, channels=("mastodon-demo", "x-demo"))
    no_reason = await ingest.call("POST", f"/v1/content/{content_id}/withdraw", {})
    assert no_reason.status == 422, no_reason
    assert ("reason", "required") in {(e["field"], e["rule"]) for e in assert_errors_shape(no_reason)}
    unknown = await ingest.call("POST", "/v1/content/no-such-item/withdraw", {"reason": "typo"})
    assert unknown.status == 404, unknown
    done = await ingest.call("POST", f"/v1/content/{content_id}/withdraw", {"reason": "wrong figures"})
    assert done.status == 202, done
    [event] = await read_events(kafka_bootstrap, topics.content_control)
    assert isinstance(event, ControlIssued)
    assert (event.action, event.content_id, event.by, event.reason) == (
        ControlAction.WITHDRAW,
        content_id,
        "yuyun",
        "wrong figures",
    )
    assert set(event.channels) == {"mastodon-demo", "x-demo"}


async def test_pause_and_resume_are_audited_on_control(
    kafka_bootstrap: str, ingest: Ingest, topics: TopicRegistry
) -> None:
    for path in ("/v1/pause", "/v1/resume"):
        no_reason = await ingest.call("POST", path, {"channels": ["x-demo"]}, role="operator")
        assert no_reason.status == 422, no_reason
        assert ("reason", "required") in {(e["field"], e["rule"]) for e in assert_errors_shape(no_reason)}
        unknown = await ingest.call(
            "POST", path, {"channels": ["x-demo", "myspace-demo"], "reason": "r"}, role="operator"
        )
        assert unknown.status == 422, unknown
        [error] = assert_errors_shape(unknown)
        assert (error["channel"], error["field"], error["rule"]) == (
            "myspace-demo",
            "channels[1]",
            "unknown_channel",
        )
    paused = await ingest.call(
        "POST", "/v1/pause", {"channels": ["x-demo"], "reason": "hoax"}, role="operator"
    )
    assert paused.status == 202, paused
    channels = await ingest.call("GET", "/v1/channels", role="operator")
    x = next(c for c in channels.body["channels"] if c["channel"] == "x-demo")
    assert x["paused"] == {"by": "opa", "reason": "hoax"}
    resumed = await ingest.call("POST", "/v1/resume", {"reason": "clarified"}, role="admin")
    assert resumed.status == 202, resumed
    events = await read_events(kafka_bootstrap, topics.content_control)
    assert [(e.action, e.channels, e.by, e.reason) for e in events if isinstance(e, ControlIssued)] == [
        (ControlAction.PAUSE, ("x-demo",), "opa", "hoax"),
        (ControlAction.RESUME, (), "adi", "clarified"),
    ]


# ---- drafts -----------------------------------------------------------------------------------------


async def test_a_draft_is_approved_by_another_approver(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    plain = {r: f"wk_{r}_" + uuid.uuid4().hex for r in ("editor", "approver", "approver2")}
    store = KeyStore(
        records=(
            KeyRecord(digest_key(plain["editor"]), "rina", Role.EDITOR, frozenset({ALL_CHANNELS})),
            KeyRecord(digest_key(plain["approver"]), "yuyun", Role.APPROVER, frozenset({ALL_CHANNELS})),
            KeyRecord(digest_key(plain["approver2"]), "wati", Role.APPROVER, frozenset({ALL_CHANNELS})),
        )
    )
    async with running_ingest(kafka_bootstrap, topics, tmp_path, keys=store, plain_keys=plain) as app:
        app.people.update(editor="rina", approver="yuyun", approver2="wati")
        not_mine = content_body(author="yuyun", approved_by=None)
        refused = await app.call("POST", "/v1/drafts", not_mine, role="editor")
        assert refused.status in (403, 422), refused
        assert_errors_shape(refused)

        by_editor = await draft(app, "editor")
        by_approver = await draft(app, "approver")
        own = await approve(app, by_approver, "approver")
        assert own.status == 403, own
        assert rules(own) == {"four_eyes"}
        assert "four eyes" in own.body["errors"][0]["message"]

        approved = await approve(app, by_approver, "approver2")
        assert approved.status == 202, approved
        again = await approve(app, by_approver, "approver2")
        assert again.body == approved.body
        assert (await approve(app, by_editor, "approver")).status == 202
        missing = await approve(app, "no-such-draft", "approver")
        assert missing.status == 404, missing

    approved_events = [
        e
        for e in await read_events(kafka_bootstrap, topics.content_approved)
        if isinstance(e, ContentApproved)
    ]
    assert {(e.draft_id, e.author, e.approval.approved_by) for e in approved_events} == {
        (by_approver, "yuyun", "wati"),
        (by_editor, "rina", "yuyun"),
    }
    drafts = await read_events(kafka_bootstrap, topics.content_drafts)
    assert {e.draft_id for e in drafts if isinstance(e, DraftSubmitted)} == {by_editor, by_approver}
    assert {(e.draft_id, e.approved_by) for e in drafts if isinstance(e, DraftApproved)} == {
        (by_approver, "wati"),
        (by_editor, "yuyun"),
    }


# ---- rate limit and operations ----------------------------------------------------------------


async def test_each_key_has_its_own_rate_limit(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(kafka_bootstrap, topics, tmp_path, rate_burst=2, rate_per_minute=1) as app:
        answers = [await app.call("GET", "/v1/channels", role="editor") for _ in range(3)]
        assert [a.status for a in answers[:2]] == [200, 200]
        limited = answers[2]
        assert limited.status == 429, limited
        assert rules(limited) == {"rate_limited"}
        assert int(limited.headers["Retry-After"]) >= 1
        # Another key still has its whole burst.
        assert (await app.call("GET", "/v1/channels", role="operator")).status == 200


async def test_health_readiness_metrics_and_docs(ingest: Ingest) -> None:
    assert (await ingest.call("GET", "/healthz", role=None)).status == 200
    ready = await ingest.call("GET", "/readyz", role=None)
    assert ready.status == 200, ready
    assert ready.body == {"status": "ready"}
    await ingest.call("GET", "/v1/channels", role="editor")
    metrics = await ingest.call("GET", "/metrics", role=None)
    assert metrics.status == 200
    assert 'warta_ingest_requests_total{method="GET",route="/v1/channels",status="200"}' in metrics.body
    document = await ingest.call("GET", "/openapi.json", role=None)
    assert document.status == 200
    assert document.body["openapi"].startswith("3.1")
    assert "/v1/content" in document.body["paths"]
    docs = await ingest.call("GET", "/docs", role=None)
    assert docs.status == 200
    assert docs.headers["Content-Type"].startswith("text/html")
    assert "/openapi.json" in docs.body


async def test_channels_list_every_demo_channel(ingest: Ingest) -> None:
    answer = await ingest.call("GET", "/v1/channels", role="editor")
    assert answer.status == 200, answer
    by_id = {c["channel"]: c for c in answer.body["channels"]}
    assert {"mastodon-demo", "x-demo", "instagram-demo", "telegram-demo"} <= set(by_id)
    assert by_id["x-demo"]["platform"] == "x"
    assert by_id["x-demo"]["constraints"]["max_text_length"] == 280

"""Decisions that must be taken once across ingest instances: a draft's approval and what an
Idempotency-Key stands for; drafts read and approved by their digest; the audit trail; listing
limits, key expiry and the cached readiness. Two real ingest apps share one real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from services.ingest.readiness import Readiness
from shared.events import ContentApproved, DraftApproved
from shared.http_auth import ALL_CHANNELS, KeyRecord, KeyStore, Role, digest_key
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Answer, Ingest, content_body, read_events, running_ingest, wait_for

pytestmark = pytest.mark.integration

APPROVERS = [f"approver{i}" for i in range(6)]


def _people() -> dict[str, tuple[str, Role]]:
    people = {"editor": ("rina", Role.EDITOR)}
    people.update({role: (f"appr{i}", Role.APPROVER) for i, role in enumerate(APPROVERS)})
    return people


@asynccontextmanager
async def two_instances(
    bootstrap: str, topics: TopicRegistry, tmp_path: Path, **overrides: Any
) -> AsyncIterator[tuple[Ingest, Ingest]]:
    """Two ingest apps on the same topics, each with its own producer, feeders and view."""
    people = _people()
    plain = {role: f"wk_{role}_" + uuid.uuid4().hex for role in people}
    store = KeyStore(
        records=tuple(
            KeyRecord(digest_key(plain[role]), person, r, frozenset({ALL_CHANNELS}))
            for role, (person, r) in people.items()
        )
    )
    async with (
        running_ingest(bootstrap, topics, tmp_path, keys=store, plain_keys=plain, **overrides) as one,
        running_ingest(bootstrap, topics, tmp_path, keys=store, plain_keys=plain, **overrides) as two,
    ):
        for app in (one, two):
            app.people.update({role: person for role, (person, _) in people.items()})
        yield one, two


async def new_draft(app: Ingest, *others: Ingest) -> tuple[str, str]:
    """A draft written by the editor, known to every instance; its id and ETag."""
    body = content_body(author=app.people["editor"], approved_by=None)
    written = await app.call("POST", "/v1/drafts", body, role="editor")
    assert written.status == 201, written
    draft_id = str(written.body["draft_id"])
    for other in others:
        await wait_for(lambda o=other: o.deps.view.drafts.get(draft_id) is not None, what="the draft")
    read = await app.call("GET", f"/v1/drafts/{draft_id}", role="approver0")
    assert read.status == 200, read
    return draft_id, header(read, "ETag")


def header(answer: Answer, name: str) -> str:
    return {k.lower(): v for k, v in answer.headers.items()}[name.lower()]


# ---- a draft approved at once by many ----------------------------------------------------------------


async def test_concurrent_approvals_through_two_instances_accept_one(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with two_instances(kafka_bootstrap, topics, tmp_path) as (one, two):
        draft_id, etag = await new_draft(one, two)
        path = f"/v1/drafts/{draft_id}/approve"
        answers = await asyncio.gather(
            *(
                (one if i % 2 else two).call("POST", path, role=role, headers={"If-Match": etag})
                for i, role in enumerate(APPROVERS)
            )
        )
        winners = [a for a in answers if a.status == 202]
        assert len(winners) == 1, [(a.status, a.body) for a in answers]
        winner = one.people[APPROVERS[[a.status for a in answers].index(202)]]
        for refused in (a for a in answers if a.status != 202):
            assert refused.status == 409, refused
            [error] = refused.body["errors"]
            assert error["rule"] == "already_approved"
            assert winner in error["message"]
        # Both instances tell the same story: one approval, the others refused, in the trail;
        # neither lists the draft as awaiting approval any more.
        for app in (one, two):
            awaiting = await app.call("GET", "/v1/drafts?state=awaiting_approval", role="approver0")
            assert awaiting.body["drafts"] == [], awaiting
            read = await app.call("GET", f"/v1/drafts/{draft_id}", role="approver0")
            assert (read.body["approved_by"], read.body["content_id"]) == (
                winner,
                winners[0].body["content_id"],
            )
        trail = read.body["history"]
        assert [e["action"] for e in trail].count("approved") == 1
        assert [e["action"] for e in trail].count("approval_refused") == len(APPROVERS) - 1
    items = [
        e
        for e in await read_events(kafka_bootstrap, topics.content_approved)
        if isinstance(e, ContentApproved)
    ]
    assert [(e.draft_id, e.approval.approved_by) for e in items] == [(draft_id, winner)]


async def test_one_approver_through_two_instances_and_a_restart_gets_one_item(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with two_instances(kafka_bootstrap, topics, tmp_path) as (one, two):
        draft_id, etag = await new_draft(one, two)
        path = f"/v1/drafts/{draft_id}/approve"
        answers = await asyncio.gather(
            *(
                app.call("POST", path, role="approver1", headers={"If-Match": etag})
                for app in (one, two, one, two)
            )
        )
        # The same approver again is a retry: the same item, never a second one.
        assert {a.status for a in answers} == {202}, answers
        assert len({a.body["content_id"] for a in answers}) == 1
        content_id = answers[0].body["content_id"]
    # A restarted instance knows the approval before it answers (it waits for its view), so a
    # second approver right after the restart is refused, and the first one's retry is answered.
    async with two_instances(kafka_bootstrap, topics, tmp_path) as (restarted, _):
        late = await restarted.call("POST", path, role="approver2", headers={"If-Match": etag})
        assert late.status == 409, late
        retry = await restarted.call("POST", path, role="approver1", headers={"If-Match": etag})
        assert (retry.status, retry.body["content_id"]) == (202, content_id), retry
    items = [
        e
        for e in await read_events(kafka_bootstrap, topics.content_approved)
        if isinstance(e, ContentApproved)
    ]
    assert len(items) == 1, items


# ---- one Idempotency-Key sent together --------------------------------------------------------------


async def test_one_key_with_several_bodies_at_once_accepts_one_body_once(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    bodies = [
        content_body(author="budi", approved_by="appr0", text=f"Versi {n} #{uuid.uuid4().hex[:6]}")
        for n in range(4)
    ]
    key = {"Idempotency-Key": "adpim-" + uuid.uuid4().hex}
    async with two_instances(kafka_bootstrap, topics, tmp_path) as (one, two):
        sent = [(n % 4, one if n % 2 else two) for n in range(8)]  # every body twice, on both instances
        answers = await asyncio.gather(
            *(app.call("POST", "/v1/content", bodies[b], role="approver0", headers=key) for b, app in sent)
        )
    by_body: dict[int, set[int]] = {}
    for (b, _), answer in zip(sent, answers, strict=True):
        by_body.setdefault(b, set()).add(answer.status)
    accepted = [b for b, statuses in by_body.items() if statuses == {202}]
    assert len(accepted) == 1, [(b, a.status, a.body) for (b, _), a in zip(sent, answers, strict=True)]
    assert all(statuses == {409} for b, statuses in by_body.items() if b != accepted[0]), by_body
    assert len({a.body["content_id"] for a in answers if a.status == 202}) == 1
    items = [
        e
        for e in await read_events(kafka_bootstrap, topics.content_approved)
        if isinstance(e, ContentApproved)
    ]
    assert len(items) == 1, items
    assert items[0].variants[0].content.text == bodies[accepted[0]]["content"]["text"]


async def test_a_key_is_forgotten_after_its_time(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    key = {"Idempotency-Key": "adpim-" + uuid.uuid4().hex}
    async with running_ingest(kafka_bootstrap, topics, tmp_path, idempotency_ttl_s=1.0) as app:
        first = await app.call("POST", "/v1/content", content_body(), headers=key)
        assert first.status == 202, first
        assert (await app.call("POST", "/v1/content", content_body(), headers=key)).status == 409
        await asyncio.sleep(1.2)
        later = await app.call("POST", "/v1/content", content_body(), headers=key)
        assert later.status == 202, later
        assert later.body["content_id"] != first.body["content_id"]


# ---- drafts are read, then approved as read ----------------------------------------------------------


async def test_an_approval_names_the_content_its_approver_read(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with two_instances(kafka_bootstrap, topics, tmp_path) as (app, _):
        draft_id, etag = await new_draft(app)
        listed = await app.call("GET", "/v1/drafts?state=awaiting_approval", role="approver0")
        assert listed.status == 200, listed
        assert [d["draft_id"] for d in listed.body["drafts"]] == [draft_id]
        assert listed.body["drafts"][0]["content_sha256"] == etag.strip('"')
        path = f"/v1/drafts/{draft_id}/approve"

        blind = await app.call("POST", path, role="approver0")
        assert blind.status == 428, blind
        assert blind.body["errors"][0]["field"] == "If-Match"
        assert (await app.call("POST", path, role="approver0", headers={"If-Match": "*"})).status == 428
        stale = await app.call("POST", path, role="approver0", headers={"If-Match": '"' + "0" * 64 + '"'})
        assert stale.status == 412, stale
        assert etag in stale.body["errors"][0]["message"]
        weak = await app.call("POST", path, role="approver0", headers={"If-Match": "W/" + etag})
        assert weak.status == 412, weak
        assert not app.deps.view.drafts.get(draft_id).approval  # type: ignore[union-attr]

        approved = await app.call("POST", path, role="approver0", headers={"If-Match": etag})
        assert approved.status == 202, approved
        read = await app.call("GET", f"/v1/drafts/{draft_id}", role="editor")
        assert read.body["state"] == "approved"
        trail = read.body["history"]
        assert [(e["action"], e["by"], e["content_sha256"]) for e in trail] == [
            ("submitted", "rina", etag.strip('"')),
            ("approved", "appr0", etag.strip('"')),
        ]
        assert trail[1]["content_id"] == approved.body["content_id"]
        assert (await app.call("GET", "/v1/drafts?state=awaiting_approval", role="editor")).body[
            "drafts"
        ] == []
        assert (await app.call("GET", "/v1/drafts?state=nope", role="editor")).status == 422
        assert (await app.call("GET", "/v1/drafts?cursor=%C2%B2", role="editor")).status == 422
        assert (await app.call("GET", "/v1/drafts/none-such", role="editor")).status == 404
    claims = [
        e for e in await read_events(kafka_bootstrap, topics.content_drafts) if isinstance(e, DraftApproved)
    ]
    assert [(c.approved_by, c.content_sha256) for c in claims] == [("appr0", etag.strip('"'))]


# ---- what anyone may call often ---------------------------------------------------------------------


async def test_listing_has_its_own_stricter_limit(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(
        kafka_bootstrap, topics, tmp_path, list_rate_burst=2, list_rate_per_minute=1
    ) as app:
        pages = [await app.call("GET", "/v1/content", role="editor") for _ in range(3)]
        assert [p.status for p in pages] == [200, 200, 429], pages
        assert int(pages[2].headers["Retry-After"]) >= 1
        assert (await app.call("GET", "/v1/drafts", role="editor")).status == 429
        assert (await app.call("GET", "/v1/channels", role="editor")).status == 200


async def test_readiness_asks_the_broker_at_most_once_per_interval(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(kafka_bootstrap, topics, tmp_path, readiness_cache_s=30) as app:
        answers = await asyncio.gather(*(app.call("GET", "/readyz", role=None) for _ in range(20)))
        assert {a.status for a in answers} == {200}
        assert (app.deps.readiness.probes, app.deps.readiness.clients_opened) == (1, 1)


async def test_readiness_without_a_broker_says_so_and_tries_a_fresh_client_next_time() -> None:
    readiness = Readiness("127.0.0.1:1", ["content.approved"], ttl_s=0, timeout_s=1)
    try:
        assert (await readiness.problems())[0].startswith("broker unreachable")
        assert (await readiness.problems())[0].startswith("broker unreachable")
        assert (readiness.probes, readiness.clients_opened) == (2, 2)
    finally:
        await readiness.close()

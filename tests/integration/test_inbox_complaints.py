"""The complaint channel on the real broker with the LAPOR! fake: an operator records a comment
as a complaint, LAPOR! fails the first forward (the record stays, with the reason), the retry
forwards it once, it is answered and closed; the records come back from ``complaints.items``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.inbox.book import key_of
from services.inbox.complaint_desk import ComplaintDesk
from services.inbox.follow import read_to_end
from services.inbox.lapor_http import UnconfiguredLapor
from shared.dead_letters import DeadLetters
from shared.events import CommentAuthor, CommentObserved, ComplaintChanged
from tests.integration.inbox_system import InboxSystem, inbox_system
from tests.integration.poison_kit import read_all

pytestmark = pytest.mark.integration


async def call(
    system: InboxSystem, method: str, path: str, role: str = "editor", **kw: Any
) -> tuple[int, Any]:
    async with system.env.session.request(
        method, system.url(path), headers=system.auth(role), **kw
    ) as answer:
        return answer.status, await answer.json(content_type=None)


async def a_comment(system: InboxSystem, comment_id: str) -> str:
    now = datetime.now(UTC)
    comment = CommentObserved(
        event_id=f"ev{comment_id}",
        occurred_at=now,
        comment_id=comment_id,
        post_id="p1",
        channel="facebook-demo",
        platform="facebook",
        author=CommentAuthor(id="u1", name="Warga Bekasi"),
        text="Lampu jalan mati sejak seminggu\nmohon diperbaiki",
        created_at=now,
        via="webhook",
    )
    assert await system.inbox.keeper.receive([comment]) == 1
    (entry,) = [e for e in system.inbox.keeper.book.select() if e.comment.comment_id == comment_id]
    return key_of(entry)


async def test_a_complaint_is_recorded_forwarded_once_answered_and_closed(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        key = await a_comment(system, "c-lampu")
        status, made = await call(
            system, "POST", f"/v1/inbox/{key}/complaint", json={"reason": "lampu jalan"}
        )
        assert (status, made["state"], made["by"], made["overdue"]) == (201, "recorded", "rina", False)
        assert made["next_due"] == made["forward_due"]
        status, again = await call(system, "POST", f"/v1/inbox/{key}/complaint", json={})
        assert (status, again["errors"][0]["rule"]) == (409, "complaint_state")

        # LAPOR! is down: 502, the record stays recorded with the reason and the attempt counted.
        async with system.env.session.post(system.env.url("/lapor/_fake/fail"), json={"status": 503}):
            pass
        status, problem = await call(
            system, "POST", f"/v1/complaints/{key}/forward", json={"reason": "dinas PU"}
        )
        assert (status, problem["errors"][0]["rule"]) == (502, "lapor_unavailable")
        status, kept = await call(system, "GET", f"/v1/complaints/{key}")
        assert (kept["state"], kept["forward_attempts"], "503" in kept["last_error"]) == ("recorded", 1, True)
        assert kept["retry_forward"] is True

        status, sent = await call(
            system, "POST", f"/v1/complaints/{key}/forward", json={"reason": "dinas PU"}
        )
        assert (status, sent["state"], sent["tracking_id"]) == (200, "forwarded", "LAPOR-000001")
        assert "last_error" not in sent
        twice = await call(system, "POST", f"/v1/complaints/{key}/forward", json={})
        assert twice[0] == 409  # a forwarded complaint is never sent again
        async with system.env.session.get(system.env.url("/lapor/_fake/complaints")) as answer:
            held = (await answer.json())["complaints"]
        assert [(c["client_reference"], c["title"]) for c in held] == [
            (key, "Lampu jalan mati sejak seminggu")
        ]

        status, body = await call(
            system, "POST", f"/v1/complaints/{key}/answer", json={"reason": "diperbaiki"}
        )
        assert (status, body["state"], body["next_due"] == body["close_due"]) == (200, "answered", True)
        status, listed = await call(system, "GET", "/v1/complaints?state=answered")
        assert (listed["total"], listed["overdue"]) == (1, 0)
        status, listed = await call(system, "GET", "/v1/complaints?overdue=true")
        assert listed["total"] == 0
        status, body = await call(system, "POST", f"/v1/complaints/{key}/close", json={"reason": "selesai"})
        assert (status, body["state"]) == (200, "closed")

        # Refusals: unknown ids, bad filters, bodies that are not objects.
        assert (await call(system, "GET", "/v1/complaints/nope"))[0] == 404
        assert (await call(system, "POST", "/v1/inbox/nope/complaint", json={}))[0] == 404
        assert (await call(system, "GET", "/v1/complaints?state=lost"))[0] == 422
        assert (await call(system, "GET", "/v1/complaints?overdue=maybe"))[0] == 422
        assert (await call(system, "POST", f"/v1/complaints/{key}/close", json=[1]))[0] == 400
        assert (await call(system, "POST", f"/v1/complaints/{key}/close", json={"x": 1}))[0] == 422
        async with system.env.session.get(system.url("/metrics")) as answer:
            figures = await answer.text()
        assert 'warta_inbox_complaints_overdue{channel="facebook-demo",state="closed"} 0.0' in figures

        # The audit trail has every change with who and why; the compacted topic rebuilds the desk.
        audit = [
            e
            for e in await read_all(
                kafka_bootstrap, system.topics.complaints_changes, lambda got: len(got) >= 5
            )
            if isinstance(e, ComplaintChanged)
        ]
        assert [(e.action.value, e.by, e.reason) for e in audit] == [
            ("record", "rina", "lampu jalan"),
            ("forward_failed", "rina", "dinas PU"),
            ("forward", "rina", "dinas PU"),
            ("answer", "rina", "diperbaiki"),
            ("close", "rina", "selesai"),
        ]
        desk = system.inbox.complaints
        rebuilt = ComplaintDesk(
            producer=system.producer,
            topics=system.topics,
            port=UnconfiguredLapor(),
            hours=desk.hours,
            zone_of=desk.zone_of,
        )
        dead = DeadLetters(system.topics.publish_dead, "test", producer=system.producer)
        await read_to_end(kafka_bootstrap, system.topics.complaints_items, rebuilt.apply, dead)
        assert rebuilt.records == desk.records


async def test_an_outage_is_retried_by_the_inbox_and_a_refusal_waits_for_an_operator(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        desk = system.inbox.complaints
        down, refused = await a_comment(system, "c-down"), await a_comment(system, "c-refused")
        for key, status in ((down, 503), (refused, 422)):
            assert (await call(system, "POST", f"/v1/inbox/{key}/complaint", json={}))[0] == 201
            async with system.env.session.post(system.env.url("/lapor/_fake/fail"), json={"status": status}):
                pass
            assert (await call(system, "POST", f"/v1/complaints/{key}/forward", json={}))[0] == 502
        assert (desk.get(down).retry_forward, desk.get(refused).retry_forward) == (True, False)
        assert await desk.retry_forwards(timedelta(hours=1)) == 0  # not yet: the pause holds
        assert await desk.retry_forwards(timedelta(0)) == 1
        assert (desk.get(down).state, desk.get(down).by, desk.get(down).forward_attempts) == (
            "forwarded",
            "warta-inbox",
            2,
        )
        assert (desk.get(refused).state, desk.get(refused).forward_attempts) == ("recorded", 1)
        assert await desk.retry_forwards(timedelta(0)) == 0
        async with system.env.session.get(system.env.url("/lapor/_fake/complaints")) as answer:
            held = (await answer.json())["complaints"]
        assert [c["client_reference"] for c in held] == [down]

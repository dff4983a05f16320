"""The inbox API on the real broker: filters, assign, close, replies with and without four eyes,
refusals, and the inbox rebuilt from the compacted ``inbox.items`` after a restart.

Comments arrive as Meta delivers them (signed webhooks from the Facebook fake); the channel
``instagram-demo`` requires four eyes on replies.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import FakePost
from services.inbox.app import running_inbox
from shared.events import InboxChanged, InboxState
from shared.http_auth import KeyStore
from tests.integration.inbox_system import (
    APP_SECRET,
    IG_USER,
    PAGE_ID,
    VERIFY_TOKEN,
    InboxSystem,
    inbox_system,
)
from tests.integration.poison_kit import eventually, read_all

pytestmark = pytest.mark.integration


async def call(
    system: InboxSystem, method: str, path: str, role: str = "editor", **kw: Any
) -> tuple[int, Any]:
    async with system.env.session.request(
        method, system.url(path), headers=system.auth(role), **kw
    ) as answer:
        return answer.status, await answer.json(content_type=None)


async def pages_read_each_entry_once(system: InboxSystem, present: set[str]) -> None:
    """Paging while a comment arrives: the pages read each of the ``present`` comments once (a
    row offset would repeat the one before wherever the newcomer sorts before it); the newcomer
    shows on a later page only if it sorts after the first (the fake stamps whole seconds)."""
    book = system.inbox.keeper.book
    status, page = await call(system, "GET", "/v1/inbox?limit=1")
    seen = [item["comment"]["comment_id"] for item in page["items"]]
    late = await system.comment("facebook", f"{PAGE_ID}_7", "Baru masuk", author="warga3")
    await eventually(lambda: len(book) > len(present), "one more comment in the inbox")
    while "next_cursor" in page:
        status, page = await call(system, "GET", f"/v1/inbox?limit=1&cursor={page['next_cursor']}")
        assert status == 200
        seen += [item["comment"]["comment_id"] for item in page["items"]]
    assert len(seen) == len(set(seen)), seen
    assert present <= set(seen) <= present | {late}
    # A cursor it did not hand out: a number (the old row offset), not JSON, a time without its
    # offset, not base64, too long.
    for cursor in ("3", "bm90IGpzb24", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiayJd", "%C2%B2", "x" * 5000):
        async with system.env.session.get(
            system.url(f"/v1/inbox?cursor={cursor}"), headers=system.auth("editor")
        ) as answer:
            assert (answer.status, answer.content_type) == (400, "application/problem+json"), cursor
            assert (await answer.json(content_type=None))["errors"][0]["field"] == "cursor"


async def answered(system: InboxSystem, key: str) -> None:
    """Wait until the replier has posted the reply to ``key`` and the entry says so."""

    def done() -> bool:
        entry = system.inbox.keeper.book.get(key)
        return entry is not None and entry.state == InboxState.ANSWERED

    await eventually(done, f"{key} answered")


async def test_operators_work_the_inbox_and_it_survives_a_restart(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(
        kafka_bootstrap, run_id, tmp_path, four_eyes=("instagram-demo",), publishing=("facebook", "instagram")
    ) as system:
        subscribe = {
            "callback_url": system.url("/webhooks/meta"),
            "verify_token": VERIFY_TOKEN,
            "app_secret": APP_SECRET,
        }
        for platform in ("facebook", "instagram"):
            async with system.env.session.post(
                system.env.url(f"/{platform}/_fake/subscriptions"), json=subscribe
            ) as a:
                assert a.status == 201
        now = datetime.now(UTC)
        await system.published(
            "facebook-demo",
            "facebook",
            FakePost(f"{PAGE_ID}_7", "demo", "Banjir", now, url="u", data={"page": PAGE_ID}),
        )
        await system.published(
            "instagram-demo", "instagram", FakePost("179001", "demo", "Foto", now, data={"owner": IG_USER})
        )
        fb1 = await system.comment("facebook", f"{PAGE_ID}_7", "Kapan surut?", author="warga1")
        fb2 = await system.comment("facebook", f"{PAGE_ID}_7", "Spam spam", author="bot")
        ig1 = await system.comment("instagram", "179001", "Bagus", author="warga2")
        book = system.inbox.keeper.book
        await eventually(lambda: len(book) >= 3, "three comments in the inbox")
        keys = {e.comment.comment_id: e.comment.event_id for e in book.select()}

        status, page = await call(system, "GET", "/v1/inbox?channel=facebook-demo&state=new")
        assert status == 200
        assert {item["comment"]["comment_id"] for item in page["items"]} == {fb1, fb2}
        status, page = await call(system, "GET", "/v1/inbox?post=179001&limit=1")
        assert [item["comment"]["comment_id"] for item in page["items"]] == [ig1]

        await pages_read_each_entry_once(system, {fb1, fb2, ig1})

        status, body = await call(
            system, "POST", f"/v1/inbox/{keys[fb1]}/assign", json={"assignee": "budi", "reason": "dinas PU"}
        )
        assert (status, body["state"], body["assignee"], body["by"]) == (200, "assigned", "budi", "rina")
        status, body = await call(system, "POST", f"/v1/inbox/{keys[fb2]}/hide", json={"reason": "spam"})
        assert (status, body["state"]) == (200, "hidden")
        status, body = await call(
            system, "POST", f"/v1/inbox/{keys[fb1]}/reply", json={"text": "Besok pagi."}
        )
        assert (status, body["state"], body["reply"]["approved_by"]) == (200, "replying", "rina")
        await answered(system, keys[fb1])
        status, body = await call(
            system, "POST", f"/v1/inbox/{keys[fb1]}/reply", "operator", json={"text": "Lusa."}
        )
        assert status == 409
        assert "override" in body["errors"][0]["message"]

        # Four eyes on instagram-demo: a draft (202), refused to its author, sent by an approver.
        status, body = await call(
            system, "POST", f"/v1/inbox/{keys[ig1]}/reply", json={"text": "Terima kasih!"}
        )
        assert (status, body["state"], body["reply"].get("approved_by")) == (202, "new", None)
        status, body = await call(system, "POST", f"/v1/inbox/{keys[ig1]}/approve", json={})
        assert (status, body["errors"][0]["rule"]) == (403, "four_eyes")
        status, body = await call(system, "POST", f"/v1/inbox/{keys[ig1]}/approve", "approver", json={})
        assert (status, body["state"], body["reply"]["drafted_by"], body["reply"]["approved_by"]) == (
            200, "replying", "rina", "yuyun")  # fmt: skip
        await answered(system, keys[ig1])

        # Refusals: no key, unknown comment, bad bodies, a closed comment.
        async with system.env.session.get(system.url("/v1/inbox")) as answer:
            assert answer.status == 401
        assert (await call(system, "GET", "/v1/inbox/ibnothere"))[0] == 404
        assert (await call(system, "GET", "/v1/inbox?state=lost"))[0] == 422
        bad_bodies = [
            (b"{", "application/json", 400),
            (b"[]", "application/json", 400),
            (b'{"reason": "x"}', "text/plain", 415),
            (b'{"reason": "x", "extra": 1}', "application/json", 422),
            (b'{"reason": "' + b"x" * 70_000 + b'"}', "application/json", 413),
        ]
        for raw, content_type, expected in bad_bodies:
            headers = {**system.auth("editor"), "Content-Type": content_type}
            async with system.env.session.post(
                system.url(f"/v1/inbox/{keys[fb2]}/close"), data=raw, headers=headers
            ) as a:
                assert a.status == expected, (raw[:30], await a.text())
        status, body = await call(
            system, "POST", f"/v1/inbox/{keys[fb2]}/close", json={"reason": "spam ditutup"}
        )
        assert (status, body["state"], body["from_state"]) == (200, "closed", "hidden")
        assert (await call(system, "POST", f"/v1/inbox/{keys[fb2]}/assign", json={"assignee": "budi"}))[
            0
        ] == 409

        # The audit trail has every change with who and why; the compacted topic rebuilds the inbox.
        changes = await read_all(kafka_bootstrap, system.topics.inbox_changes, lambda evs: len(evs) >= 9)
        trail = [(e.comment.comment_id, e.action.value, e.by) for e in changes if isinstance(e, InboxChanged)]
        assert (fb1, "assign", "rina") in trail
        assert (ig1, "draft_reply", "rina") in trail
        assert (ig1, "reply", "yuyun") in trail
        before = {k: (e.state, e.version) for k, e in ((k, book.get(k)) for k in keys.values()) if e}
        again = asyncio.Event()
        async with running_inbox(
            system.settings, again, keys=KeyStore.load(tmp_path / "keys.json")
        ) as second:
            after = {
                k: (e.state, e.version)
                for k, e in ((k, second.keeper.book.get(k)) for k in keys.values())
                if e
            }
        assert after == before

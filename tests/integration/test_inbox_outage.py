"""Broker outage under the inbox: every write answers 503 with Retry-After and changes nothing,
promptly (the inbox's acknowledgement deadline, far inside the 20 s Meta waits for a webhook);
once the broker is back, the same calls succeed, and a webhook delivery refused during the outage
is written when Meta delivers it again (never skipped as already written).

This test stops and starts a broker of its own (deploy/kafka/broker.sh on free ports, data under
var/test-inbox-outage-<run>), never the session's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from sandbox.base import FakeComment, FakePost
from sandbox.meta_comments import facebook_comment_delivery, sign
from services.inbox.book import key_of
from services.inbox.watched import comment_key
from shared.events import CommentAuthor, CommentObserved
from tests.integration.inbox_system import APP_SECRET, PAGE_ID, InboxSystem, inbox_system
from tests.kafka_broker import own_broker

pytestmark = pytest.mark.integration

T = TypeVar("T")

# Meta's documented wait for a webhook's answer (Messenger Platform FAQ: "A webhook call will
# timeout after 20 seconds"); a 503 after it would be a timed-out delivery, not a refusal.
META_WEBHOOK_TIMEOUT_S = 20.0


async def call(system: InboxSystem, method: str, path: str, **kw: Any) -> tuple[int, Any, Any]:
    # Generous: a hung answer fails the test here rather than hanging it.
    headers = kw.pop("headers", None) or system.auth("editor")
    async with asyncio.timeout(120):
        async with system.env.session.request(method, system.url(path), headers=headers, **kw) as answer:
            return answer.status, answer.headers, await answer.json(content_type=None)


async def until_accepted(system: InboxSystem, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    """The client's loop: the same call again after Retry-After, for two minutes at most."""
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        status, headers, body = await call(system, method, path, **kw)
        if status != 503 or asyncio.get_running_loop().time() > deadline:
            return status, body
        await asyncio.sleep(float(headers.get("Retry-After", "1")))


async def timed(calls: list[Coroutine[Any, Any, T]]) -> tuple[list[T], list[float]]:
    """Each call's result and its seconds, all at once."""
    loop = asyncio.get_running_loop()

    async def one(call: Coroutine[Any, Any, T]) -> tuple[T, float]:
        started = loop.time()
        result = await call
        return result, loop.time() - started

    done = await asyncio.gather(*(one(c) for c in calls))
    return [r for r, _ in done], [t for _, t in done]


def a_comment(comment_id: str) -> CommentObserved:
    now = datetime.now(UTC)
    return CommentObserved(
        event_id=comment_key("facebook-demo", comment_id),
        occurred_at=now,
        comment_id=comment_id,
        post_id=f"{PAGE_ID}_1",
        channel="facebook-demo",
        platform="facebook",
        author=CommentAuthor(id="u1", name="Warga"),
        text="Jalan berlubang di depan pasar",
        created_at=now,
        via="webhook",
    )


async def test_inbox_writes_answer_503_while_the_broker_is_down_and_succeed_after(
    run_id: str, tmp_path: Path
) -> None:
    with own_broker("test-inbox-outage", heap="512m") as broker:
        async with inbox_system(broker.bootstrap, run_id, tmp_path) as system:
            assert await system.inbox.keeper.receive([a_comment("c1")]) == 1
            (entry,) = system.inbox.keeper.book.select()
            key = key_of(entry)
            post = FakePost(f"{PAGE_ID}_1", "demo", "x", entry.comment.created_at, url="u")
            delivery = orjson.dumps(
                facebook_comment_delivery(
                    PAGE_ID, post, FakeComment("1_2", post.id, "w", "hai", entry.comment.created_at)
                )
            )
            signed = {"X-Hub-Signature-256": sign(delivery, APP_SECRET), "Content-Type": "application/json"}
            # One write per path to the broker (the keeper, the complaint desk, the saved answers,
            # the collector), at once: each waits for the acknowledgement deadline, then answers.
            # Reply, hide, close and reopen are the same handler and the same keeper as assign.
            writes: list[tuple[str, str, dict[str, Any]]] = [
                ("POST", f"/v1/inbox/{key}/assign", {"json": {"assignee": "budi", "reason": "jalan"}}),
                ("POST", f"/v1/inbox/{key}/complaint", {"json": {}}),
                ("PUT", "/v1/inbox/templates/terima-kasih", {"json": {"text_en": "Thanks", "text_id": "Terima kasih"}, "headers": system.auth("approver")}),
                ("POST", "/webhooks/meta", {"data": delivery, "headers": signed}),
            ]  # fmt: skip

            broker.run("stop")
            try:
                answers, took = await timed([call(system, m, p, **kw) for m, p, kw in writes])
                deadline = system.settings.ack_deadline_s
                # Each waited for the deadline (no sooner: the broker is only down, not refusing),
                # then answered; the slack is a loaded machine's.
                assert all(deadline - 0.5 <= t <= deadline + 4.0 for t in took), (deadline, took)
                assert max(took) < META_WEBHOOK_TIMEOUT_S / 2, took
                for (method, path, _), (status, headers, body) in zip(writes, answers, strict=True):
                    assert (status, headers.get("Content-Type")) == (503, "application/problem+json"), (
                        method,
                        path,
                        body,
                    )
                    assert (headers["Retry-After"], body["errors"][0]["rule"]) == ("5", "broker"), path
                # Nothing changed: the entry is as it was, the delivery's comment is not in the inbox.
                status, _, shown = await call(system, "GET", f"/v1/inbox/{key}")
                assert (status, shown["state"], shown.get("assignee")) == (200, "new", None)
                assert comment_key("facebook-demo", "1_2") not in system.inbox.keeper.book
            finally:
                broker.run("start")

            status, body = await until_accepted(
                system, "POST", f"/v1/inbox/{key}/assign", json=writes[0][2]["json"]
            )
            assert (status, body["state"], body["assignee"]) == (200, "assigned", "budi")
            status, body = await until_accepted(
                system, "POST", "/webhooks/meta", data=delivery, headers=signed
            )
            assert (status, body["received"]) == (200, 1)

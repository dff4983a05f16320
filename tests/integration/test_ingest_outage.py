"""Broker outage: stop the broker → 503 with Retry-After and nothing accepted; start it
again → the client's retry with the same Idempotency-Key is accepted once, and the topic holds
exactly one event. A draft's read is 503 during the outage and answered again after it.

This test stops and starts a broker of its own (deploy/kafka/broker.sh on port 19192, data under
var/test-outage), never the session's.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from shared.events import ContentApproved
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Answer, Ingest, content_body, read_events, running_ingest
from tests.kafka_broker import own_broker

pytestmark = pytest.mark.integration


async def post(app: Ingest, body: dict[str, object], key: str) -> Answer:
    # Generous: the answer is bounded by ack_timeout_s, but the machine may be slow.
    return await asyncio.wait_for(
        app.call("POST", "/v1/content", body, headers={"Idempotency-Key": key}), 120
    )


async def test_a_broker_outage_answers_503_and_the_retry_is_accepted_once(
    topics: TopicRegistry, tmp_path: Path
) -> None:
    body = content_body(("mastodon-demo", "x-demo"))
    key = "adpim-" + uuid.uuid4().hex
    with own_broker("test-outage") as broker:
        async with running_ingest(
            broker.bootstrap, topics, tmp_path, ack_timeout_s=3, retry_after_s=2
        ) as app:
            # The producer knows the topic's leaders before the outage, so the record is queued
            # and would reach the broker when it returns: the harder case.
            await app.deps.writer.producer.partitions_for(topics.content_approved)
            draft = await app.call("POST", "/v1/drafts", content_body(approved_by=None), role="editor")
            assert draft.status == 201, draft
            draft_path = f"/v1/drafts/{draft.body['draft_id']}"
            assert (await app.call("GET", draft_path)).status == 200
            broker.run("stop")
            try:
                refused = await post(app, body, key)
                assert refused.status == 503, refused
                assert refused.headers["Retry-After"] == "2"
                [error] = refused.body["errors"]
                assert error["rule"] == "unavailable"
                assert "Idempotency-Key" in error["message"]
                # Nothing is half-written: the item is not shown as accepted anywhere.
                listing = await app.call("GET", "/v1/content", role="editor")
                assert listing.body["total"] == 0, listing
                # Still down: the retry is refused the same way, and writes nothing new.
                assert (await post(app, body, key)).status == 503
                assert (await post(app, dict(body, priority="urgent"), key)).status == 409
                # A draft's read must hold every instance's approvals: not answered from a view
                # that cannot tell whether it is behind.
                unsure = await asyncio.wait_for(app.call("GET", draft_path), 120)
                assert unsure.status == 503, unsure
                assert unsure.body["errors"][0]["rule"] == "unavailable"
                assert "another ingest instance" in unsure.body["errors"][0]["message"]
                listing = await asyncio.wait_for(app.call("GET", "/v1/drafts", role="editor"), 120)
                assert listing.status == 503, listing
            finally:
                broker.run("start")

            accepted = await retry_until_accepted(app, body, key)
            assert accepted.status == 202, accepted
            again = await post(app, body, key)
            assert again.status == 202, again
            assert again.body == accepted.body
            assert (await app.call("GET", draft_path)).status == 200
            # The producer recovered: a new item is accepted straight away.
            assert (await post(app, content_body(), "next-" + uuid.uuid4().hex)).status == 202

        events = [
            e
            for e in await read_events(broker.bootstrap, topics.content_approved)
            if isinstance(e, ContentApproved)
        ]
        ours = [e for e in events if e.idempotency_key == key]
        assert [e.content_id for e in ours] == [accepted.body["content_id"]]
        assert len(events) == 2


async def retry_until_accepted(app: Ingest, body: dict[str, object], key: str) -> Answer:
    """The client's loop: retry with the same key, honouring Retry-After (for 2 minutes at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while True:
        answer = await post(app, body, key)
        if answer.status != 503 or loop.time() > deadline:
            return answer
        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))

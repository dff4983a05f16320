"""An item whose event would be too large for the broker is refused with 413 before anything is
written: no item, no Idempotency-Key claim, no draft approval. The real broker judges the
default limit: it takes an event of that size, and refuses one past its own limit (which ingest
used to answer 503, retry later, for ever)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.ingest.settings import IngestSettings
from shared.codec import encode
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    DraftApproved,
    IdempotencyClaimed,
)
from shared.kafka import KafkaUnavailable
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Ingest, content_body, read_events, running_ingest

pytestmark = pytest.mark.integration

JAVANESE = "\ua997"  # ꦗ: three bytes in UTF-8
BOTH = ("wordpress-demo", "webhook-demo")  # the demo channels that take text of any length
LIMIT = 300_000


async def post(app: Ingest, path: str, body: dict[str, object], role: str, key: str = "") -> tuple[int, Any]:
    # orjson writes the text as UTF-8, not as escapes: the body stays under its own limit.
    headers = {"Idempotency-Key": key, "Accept-Language": "id"} if key else {"Accept-Language": "id"}
    answer = await app.call("POST", path, raw=orjson.dumps(body), role=role, headers=headers)
    return answer.status, answer.body


async def test_an_item_too_large_for_the_broker_is_413_and_nothing_is_claimed(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    text = JAVANESE * 80_000  # 240,000 bytes: one copy fits the limit, two do not
    keys = ["big-" + uuid.uuid4().hex, "one-" + uuid.uuid4().hex]
    async with running_ingest(kafka_bootstrap, topics, tmp_path, max_event_bytes=LIMIT) as app:
        status, refused = await post(app, "/v1/content", content_body(BOTH, text=text), "approver", keys[0])
        assert status == 413, refused
        [error] = refused["errors"]
        assert error["rule"] == "payload_too_large"
        assert error["params"]["limit"] == LIMIT
        assert error["params"]["channels"] == 2
        assert error["params"]["size"] > LIMIT
        assert f"{error['params']['size']} byte" in error["message"]  # in the caller's language
        status, accepted = await post(
            app, "/v1/content", content_body(BOTH[:1], text=text), "approver", keys[1]
        )
        assert status == 202, accepted

        draft = content_body(BOTH, author=app.people["editor"], approved_by=None, text=text)
        status, written = await post(app, "/v1/drafts", draft, "editor")
        assert status == 201, written
        path = f"/v1/drafts/{written['draft_id']}/approve"
        answer = await app.call("POST", path, headers={"If-Match": f'"{written["content_sha256"]}"'})
        assert answer.status == 413, answer
        read = await app.call("GET", f"/v1/drafts/{written['draft_id']}")
        assert read.body["state"] == "awaiting_approval", read
    claims = await read_events(kafka_bootstrap, topics.ingest_idempotency)
    assert [e.idempotency_key for e in claims if isinstance(e, IdempotencyClaimed)] == keys[1:]
    drafts = await read_events(kafka_bootstrap, topics.content_drafts)
    assert not [e for e in drafts if isinstance(e, DraftApproved)]
    items = await read_events(kafka_bootstrap, topics.content_approved)
    assert [e.content_id for e in items if isinstance(e, ContentApproved)] == [accepted["content_id"]]


def event_of(size: int) -> ContentApproved:
    """A content.approved event of exactly ``size`` bytes, encoded."""

    def made(text: str) -> ContentApproved:
        return ContentApproved(
            event_id="e-" + uuid.uuid4().hex,
            occurred_at="2026-11-26T03:00:00Z",
            content_id=uuid.uuid4().hex[:24],
            author="rina",
            approval=Approval(approved_by="yuyun", approved_at="2026-11-26T02:59:00Z"),
            submitted_by="yuyun",
            variants=(ChannelVariant(channel="wordpress-demo", content=Content(text=text)),),
        )

    event = made("x" * (size - len(encode(made("x"))) + 1))
    assert len(encode(event)) == size
    return event


async def test_the_broker_takes_an_event_at_the_default_limit_and_refuses_one_past_its_own(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    default = IngestSettings.model_fields["max_event_bytes"].default
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        assert app.deps.settings.max_event_bytes == default
        topic = topics.content_approved
        at_limit = event_of(default)
        await app.deps.writer.write(topic, at_limit.content_id, at_limit)
        past = event_of(1_048_588 + 1)  # message.max.bytes, the broker's default
        with pytest.raises(KafkaUnavailable):
            await app.deps.writer.write(topic, past.content_id, past)

"""A retry answers what its first use was given, however late it comes within the key's time: an
Idempotency-Key's retry, and a draft's approver approving again, are judged as of their first
use, not against the clock of the retry (design.md, guarantee 1). Ingest runs on the real
broker; its clock is held by the test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.events import ContentApproved
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Ingest, content_body, read_events, running_ingest

pytestmark = pytest.mark.integration


def hold_clock(app: Ingest, at: datetime) -> None:
    app.deps.clock = lambda: at


async def stored_items(bootstrap: str, topics: TopicRegistry) -> list[str]:
    """The content ids on content.approved, in order."""
    events = await read_events(bootstrap, topics.content_approved)
    return [e.content_id for e in events if isinstance(e, ContentApproved)]


async def test_a_key_retried_past_the_deadline_answers_the_accepted_item(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    start = datetime.now(UTC)
    body = content_body(deadline=(start + timedelta(minutes=20)).isoformat())
    key = {"Idempotency-Key": "k9-" + uuid.uuid4().hex}
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        hold_clock(app, start)
        first = await app.call("POST", "/v1/content", body, headers=key)
        assert first.status == 202, first
        hold_clock(app, start + timedelta(minutes=30))
        retry = await app.call("POST", "/v1/content", body, headers=key)
        assert (retry.status, retry.body) == (202, first.body), retry
        # Still one body per key: another one is refused as before, not judged on its dates.
        other = dict(body, priority="urgent")
        conflict = await app.call("POST", "/v1/content", other, headers=key)
        assert conflict.status == 409, conflict
        # A first use is judged against the clock: the same body under a new key is too late.
        new_key = {"Idempotency-Key": "k10-" + uuid.uuid4().hex}
        late = await app.call("POST", "/v1/content", body, headers=new_key)
        assert late.status == 422, late
        assert {e["rule"] for e in late.body["errors"]} == {"deadline_past"}
    assert await stored_items(kafka_bootstrap, topics) == [first.body["content_id"]]


async def test_an_approval_repeated_past_the_deadline_answers_the_accepted_item(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    start = datetime.now(UTC)
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        hold_clock(app, start)
        body = content_body(
            author=app.people["editor"],
            approved_by=None,
            deadline=(start + timedelta(minutes=20)).isoformat(),
        )
        written = await app.call("POST", "/v1/drafts", body, role="editor")
        assert written.status == 201, written
        path = f"/v1/drafts/{written.body['draft_id']}/approve"
        if_match = {"If-Match": f'"{written.body["content_sha256"]}"'}  # the draft's ETag
        first = await app.call("POST", path, role="approver", headers=if_match)
        assert first.status == 202, first
        hold_clock(app, start + timedelta(minutes=30))
        retry = await app.call("POST", path, role="approver", headers=if_match)
        assert (retry.status, retry.body) == (202, first.body), retry
        # Another approver hears who approved it, not that the deadline has passed.
        other = await app.call("POST", path, role="admin", headers=if_match)
        assert other.status == 409, other
        assert {e["rule"] for e in other.body["errors"]} == {"already_approved"}
    assert await stored_items(kafka_bootstrap, topics) == [first.body["content_id"]]

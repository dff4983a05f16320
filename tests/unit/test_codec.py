from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from shared.codec import (
    DecodeError,
    InvalidEvent,
    MalformedMessage,
    UnknownEventType,
    UnsupportedVersion,
    decode,
    decode_as,
    encode,
)
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    ControlAction,
    ControlIssued,
    EngagementObserved,
    JobDue,
    Media,
    OutcomeStatus,
    Poll,
    Priority,
    PublishOutcome,
)

WITA = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=WITA)


def approved() -> ContentApproved:
    return ContentApproved(
        event_id="e1",
        occurred_at=T0,
        content_id="c1",
        external_ref="adpim-2026-11-26-001",
        topic_key="jembatan-mahakam",
        priority=Priority.URGENT,
        not_before=T0 + timedelta(hours=1),
        deadline=T0 + timedelta(days=1),
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=T0),
        submitted_by="yuyun",
        variants=(
            ChannelVariant(
                channel="mastodon-demo",
                content=Content(
                    text="Gubernur meresmikan jembatan",
                    link="https://example.go.id/berita/123",
                    media=(Media(url="https://example.go.id/img/1.jpg", type="image/jpeg", alt="foto"),),
                ),
            ),
            ChannelVariant(
                channel="x-demo",
                content=Content(
                    text="Ya atau tidak?",
                    poll=Poll(question="Setuju?", options=("Ya", "Tidak"), duration_minutes=60),
                ),
            ),
        ),
    )


EXAMPLES = [
    approved(),
    ControlIssued(
        event_id="e2",
        occurred_at=T0,
        action=ControlAction.PAUSE,
        channels=("x-demo",),
        by="opa",
        reason="masa tenang",
    ),
    JobDue(
        event_id="e3",
        occurred_at=T0,
        job_id="c1:x-demo",
        content_id="c1",
        channel="x-demo",
        platform="x",
        attempt=1,
        slot=T0,
        content=Content(text="hi"),
    ),
    PublishOutcome(
        event_id="e4",
        occurred_at=T0,
        job_id="c1:x-demo",
        content_id="c1",
        channel="x-demo",
        platform="x",
        attempt=2,
        status=OutcomeStatus.PUBLISHED,
        post_id="1346889436626259968",
        url="https://x.com/i/web/status/1346889436626259968",
    ),
    EngagementObserved(
        event_id="e5",
        occurred_at=T0,
        job_id="c1:x-demo",
        content_id="c1",
        channel="x-demo",
        platform="x",
        published_at=T0,
        horizon_minutes=60,
        reactions=10,
        comments=2,
        shares=1,
    ),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.event_type)
def test_round_trip(event: object) -> None:
    from pydantic import BaseModel

    assert isinstance(event, BaseModel)
    assert decode(encode(event)) == event


def test_instants_are_stored_in_utc() -> None:
    raw = orjson.loads(encode(approved()))
    assert raw["approval"]["approved_at"] == "2026-11-26T02:00:00Z"
    assert decode(encode(approved())).approval.approved_at.tzinfo == UTC  # type: ignore[union-attr]


def test_events_are_frozen() -> None:
    event = approved()
    with pytest.raises(ValueError, match="frozen"):
        event.content_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "error", "words"),
    [
        (None, MalformedMessage, "empty"),
        (b"", MalformedMessage, "not JSON"),
        (b"\xff\xfe", MalformedMessage, "not JSON"),
        (b"{not json", MalformedMessage, "not JSON"),
        (b"[1, 2]", MalformedMessage, "JSON object"),
        (b'"text"', MalformedMessage, "JSON object"),
        (b"{}", UnknownEventType, "unknown event_type"),
        (b'{"event_type": "content.deleted"}', UnknownEventType, "content.deleted"),
        (b'{"event_type": 7}', UnknownEventType, "unknown"),
        (b'{"event_type": "job.due", "schema_version": 2}', UnsupportedVersion, "schema_version 2"),
        (b'{"event_type": "job.due", "schema_version": 1}', InvalidEvent, "job_id"),
        (
            b'{"event_type": "publish.outcome", "event_id": "e", "occurred_at": "2026-11-26T10:00:00",'
            b' "job_id": "j", "content_id": "c", "channel": "x", "platform": "x", "attempt": 1, "status": "published"}',
            InvalidEvent,
            "offset",
        ),
        (
            b'{"event_type": "publish.outcome", "event_id": "e", "occurred_at": "2026-11-26T10:00:00Z",'
            b' "job_id": "j", "content_id": "c", "channel": "x", "platform": "x", "attempt": 1, "status": "exploded"}',
            InvalidEvent,
            "status",
        ),
        (
            b'{"event_type": "job.due", "event_id": "e", "occurred_at": "2026-11-26T10:00:00Z", "job_id": "j",'
            b' "content_id": "c", "channel": "x", "platform": "x", "attempt": 1, "slot": "2026-11-26T10:00:00Z",'
            b' "content": {}, "surprise": true}',
            InvalidEvent,
            "surprise",
        ),
    ],
)
def test_malformed_input_is_a_typed_error(raw: bytes | None, error: type[DecodeError], words: str) -> None:
    with pytest.raises(error, match=words) as info:
        decode(raw)
    assert isinstance(info.value, ValueError)
    assert info.value.raw == raw


def test_decode_as_insists_on_the_kind() -> None:
    with pytest.raises(UnknownEventType, match="expected JobDue"):
        decode_as(encode(approved()), JobDue)
    assert decode_as(encode(approved()), ContentApproved).content_id == "c1"

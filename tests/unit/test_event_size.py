"""An item's event is measured before anything is written (``validation.check_event_size``): each
channel carries its own copy of the content, so a body under the request limit can make an event
the broker refuses on every retry. Such an item is refused with 413, saying both sizes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from services.ingest.settings import IngestSettings
from services.ingest.validation import check_event_size, validate_submission
from shared.channels import Channel, ChannelDirectory
from shared.codec import encode
from shared.events import ContentApproved
from shared.http_errors import PayloadTooLarge

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
LIMIT = IngestSettings.model_fields["max_event_bytes"].default
BODY_LIMIT = IngestSettings.model_fields["max_body_bytes"].default
JAVANESE = "\ua997"  # ꦗ: three bytes in UTF-8, one character to the schema's 100,000
# WordPress takes text of any length: every channel copies the whole of it.
SITES = ChannelDirectory(
    channels=tuple(
        Channel(
            id=f"site-{n}", platform="wordpress", timezone="Asia/Makassar", base_url="https://example.go.id"
        )
        for n in range(5)
    )
)


def item(channels: int, text_chars: int) -> tuple[int, ContentApproved]:
    """The size of the request body, and the event it makes."""
    body = {
        "author": "rina",
        "approval": {"approved_by": "yuyun", "approved_at": NOW.isoformat()},
        "content": {"text": JAVANESE * text_chars},
        "targets": [{"channel": f"site-{n}"} for n in range(channels)],
        "deadline": (NOW + timedelta(days=1)).isoformat(),
    }
    submission = validate_submission(body, SITES, NOW)
    event = submission.approved_event(
        content_id="c" * 24, event_id="e" * 32, occurred_at=NOW, submitted_by="yuyun"
    )
    return len(orjson.dumps(body)), event


def test_a_body_under_its_limit_whose_event_is_over_the_limit_is_refused_with_both_sizes() -> None:
    body_bytes, event = item(channels=5, text_chars=80_000)
    assert body_bytes < BODY_LIMIT  # accepted as a body
    size = len(encode(event))
    with pytest.raises(PayloadTooLarge) as refused:
        check_event_size(event, LIMIT)
    [error] = refused.value.errors
    assert (refused.value.status, error.rule) == (413, "payload_too_large")
    assert error.params == {"size": size, "limit": LIMIT, "channels": 5}
    for lang in ("en", "id"):
        message = error.to_json(lang)["message"]
        assert str(size) in message
        assert str(LIMIT) in message


def test_the_same_content_on_fewer_channels_passes() -> None:
    _, event = item(channels=3, text_chars=80_000)
    check_event_size(event, LIMIT)


def test_the_limit_stays_below_the_brokers_default_record_limit() -> None:
    # message.max.bytes (a whole record batch) and the producers' max_request_size, by default.
    assert min(1_048_588, 1_048_576) > LIMIT + 4096

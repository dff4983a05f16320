"""Tags on content: lowercase slugs, bounded, distinct; records written before tags still read."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from services.ingest.validation import validate_submission
from shared.codec import InvalidEvent, decode, encode
from shared.events import MAX_TAGS, TAG_MAX_LENGTH, ContentApproved
from shared.http_errors import ValidationFailed
from tests.unit.test_validation import CHANNELS, NOW, valid_body


def _submit(tags: Any) -> ContentApproved:
    body = valid_body("mastodon-demo")
    body["tags"] = tags
    valid = validate_submission(body, CHANNELS, NOW, require_approval=True)
    return valid.approved_event(content_id="c1", event_id="e1", occurred_at=NOW, submitted_by="yuyun")


def test_tags_travel_from_the_request_to_the_event_and_back() -> None:
    event = _submit(["gubernur", "banjir", "wakil-gubernur"])
    assert event.tags == ("gubernur", "banjir", "wakil-gubernur")
    again = decode(encode(event))
    assert isinstance(again, ContentApproved)
    assert again.tags == event.tags


@pytest.mark.parametrize(
    "tags",
    [
        ["Gubernur"],
        ["wakil gubernur"],
        ["-banjir"],
        ["banjir-"],
        ["a--b"],
        [""],
        ["x" * (TAG_MAX_LENGTH + 1)],
        [f"t{i}" for i in range(MAX_TAGS + 1)],
        ["banjir", "banjir"],
        "banjir",
    ],
)
def test_bad_tags_are_refused_with_the_field_named(tags: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        _submit(tags)
    fields = {(e.field or "").split("[")[0] for e in info.value.errors}
    assert any(f.startswith("tags") for f in fields), info.value.errors


def test_a_record_written_before_tags_existed_reads_with_none() -> None:
    event = _submit(["banjir"])
    data = orjson.loads(encode(event))
    del data["tags"]
    old = decode(orjson.dumps(data))
    assert isinstance(old, ContentApproved)
    assert old.tags == ()


def test_a_record_with_bad_tags_is_an_invalid_event_not_a_crash() -> None:
    data = orjson.loads(encode(_submit(["banjir"])))
    data["tags"] = ["BANJIR"]
    with pytest.raises(InvalidEvent):
        decode(orjson.dumps(data))

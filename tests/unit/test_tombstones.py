"""A tombstone on a compacted state topic means "gone": readers skip it, never count it as poison."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.ingest.feeder import Feeder
from services.ingest.status_view import StatusView
from shared.codec import MalformedMessage, decode, is_tombstone


def test_a_null_value_is_a_tombstone_and_still_no_event() -> None:
    assert is_tombstone(None)
    assert not is_tombstone(b"")
    with pytest.raises(MalformedMessage):
        decode(None)


async def test_the_status_feeder_skips_a_tombstone_without_calling_it_undecodable() -> None:
    feeder = Feeder("127.0.0.1:9", ["jobs"], StatusView(timedelta(hours=24)), dead_topic="dead")
    feeder._apply("jobs", 0, 0, None)
    with pytest.raises(MalformedMessage):  # for the feeder to letter, or skip, and count
        feeder._apply("jobs", 0, 1, b"not json")
    assert feeder.applied == 0

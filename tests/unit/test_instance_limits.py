"""A Mastodon instance's own limits: read from its instance document, applied to the table, used by ingest."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.ingest.validation import validate_submission
from shared.capabilities import capabilities_for, capabilities_for_channel, with_instance_limits
from shared.channels import Channel, ChannelDirectory
from shared.http_errors import ValidationFailed
from shared.instance_limits import InstanceLimits
from tests.unit.test_validation import NOW, valid_body

# docs.joinmastodon.org/methods/instance/#v2, an instance that raised its limits
INSTANCE = {
    "domain": "mastodon.example",
    "configuration": {
        "statuses": {"max_characters": 5000, "max_media_attachments": 6, "characters_reserved_per_url": 23},
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
            "image_size_limit": 10_485_760,
            "video_size_limit": 41_943_040,
        },
        "polls": {
            "max_options": 8,
            "max_characters_per_option": 100,
            "min_expiration": 300,
            "max_expiration": 604_800,
        },
        "some_future_setting": {"x": 1},
    },
}


def test_limits_are_read_from_the_v2_instance_document() -> None:
    limits = InstanceLimits.from_instance(INSTANCE)
    assert limits.max_characters == 5000
    assert limits.max_media_attachments == 6
    assert limits.supported_mime_types == ("image/jpeg", "image/png", "video/mp4")
    assert (limits.image_size_limit, limits.video_size_limit) == (10_485_760, 41_943_040)
    assert (limits.poll_max_options, limits.poll_max_characters_per_option) == (8, 100)
    assert (limits.poll_min_expiration, limits.poll_max_expiration) == (300, 604_800)


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        "x",
        {},
        {"configuration": None},
        {"configuration": {"statuses": {"max_characters": "5000"}}},
        {"configuration": {"statuses": {"max_characters": True, "max_media_attachments": -1}}},
    ],
)
def test_odd_documents_fall_back_field_by_field(document: Any) -> None:
    limits = InstanceLimits.from_instance(document)
    assert with_instance_limits(capabilities_for("mastodon"), limits) == capabilities_for("mastodon")


def test_applied_limits_replace_the_defaults() -> None:
    caps = with_instance_limits(capabilities_for("mastodon"), InstanceLimits.from_instance(INSTANCE))
    assert caps.text_max == 5000
    assert caps.max_media == 6
    # Only types both the table and the instance know; sizes are the instance's.
    assert dict(caps.media_types).keys() == {"image/jpeg", "image/png", "video/mp4"}
    assert caps.media_types["image/png"].max_bytes == 10_485_760
    assert caps.media_types["video/mp4"].max_bytes == 41_943_040
    assert caps.poll is not None
    assert (caps.poll.max_options, caps.poll.max_option_length) == (8, 100)
    assert (caps.poll.min_duration_minutes, caps.poll.max_duration_minutes) == (5, 10_080)


def test_poll_seconds_round_inward_to_minutes() -> None:
    caps = with_instance_limits(
        capabilities_for("mastodon"), InstanceLimits(poll_min_expiration=301, poll_max_expiration=659)
    )
    assert caps.poll is not None
    assert (caps.poll.min_duration_minutes, caps.poll.max_duration_minutes) == (6, 10)


def _directory(limits: InstanceLimits | None) -> ChannelDirectory:
    return ChannelDirectory(
        channels=(
            Channel(id="mastodon-demo", platform="mastodon", instance_limits=limits, min_gap_minutes=1),
        )
    )


def test_ingest_validates_against_the_channels_declared_instance_limits() -> None:
    body = valid_body("mastodon-demo")
    body["content"]["text"] = "x" * 1200
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(body, _directory(None), NOW)
    assert any("500" in e.message for e in refused.value.errors)
    generous = _directory(InstanceLimits(max_characters=5000))
    assert validate_submission(body, generous, NOW).variants[0].channel == "mastodon-demo"
    strict = _directory(InstanceLimits(max_characters=100))
    body["content"]["text"] = "x" * 200
    with pytest.raises(ValidationFailed) as info:
        validate_submission(body, strict, NOW)
    assert any("100" in e.message for e in info.value.errors)


def test_channel_capabilities_apply_the_declared_limits() -> None:
    [channel] = _directory(InstanceLimits(max_characters=5000)).channels
    assert capabilities_for_channel(channel).text_max == 5000


def test_instance_limits_belong_to_mastodon_channels_only() -> None:
    with pytest.raises(ValidationError, match="Mastodon instance"):
        Channel(id="x-demo", platform="x", instance_limits=InstanceLimits(max_characters=5000))


LONG_URL = "https://example.go.id/berita/2026/12/03/gubernur-meresmikan-jembatan-mahakam-ulu"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        (f"Baca {LONG_URL}", 5 + 23),  # a URL counts 23 whatever its length
        ("Lihat https://a.id", 6 + 23),  # a short one too
        ("Lihat www.example.go.id/berita", 30),  # no scheme: no concession, counted as written
        ("Keluarga 👨‍👩‍👧", 10),  # a ZWJ family is one grapheme
        (f"Baca {LONG_URL}.", 5 + 23 + 1),  # sentence punctuation is not part of the link
    ],
)
def test_mastodon_counts_graphemes_and_urls_at_their_reserved_length(text: str, count: int) -> None:
    assert capabilities_for("mastodon").measure(text) == count


def test_an_instances_url_weight_is_used() -> None:
    caps = with_instance_limits(capabilities_for("mastodon"), InstanceLimits(characters_reserved_per_url=30))
    assert caps.measure(f"Baca {LONG_URL}") == 5 + 30


def test_a_long_link_fits_where_its_letters_would_not() -> None:
    body = valid_body("mastodon-demo")
    body["content"] = {"text": "x" * 470 + " " + LONG_URL}  # 471 + 23 = 494 on Mastodon
    assert validate_submission(body, _directory(None), NOW).variants[0].channel == "mastodon-demo"

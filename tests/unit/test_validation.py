"""Request validation: one row per rule, multi-error bodies, merging, the error bodies, JSON parsing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from services.ingest.openapi import openapi_document as ingest_document
from services.ingest.request import ContentRequest
from services.ingest.request_params import validate_pause, validate_withdraw
from services.ingest.validation import ValidSubmission, validate_submission
from shared.capabilities import CAPABILITIES
from shared.channels import Channel, ChannelDirectory
from shared.events import Approval, ContentApproved
from shared.http_errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    HttpRefusal,
    NotFound,
    PayloadTooLarge,
    RequestRejected,
    ServiceUnavailable,
    TooManyRequests,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    parse_json_body,
)
from shared.topics import PLATFORMS

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 WITA
ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


def demo_directory() -> ChannelDirectory:
    """A ``<platform>-demo`` channel for every platform in the capability table.

    ``Channel`` accepts only platforms with an adapter today (shared.topics.PLATFORMS); the others
    are built with ``model_construct`` so their capability rows can be exercised already.
    """
    channels = []
    for i, platform in enumerate(CAPABILITIES):
        fields: dict[str, Any] = {"id": f"{platform}-demo", "platform": platform, "timezone": ZONES[i % 3]}
        if platform in PLATFORMS:
            channels.append(Channel(**fields, min_gap_minutes=1))
        else:
            channels.append(Channel.model_construct(**fields, min_gap_minutes=1))
    return ChannelDirectory(channels=tuple(channels))


CHANNELS = demo_directory()
JPEG = {"url": "https://example.go.id/img/1.jpg", "type": "image/jpeg", "alt": "Gubernur di jembatan"}
MP4 = {"url": "https://example.go.id/v/1.mp4", "type": "video/mp4"}
POLL = {"question": "Setuju?", "options": ["Ya", "Tidak"], "duration_minutes": 1440}


def valid_body(*targets: str) -> dict[str, Any]:
    return {
        "external_ref": "adpim-2026-11-26-001",
        "topic_key": "jembatan-mahakam",
        "not_before": "2026-11-27T08:00:00+08:00",
        "deadline": "2026-11-28T20:00:00+08:00",
        "author": "rina",
        "approval": {"approved_by": "yuyun", "approved_at": "2026-11-26T10:00:00+08:00"},
        "content": {
            "text": "Gubernur meresmikan jembatan Mahakam",
            "link": "https://example.go.id/berita/123",
            "media": [JPEG],
        },
        "targets": [{"channel": t} for t in (targets or ("x-demo", "instagram-demo", "mastodon-demo"))],
    }


def errors_of(body: object, *, require_approval: bool = True) -> list[FieldError]:
    with pytest.raises(ValidationFailed) as info:
        validate_submission(body, CHANNELS, NOW, require_approval=require_approval)
    return list(info.value.errors)


def triples(errors: list[FieldError]) -> set[tuple[str | None, str | None, str]]:
    return {(e.channel, e.field, e.rule) for e in errors}


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets ``a.b[0].c`` (list indexes as ``[n]``) in the body."""

    def apply(body: dict[str, Any]) -> None:
        keys: list[str | int] = []
        for part in path.split("."):
            name, _, rest = part.partition("[")
            keys.append(name)
            if rest:
                keys.append(int(rest.rstrip("]")))
        node: Any = body
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return apply


def _delete(path: str) -> Mutation:
    def apply(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[key]
        del node[last]

    return apply


def _targets(*targets: dict[str, Any] | str) -> Mutation:
    return _set("targets", [{"channel": t} if isinstance(t, str) else t for t in targets])


def _all(*mutations: Mutation) -> Mutation:
    def apply(body: dict[str, Any]) -> None:
        for m in mutations:
            m(body)

    return apply


RULE_ROWS: list[Any] = [
    # --- schema (pydantic, translated) ---
    pytest.param(_delete("author"), {(None, "author", "required")}, id="required-author"),
    pytest.param(_delete("approval"), {(None, "approval", "required")}, id="required-approval"),
    pytest.param(_delete("content"), {(None, "content", "required")}, id="required-content"),
    pytest.param(_delete("targets"), {(None, "targets", "required")}, id="required-targets"),
    pytest.param(_set("content.text", 5), {(None, "content.text", "type")}, id="type-text"),
    pytest.param(_set("targets", "x-demo"), {(None, "targets", "type")}, id="type-targets"),
    pytest.param(_set("deadlines", "tomorrow"), {(None, "deadlines", "unknown_field")}, id="unknown-field"),
    pytest.param(_set("priority", "asap"), {(None, "priority", "enum")}, id="enum-priority"),
    pytest.param(_set("author", "rina budi"), {(None, "author", "pattern")}, id="pattern-author"),
    pytest.param(_set("content.text", ""), {(None, "content.text", "min_length")}, id="min-length-text"),
    pytest.param(
        _set("not_before", "2026-11-27T08:00:00"),
        {(None, "not_before", "offset_required")},
        id="offset-not-before",
    ),
    pytest.param(
        _set("approval.approved_at", "2026-11-26T10:00:00"),
        {(None, "approval.approved_at", "offset_required")},
        id="offset-approved-at",
    ),
    pytest.param(_set("deadline", 1_796_000_000), {(None, "deadline", "type")}, id="type-deadline-number"),
    pytest.param(_set("deadline", "besok"), {(None, "deadline", "type")}, id="type-deadline-garbage"),
    # A string of digits is no ISO 8601 date-time; pydantic alone would read it as Unix time.
    *(
        pytest.param(_set(at, digits), {(None, at, "type")}, id=f"type-{at}-digits")
        for at, digits in (
            ("deadline", "1800000000"),
            ("not_before", "1796000000.5"),
            ("approval.approved_at", "1796000000"),
        )
    ),
    pytest.param(
        _set("content.poll", {**POLL, "options": ["Ya"]}),
        {(None, "content.poll.options", "min_length")},
        id="min-length-poll-options",
    ),
    pytest.param(
        _set("content.poll", {**POLL, "duration_minutes": 20_000}),
        {(None, "content.poll.duration_minutes", "max_value")},
        id="max-value-poll-duration",
    ),
    pytest.param(
        _set("freshness_half_life_hours", 0),
        {(None, "freshness_half_life_hours", "min_value")},
        id="min-value-freshness",
    ),
    pytest.param(
        _set("freshness_half_life_hours", True),
        {(None, "freshness_half_life_hours", "type")},
        id="type-freshness-bool",
    ),
    pytest.param(
        _set("freshness_half_life_hours", "6"),
        {(None, "freshness_half_life_hours", "type")},
        id="type-freshness-string",
    ),
    pytest.param(
        _set("freshness_half_life_hours", 10_000),
        {(None, "freshness_half_life_hours", "max_value")},
        id="max-value-freshness",
    ),
    pytest.param(
        _targets({"channel": "x-demo", "content": {"txt": "typo"}}),
        {("x-demo", "targets[0].content.txt", "unknown_field")},
        id="unknown-field-in-target-names-channel",
    ),
    pytest.param(_targets({}), {(None, "targets[0].channel", "required")}, id="required-target-channel"),
    # --- every platform ---
    pytest.param(
        _set("content.media[0].url", "http://example.go.id/1.jpg"),
        {(None, "content.media[0].url", "https_required")},
        id="https-required",
    ),
    pytest.param(_set("content.link", "ftp://example.go.id/1"), {(None, "content.link", "url")}, id="url"),
    # RFC 9110 §4.2.1: an http(s) URI has a host; a URI has no spaces (RFC 3986).
    *(
        pytest.param(_set("content.link", link), {(None, "content.link", "url")}, id=f"url-{link}")
        for link in ("https://", "https:// bukan url", "http://?x", "https://a.id:99999/", "http://[")
    ),
    pytest.param(
        _targets({"channel": "x-demo", "content": {"link": "https:///berita"}}),
        {("x-demo", "targets[0].content.link", "url")},
        id="url-in-target-variant",
    ),
    pytest.param(
        _set("content.media[0].url", "https:// example.go.id/1.jpg"),
        {(None, "content.media[0].url", "url")},
        id="url-media",
    ),
    pytest.param(
        _set("content.media[0].type", "application/pdf"),
        {(None, "content.media[0].type", "media_type")},
        id="media-type-not-image-or-video",
    ),
    pytest.param(
        _all(_set("content", {"link": "https://a.id/1"}), _targets("x-demo")),
        {(None, "content", "text_or_media_required")},
        id="text-or-media-required",
    ),
    pytest.param(
        _targets({"channel": "x-demo", "content": {"text": None, "media": []}}),
        {("x-demo", "targets[0].content", "text_or_media_required")},
        id="text-or-media-removed-by-target",
    ),
    # Blank: whitespace, Unicode spaces and zero-width characters only. Mastodon strips a status
    # and finds it blank, Telegram finds the message text empty.
    *(
        pytest.param(
            _all(_set("content", {"text": blank}), _targets("mastodon-demo", "telegram-demo")),
            {(None, "content.text", "text_or_media_required")},
            id=f"text-blank-{blank!a}",
        )
        for blank in (" \n\t ", "\u3000\u00a0\u2003", "\u200b\u200d\u2060\ufeff", " \u180e\u3164 ")
    ),
    pytest.param(
        _all(
            _set("content.media", []), _targets({"channel": "mastodon-demo", "content": {"text": "\u200b "}})
        ),
        {("mastodon-demo", "targets[0].content.text", "text_or_media_required")},
        id="text-blank-in-target-variant",
    ),
    pytest.param(
        _all(_set("content.text", " "), _targets({"channel": "x-demo", "content": {"media": []}})),
        {("x-demo", "targets[0].content", "text_or_media_required")},
        id="text-blank-media-removed-by-target",
    ),
    pytest.param(
        _all(_set("content.poll", {**POLL, "options": ["Ya", "Ya"]}), _targets("webhook-demo")),
        {(None, "content.poll.options", "poll_options")},
        id="poll-options-repeated",
    ),
    # --- time and approval ---
    pytest.param(
        _set("deadline", "2026-11-27T07:00:00+08:00"),
        {(None, "deadline", "deadline_before_not_before")},
        id="deadline-before-not-before",
    ),
    pytest.param(
        _all(_delete("not_before"), _set("deadline", "2026-11-26T10:30:00+08:00")),
        {(None, "deadline", "deadline_past")},
        id="deadline-past",
    ),
    pytest.param(
        _set("approval.approved_at", "2026-11-26T12:00:00+08:00"),
        {(None, "approval.approved_at", "approved_in_future")},
        id="approved-in-future",
    ),
    pytest.param(
        _set("approval.approved_by", "rina"), {(None, "approval.approved_by", "four_eyes")}, id="four-eyes"
    ),
    pytest.param(
        # Person ids may be written in either case; RINA is the author rina all the same.
        _set("approval.approved_by", "RINA"),
        {(None, "approval.approved_by", "four_eyes")},
        id="four-eyes-in-another-case",
    ),
    # --- targets ---
    pytest.param(_set("targets", []), {(None, "targets", "empty_targets")}, id="empty-targets"),
    pytest.param(
        _targets("x-demo", "x-demo"),
        {("x-demo", "targets[1].channel", "duplicate_channel")},
        id="duplicate-channel",
    ),
    pytest.param(
        _targets("x-demo", "tiktok-main"),
        {("tiktok-main", "targets[1].channel", "unknown_channel")},
        id="unknown",
    ),
    # --- per platform ---
    pytest.param(
        _all(_set("content.media", []), _targets("instagram-demo")),
        {("instagram-demo", "content.media", "media_required")},
        id="media-required-instagram",
    ),
    pytest.param(
        _all(_set("content.media", []), _targets("tiktok-demo")),
        {("tiktok-demo", "content.media", "video_required")},
        id="video-required-tiktok",
    ),
    pytest.param(
        _targets("youtube-demo"),
        {
            ("youtube-demo", "content.media", "video_required"),
            ("youtube-demo", "content.media[0].type", "media_type"),
        },
        id="video-required-youtube-image-refused",
    ),
    pytest.param(
        _all(_set("content.text", "a" * 281), _delete("content.link"), _targets("x-demo")),
        {("x-demo", "content.text", "max_length")},
        id="max-length-x",
    ),
    pytest.param(
        _all(_set("content.text", "a" * 1100), _targets("telegram-demo")),
        {("telegram-demo", "content.text", "max_length")},
        id="max-length-telegram-caption",
    ),
    pytest.param(
        _all(_set("content.text", "a" * 501), _targets("mastodon-demo")),
        {("mastodon-demo", "content.text", "max_length")},
        id="max-length-mastodon",
    ),
    pytest.param(
        _all(_set("content.text", "a" * 301), _delete("content.link"), _targets("bluesky-demo")),
        {("bluesky-demo", "content.text", "max_length")},
        id="max-length-bluesky-graphemes",
    ),
    pytest.param(
        _targets(
            {"channel": "instagram-demo", "content": {"text": " ".join(f"#t{i} @a{i}" for i in range(31))}}
        ),
        {
            ("instagram-demo", "targets[0].content.text", "hashtag_count"),
            ("instagram-demo", "targets[0].content.text", "mention_count"),
        },
        id="hashtag-and-mention-count-instagram",
    ),
    pytest.param(
        _targets("x-demo", {"channel": "mastodon-demo", "content": {"text": "b" * 600}}),
        {("mastodon-demo", "targets[1].content.text", "max_length")},
        id="max-length-in-target-variant",
    ),
    pytest.param(
        _all(_set("content.media", [JPEG] * 5), _targets("x-demo")),
        {("x-demo", "content.media", "media_count")},
        id="media-count",
    ),
    pytest.param(
        _all(_set("content.media", [MP4, MP4]), _targets("mastodon-demo")),
        {("mastodon-demo", "content.media", "media_count")},
        id="media-count-videos",
    ),
    pytest.param(
        # The X adapter uploads images only, so the table takes no video for X.
        _all(_set("content.media", [MP4]), _targets("x-demo")),
        {("x-demo", "content.media", "media_count"), ("x-demo", "content.media[0].type", "media_type")},
        id="x-takes-no-video",
    ),
    pytest.param(
        _all(_set("content.media[0].type", "image/webp"), _targets("telegram-demo")),
        {("telegram-demo", "content.media[0].type", "media_type")},
        id="media-type-for-platform",
    ),
    pytest.param(
        _all(_set("content.media[0].size_bytes", 6_000_000), _targets("x-demo")),
        {("x-demo", "content.media[0].size_bytes", "media_size")},
        id="media-size",
    ),
    pytest.param(
        _set("content.poll", POLL),
        {
            ("instagram-demo", "content.poll", "poll_unsupported"),
            ("x-demo", "content.poll", "poll_with_media"),
            ("mastodon-demo", "content.poll", "poll_with_media"),
        },
        id="poll-unsupported-and-poll-with-media",
    ),
    pytest.param(
        _all(
            _set("content.poll", {**POLL, "options": list("ABCDE")}),
            _set("content.media", []),
            _targets("x-demo"),
        ),
        {("x-demo", "content.poll.options", "poll_options")},
        id="poll-options-count",
    ),
    pytest.param(
        _all(
            _set("content.poll", {**POLL, "options": ["Ya", "Tidak setuju sama sekali!!"]}),
            _set("content.media", []),
            _targets("x-demo"),
        ),
        {("x-demo", "content.poll.options[1]", "poll_options")},
        id="poll-option-length",
    ),
    pytest.param(
        _all(_set("content.poll", POLL), _set("content.media", []), _targets("telegram-demo")),
        {("telegram-demo", "content.poll.duration_minutes", "poll_duration")},
        id="poll-duration-telegram",
    ),
    pytest.param(
        _all(
            _set("content.poll", {**POLL, "duration_minutes": 60}),
            _set("content.media", []),
            _targets("linkedin-demo"),
        ),
        {("linkedin-demo", "content.poll.duration_minutes", "poll_duration")},
        id="poll-duration-linkedin-choices",
    ),
    pytest.param(
        _all(
            _set("content.poll", {**POLL, "question": "?" * 141}),
            _set("content.media", []),
            _targets("linkedin-demo"),
        ),
        {("linkedin-demo", "content.poll.question", "max_length")},
        id="poll-question-linkedin",
    ),
    pytest.param(
        _targets({"channel": "x-demo", "content": {"media": [], "poll": {**POLL, "options": list("ABCDE")}}}),
        {("x-demo", "targets[0].content.poll.options", "poll_options")},
        id="poll-options-in-target-variant",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), RULE_ROWS)
def test_rule(mutate: Mutation, expected: set[tuple[str | None, str | None, str]]) -> None:
    body = copy.deepcopy(valid_body())
    mutate(body)
    errors = errors_of(body)
    assert triples(errors) == expected
    for e in errors:
        assert e.message
        assert "pydantic" not in e.message
        assert "errors.pydantic.dev" not in e.message


def test_the_baseline_body_is_valid() -> None:
    result = validate_submission(valid_body(), CHANNELS, NOW)
    assert isinstance(result, ValidSubmission)
    assert [v.channel for v in result.variants] == ["x-demo", "instagram-demo", "mastodon-demo"]


def test_body_must_be_an_object() -> None:
    assert triples(errors_of([1, 2])) == {(None, None, "type")}


def test_draft_has_no_approval() -> None:
    body = valid_body()
    assert triples(errors_of(body, require_approval=False)) == {(None, "approval", "unknown_field")}
    del body["approval"]
    result = validate_submission(body, CHANNELS, NOW, require_approval=False)
    assert result.request.author == "rina"


def test_multi_error_body_reports_every_problem_with_its_channel() -> None:
    body = valid_body()
    body["content"] = {"text": "Gubernur " * 35}  # 315 weighted characters, no media
    body["targets"] = [{"channel": "x-demo"}, {"channel": "instagram-demo"}, {"channel": "tiktok-main"}]
    errors = errors_of(body)
    assert triples(errors) == {
        ("x-demo", "content.text", "max_length"),
        ("instagram-demo", "content.media", "media_required"),
        ("tiktok-main", "targets[2].channel", "unknown_channel"),
    }
    x_error = next(e for e in errors if e.channel == "x-demo")
    assert x_error.message == "X counts 315 weighted characters; the limit is 280"


def test_schema_errors_do_not_hide_channel_errors() -> None:
    body = valid_body("x-demo", "instagram-demo")
    body["deadline"] = "2026-11-28T20:00:00"  # no offset
    body["content"] = {"text": "a" * 300}
    assert triples(errors_of(body)) == {
        (None, "deadline", "offset_required"),
        ("x-demo", "content.text", "max_length"),
        ("instagram-demo", "content.media", "media_required"),
    }


@pytest.mark.parametrize(
    ("channel", "text", "with_media", "message"),
    [
        ("x-demo", "a" * 300, False, "X counts 300 weighted characters; the limit is 280"),
        ("x-demo", "中" * 141, False, "X counts 282 weighted characters; the limit is 280"),
        (
            "telegram-demo",
            "a" * 1100,
            True,
            "Telegram counts 1100 characters in a caption (text with media); the limit is 1024",
        ),
        ("mastodon-demo", "a" * 501, False, "Mastodon counts 501 characters; the limit is 500"),
        ("bluesky-demo", "a" * 301, False, "Bluesky counts 301 graphemes; the limit is 300"),
    ],
)
def test_length_messages_are_precise(channel: str, text: str, with_media: bool, message: str) -> None:
    body = valid_body(channel)
    body["content"] = {"text": text, "media": [JPEG] if with_media else []}
    [error] = errors_of(body)
    assert error.message == message


def test_link_appended_to_the_text_counts_against_the_limit() -> None:
    body = valid_body("x-demo")
    body["content"] = {"text": "a" * 256, "link": "https://example.go.id/berita/123"}  # 256 + 2 + 23 = 281
    [error] = errors_of(body)
    assert error.message == (
        "X counts 281 weighted characters including the link appended to the text; the limit is 280"
    )


def test_link_in_a_separate_field_does_not_count() -> None:
    body = valid_body("facebook-demo", "wordpress-demo")
    body["content"] = {"text": "a" * 1000, "link": "https://example.go.id/" + "p" * 1000}
    assert validate_submission(body, CHANNELS, NOW).variants


def test_telegram_text_without_media_may_be_longer_than_a_caption() -> None:
    body = valid_body("telegram-demo")
    body["content"] = {"text": "a" * 4000}
    assert validate_submission(body, CHANNELS, NOW).variants[0].content.text == "a" * 4000


def test_bluesky_byte_limit() -> None:
    body = valid_body("bluesky-demo")
    body["content"] = {
        "text": "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 200
    }  # 200 graphemes, 3,600 bytes
    [error] = errors_of(body)
    assert (error.rule, error.message) == ("max_length", "Bluesky counts 3600 bytes; the limit is 3000")


def test_target_content_is_merged_over_the_base() -> None:
    body = valid_body()
    body["content"]["poll"] = POLL
    body["content"]["media"] = []
    body["targets"] = [
        {"channel": "x-demo", "content": {"text": "Versi pendek untuk X"}},
        {"channel": "mastodon-demo", "content": {"link": None}},
        {"channel": "instagram-demo", "content": {"poll": None, "media": [JPEG]}},
    ]
    result = validate_submission(body, CHANNELS, NOW)
    by_channel = {v.channel: v.content for v in result.variants}
    assert by_channel["x-demo"].text == "Versi pendek untuk X"
    assert by_channel["x-demo"].link == "https://example.go.id/berita/123"
    assert by_channel["x-demo"].poll is not None
    assert by_channel["x-demo"].poll.options == ("Ya", "Tidak")
    assert by_channel["mastodon-demo"].link is None
    assert by_channel["mastodon-demo"].text == "Gubernur meresmikan jembatan Mahakam"
    assert by_channel["instagram-demo"].poll is None
    assert by_channel["instagram-demo"].media[0].url == JPEG["url"]


def test_every_platform_accepts_content_it_supports() -> None:
    body = valid_body(*(c.id for c in CHANNELS.channels if c.platform not in ("tiktok", "youtube")))
    body["targets"] += [
        {"channel": "tiktok-demo", "content": {"media": [MP4]}},
        {"channel": "youtube-demo", "content": {"media": [MP4]}},
    ]
    result = validate_submission(body, CHANNELS, NOW)
    assert {v.channel for v in result.variants} == set(CHANNELS.ids)


def test_approved_event_carries_the_request_and_variants() -> None:
    result = validate_submission(valid_body(), CHANNELS, NOW)
    event = result.approved_event(content_id="c-1", event_id="e-1", occurred_at=NOW, submitted_by="yuyun")
    assert isinstance(event, ContentApproved)
    assert event.approval.approved_by == "yuyun"
    assert event.approval.approved_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert event.not_before == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert event.author == "rina"
    assert event.topic_key == "jembatan-mahakam"
    assert [v.channel for v in event.variants] == ["x-demo", "instagram-demo", "mastodon-demo"]
    assert isinstance(result.request, ContentRequest)


def test_the_event_carries_every_field_the_published_request_and_event_share() -> None:
    # Judged from the two published contracts, not from the code's own list: each property the
    # OpenAPI request body and the event's JSON schema both name (the approval aside: the event's
    # is built from it) arrives on the event with the value the client sent.
    request = ingest_document()["components"]["schemas"]["ContentRequest"]["properties"]
    shared = (request.keys() & ContentApproved.model_json_schema()["properties"].keys()) - {"approval"}
    # Carried by name: a field the two contracts come to share is a decision to make here, not a
    # copy that happens on its own (the API and the topic evolve apart).
    assert shared == {
        "author",
        "deadline",
        "external_ref",
        "freshness_half_life_hours",
        "not_before",
        "priority",
        "tags",
        "topic_key",
    }
    body = {
        **valid_body(),
        "tags": ["gubernur", "jembatan"],
        "priority": "urgent",
        "freshness_half_life_hours": 3.5,
    }
    assert shared <= body.keys(), "give every shared field a value the default would not"
    result = validate_submission(body, CHANNELS, NOW)
    event = result.approved_event(content_id="c-1", event_id="e-1", occurred_at=NOW, submitted_by="yuyun")
    sent = result.request.model_dump(include=shared)  # instants compare as instants, any offset
    assert event.model_dump(include=shared) == sent
    assert (sent["priority"], sent["tags"]) == ("urgent", ("gubernur", "jembatan"))


def test_a_draft_needs_an_approval_to_become_an_event() -> None:
    body = valid_body()
    del body["approval"]
    result = validate_submission(body, CHANNELS, NOW, require_approval=False)
    with pytest.raises(ValueError, match="pass the approval"):
        result.approved_event(content_id="c", event_id="e", occurred_at=NOW, submitted_by="yuyun")
    approval = Approval(approved_by="yuyun", approved_at=NOW)
    event = result.approved_event(
        content_id="c", event_id="e", occurred_at=NOW, submitted_by="yuyun", approval=approval, draft_id="d-1"
    )
    assert (event.approval, event.draft_id) == (approval, "d-1")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_submission(valid_body(), CHANNELS, NOW.replace(tzinfo=None))


def test_deadline_exactly_now_is_past() -> None:
    body = valid_body()
    del body["not_before"]
    body["deadline"] = NOW.isoformat()
    assert triples(errors_of(body)) == {(None, "deadline", "deadline_past")}
    body["deadline"] = (NOW + timedelta(seconds=1)).isoformat()
    assert validate_submission(body, CHANNELS, NOW)


# --- control bodies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"reason": "salah data"}, None, id="valid"),
        pytest.param({}, {(None, "reason", "required")}, id="reason-required"),
        pytest.param({"reason": ""}, {(None, "reason", "min_length")}, id="reason-empty"),
        pytest.param("salah", {(None, None, "type")}, id="not-an-object"),
    ],
)
def test_withdraw(body: object, expected: set[tuple[str | None, str | None, str]] | None) -> None:
    if expected is None:
        assert validate_withdraw(body).reason == "salah data"
        return
    with pytest.raises(ValidationFailed) as info:
        validate_withdraw(body)
    assert triples(list(info.value.errors)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"reason": "masa tenang pilkada"}, None, id="all-channels"),
        pytest.param({"channels": ["x-demo"], "reason": "akun diretas"}, None, id="some-channels"),
        pytest.param({"channels": ["x-demo"]}, {(None, "reason", "required")}, id="reason-required"),
        pytest.param({"channels": [], "reason": "r"}, {(None, "channels", "min_length")}, id="empty-list"),
        pytest.param(
            {"channels": ["x-demo", "fb-main"], "reason": "r"},
            {("fb-main", "channels[1]", "unknown_channel")},
            id="unknown-channel",
        ),
    ],
)
def test_pause(body: object, expected: set[tuple[str | None, str | None, str]] | None) -> None:
    if expected is None:
        assert validate_pause(body, CHANNELS).reason
        return
    with pytest.raises(ValidationFailed) as info:
        validate_pause(body, CHANNELS)
    assert triples(list(info.value.errors)) == expected


# --- the error tree and JSON parsing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "rule", "headers"),
    [
        (BadRequest("malformed"), 400, "malformed_json", {}),
        (Unauthenticated("no key"), 401, "unauthenticated", {"WWW-Authenticate": 'Bearer realm="warta"'}),
        (Forbidden("no"), 403, "forbidden", {}),
        (NotFound("no such item"), 404, "not_found", {}),
        (Conflict("key reused"), 409, "idempotency_key_reused", {}),
        (PayloadTooLarge("big"), 413, "payload_too_large", {}),
        (UnsupportedMediaType("xml"), 415, "unsupported_media_type", {}),
        (ValidationFailed("bad"), 422, "invalid", {}),
        (TooManyRequests("slow down", retry_after=1.2), 429, "rate_limited", {"Retry-After": "2"}),
        (ServiceUnavailable("broker down", retry_after=0.1), 503, "unavailable", {"Retry-After": "1"}),
    ],
)
def test_error_tree(error: HttpRefusal, status: int, rule: str, headers: dict[str, str]) -> None:
    assert error.status == status
    assert error.headers() == headers
    assert error.to_body() == {
        "errors": [{"channel": None, "field": None, "rule": rule, "message": str(error)}]
    }
    assert isinstance(error, RequestRejected) == (status < 500)
    assert error.retriable == (status in (429, 503))


def test_validation_failed_body_lists_every_error() -> None:
    body = valid_body()
    body["targets"] = [{"channel": "a-1"}, {"channel": "b-2"}]
    with pytest.raises(ValidationFailed) as info:
        validate_submission(body, CHANNELS, NOW)
    out = orjson.loads(orjson.dumps(info.value.to_body()))
    assert [(e["channel"], e["rule"]) for e in out["errors"]] == [
        ("a-1", "unknown_channel"),
        ("b-2", "unknown_channel"),
    ]
    # params (the numbers and names a message states) is the one member added since
    assert all(set(e) - {"params"} == {"channel", "field", "rule", "message"} for e in out["errors"])


@pytest.mark.parametrize(
    ("raw", "content_type", "error", "message"),
    [
        pytest.param(b"{}", None, UnsupportedMediaType, "Content-Type none", id="no-content-type"),
        pytest.param(
            b"{}", "text/plain", UnsupportedMediaType, "text/plain is not supported", id="text-plain"
        ),
        pytest.param(
            b"{}", "application/json; charset=latin-1", UnsupportedMediaType, "charset", id="charset"
        ),
        pytest.param(
            b"{" + b" " * 100 + b"}", "application/json", PayloadTooLarge, "the limit is 64", id="too-large"
        ),
        pytest.param(b"", "application/json", BadRequest, "empty", id="empty"),
        pytest.param(
            b'{\n  "author": "rina",\n  "x": tru }',
            "application/json",
            BadRequest,
            "line 3, column 8",
            id="malformed-with-position",
        ),
        pytest.param(b'{"a": "\xff"}', "application/json", BadRequest, "line 1", id="invalid-utf8"),
    ],
)
def test_parse_json_body_rejects(
    raw: bytes, content_type: str | None, error: type[HttpRefusal], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_json_body(raw, content_type, max_bytes=64)


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=UTF-8", "application/merge-patch+json"]
)
def test_parse_json_body_accepts(content_type: str) -> None:
    assert parse_json_body(b'{"a": [1, "b"]}', content_type, max_bytes=64) == {"a": [1, "b"]}


def test_an_items_freshness_travels_on_its_event() -> None:
    body = {**valid_body("mastodon-demo"), "freshness_half_life_hours": 6}
    event = validate_submission(body, CHANNELS, NOW).approved_event(
        content_id="c1", event_id="e1", occurred_at=NOW, submitted_by="yuyun"
    )
    assert event.freshness_half_life_hours == 6
    omitted = validate_submission(valid_body("mastodon-demo"), CHANNELS, NOW).approved_event(
        content_id="c2", event_id="e2", occurred_at=NOW, submitted_by="yuyun"
    )
    assert omitted.freshness_half_life_hours is None  # the scheduler uses the priority's default

"""RFC 9457 refusals in English or Bahasa Indonesia: the language negotiation and the catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest.validation import validate_submission
from shared.channels import ChannelDirectory, load_channels
from shared.problems import CATALOG, localize, negotiate, problem
from shared.settings import ROOT


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("id", "id"),
        ("id-ID", "id"),
        ("in", "id"),
        ("en-US,en;q=0.9", "en"),
        ("id-ID,id;q=0.9,en-US;q=0.8", "id"),
        ("en;q=0.9,id;q=0.5", "en"),
        ("en;q=0.4,id;q=0.8", "id"),
        ("fr-FR,de;q=0.8", "en"),
        ("id;q=0", "en"),
        ("id;q=abc, en", "en"),
        ("*", "en"),
    ],
)
def test_the_caller_chooses_the_language(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


# One English message per catalog shape, as the code writes them.
SAMPLES = {
    "required": "author is required",
    "unknown_field": "colour is not a field of this request",
    "offset_required": "not_before must carry a UTC offset, e.g. 2026-11-27T08:00:00+08:00",
    "type": "the body must be a JSON object",
    "cursor": "cursor must be a next_cursor this endpoint returned",
    "beyond_horizon": "deadline 2030-01-01 00:00:00+00:00 is more than 400 days ahead (now 2026-12-04)",
    "deadline_before_not_before": "deadline 2026-12-05 must be after not_before 2026-12-06",
    "deadline_past": "deadline 2026-12-01 has already passed (now 2026-12-04)",
    "approved_in_future": "approval.approved_at 2027-01-01 is in the future (now 2026-12-04)",
    "four_eyes": "four eyes: rina wrote this item and cannot also approve it; approval.approved_by must be another person",
    "url": "content.link must be an http(s) URL",
    "https_required": "content.media[0].url must use https://",
    "media_type": "content.media[0].type 'text/plain' is not an image/… or video/… MIME type",
    "poll_options": "content.poll.options repeats an option",
    "text_or_media_required": "content needs text or at least one media item",
    "empty_targets": "targets must name at least one channel",
    "duplicate_channel": "channel x-demo is targeted more than once",
    "unknown_channel": "there is no channel 'nowhere'; known: x-demo",
    "missing_key": "missing API key: send Authorization: Bearer <key>",
    "unknown_key": "unknown API key",
    "not_found": "no draft 'abc'",
    "payload_too_large": "the body is 2000000 bytes; the limit is 1000000",
    "internal": "internal error; it has been logged",
    "unavailable": "the broker did not acknowledge; nothing was done",
    "http": "Not Found",
}


@pytest.mark.parametrize("rule", sorted(SAMPLES))
def test_each_message_has_its_indonesian_sentence(rule: str) -> None:
    english = SAMPLES[rule]
    assert localize(rule, english, "en") == english
    translated = localize(rule, english, "id")
    assert translated != english
    assert "{" not in translated  # every part of the template was filled


def test_every_catalog_rule_is_sampled() -> None:
    from shared.capability_rules import Rule

    untested = set(CATALOG) - set(SAMPLES) - {rule.value for rule in Rule} - {
        "max_length", "min_length", "min_value", "max_value", "pattern", "enum", "out_of_range",
        "malformed_key", "rate_limited", "idempotency_key", "unsupported_media_type", "bad_request",
        "malformed_json",
    }  # fmt: skip
    assert not untested


def test_an_unknown_message_stays_english_and_the_rule_never_changes() -> None:
    body = problem(
        422, [{"channel": None, "field": "x", "rule": "brand_new", "message": "odd"}], "id", "/v1/x"
    )
    assert body["errors"][0] == {"channel": None, "field": "x", "rule": "brand_new", "message": "odd"}
    assert body["title"] == "Validasi gagal"
    assert body["instance"] == "/v1/x"
    assert body["type"] == "urn:warta:problem:brand-new"


def test_real_refusals_of_the_schema_and_the_dates_are_translated() -> None:
    """Messages as validation writes them today: a change of wording that the catalog no longer
    matches fails here, not silently in production."""
    channels: ChannelDirectory = load_channels(ROOT / "deploy" / "channels.local.yaml")
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    body = {
        "author": "rina",
        "approval": {"approved_by": "rina", "approved_at": "2027-06-01T00:00:00+00:00"},
        "content": {"text": "kabar", "link": "ftp://x", "colour": "red"},
        "deadline": "2026-12-01T00:00:00+00:00",
        "targets": [{"channel": "nowhere"}],
    }
    from shared.http_errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        validate_submission(body, channels, now)
    errors = refused.value.errors
    assert errors
    for error in errors:
        assert localize(error.rule, error.message, "id") != error.message, (error.rule, error.message)


@pytest.mark.parametrize(
    ("env", "lang"),
    [
        ({}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "id_ID.UTF-8"}, "id"),
        ({"LANG": "id_ID.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
    ],
)
def test_the_cli_asks_in_the_users_locale(env: dict[str, str], lang: str) -> None:
    from warta.ops_client import locale_language

    assert negotiate(locale_language(env)) == lang


def test_every_capability_refusal_on_every_platform_has_its_indonesian_sentence() -> None:
    """The capability rules' messages name the platform and its limits; every one of them, on
    every platform of the table, must come out in Bahasa Indonesia."""
    from shared.capabilities import capabilities_for
    from shared.capability_rules import problems as capability_problems
    from tests.unit.test_capability_rules import PLATFORMS, ROWS

    seen = 0
    for row in ROWS:
        for platform in PLATFORMS:
            for found in capability_problems(capabilities_for(platform), row.content):
                seen += 1
                translated = localize(found.rule.value, found.message, "id")
                assert translated != found.message, (platform, found.rule, found.message)
                assert "{" not in translated
    assert seen > 30

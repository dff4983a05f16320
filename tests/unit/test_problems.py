"""RFC 9457 refusals in English or Bahasa Indonesia: the language negotiation and the catalog."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from services.ingest.validation import validate_submission
from shared.channels import ChannelDirectory, load_channels
from shared.http_errors import FieldError, ValidationFailed, field_error
from shared.messages import render
from shared.problems import http_error, negotiate, problem
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


@pytest.mark.parametrize(
    ("status", "reason", "english", "indonesian"),
    [
        (404, "Not Found", "Not Found", "Tidak ditemukan"),
        (405, "Method Not Allowed", "Method Not Allowed", "Metode tidak diizinkan"),
        (418, "I'm a teapot", "I'm a teapot", "kesalahan HTTP: I'm a teapot"),
    ],
)
def test_aiohttps_own_refusals_are_said_from_the_catalog(
    status: int, reason: str, english: str, indonesian: str
) -> None:
    error = http_error(status, reason)
    assert error.rule == "http"
    assert problem(status, [error], "en")["errors"][0]["message"] == english
    assert problem(status, [error], "id")["errors"][0]["message"] == indonesian


def test_a_plain_error_passed_through_stays_as_it_came_and_the_rule_never_changes() -> None:
    body = problem(
        422, [{"channel": None, "field": "x", "rule": "brand_new", "message": "odd"}], "id", "/v1/x"
    )
    assert body["errors"][0] == {"channel": None, "field": "x", "rule": "brand_new", "message": "odd"}
    assert body["title"] == "Validasi gagal"
    assert body["instance"] == "/v1/x"
    assert body["type"] == "urn:warta:problem:brand-new"


def _refused(body: dict[str, object]) -> list[FieldError]:
    channels: ChannelDirectory = load_channels(ROOT / "deploy" / "channels.local.yaml")
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as refused:
        validate_submission(body, channels, now)
    return list(refused.value.errors)


def test_real_refusals_of_the_schema_and_the_dates_are_rendered_from_the_catalog() -> None:
    """Every refusal validation makes carries its catalog key: it is rendered, never parsed."""
    errors = _refused(
        {
            "author": "rina",
            "approval": {"approved_by": "rina", "approved_at": "2027-06-01T00:00:00+00:00"},
            "content": {"text": "kabar", "link": "ftp://x", "colour": "red"},
            "deadline": "2026-12-01T00:00:00+00:00",
            "targets": [{"channel": "nowhere"}],
        }
    )
    assert {e.rule for e in errors} >= {"four_eyes", "unknown_field", "deadline_past"}
    for error in errors:
        assert error.key is not None, error
        assert error.params is not None, error
        english = problem(422, [error], "en")["errors"][0]
        indonesian = problem(422, [error], "id")["errors"][0]
        assert english == {**error.to_json(), "message": error.message}
        assert indonesian["rule"] == error.rule
        assert indonesian["params"] == english["params"]
        assert indonesian["message"] != error.message
        assert "{" not in indonesian["message"]


def test_a_reworded_english_message_keeps_its_indonesian_sentence() -> None:
    """The Indonesian sentence follows the key and the parameters, not the English wording."""
    error = field_error(
        "x-demo", "text", "max_length", platform="X", count=301, unit="weighted characters", limit=280
    )
    reworded = dataclasses.replace(error, message="X: 301 is more than 280")
    assert problem(422, [reworded], "id")["errors"][0]["message"] == (
        "X menghitung 301 karakter berbobot; batasnya 280"
    )
    assert reworded.to_json()["params"] == {
        "platform": "X", "count": 301, "unit": "weighted characters", "limit": 280
    }  # fmt: skip


def test_the_length_refusal_carries_its_numbers() -> None:
    errors = _refused(
        {
            "author": "rina",
            "approval": {"approved_by": "budi", "approved_at": "2026-12-04T02:00:00+00:00"},
            "content": {"text": "a" * 301},
            "targets": [{"channel": "x-demo"}],
        }
    )
    (error,) = errors
    assert error.rule == "max_length"
    assert error.channel == "x-demo"
    assert error.field == "content.text"
    assert error.params is not None
    assert error.params["count"] == 301
    assert error.params["limit"] == 280
    assert error.message == "X counts 301 weighted characters; the limit is 280"


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
                translated = render(found.key, found.params, "id")
                assert translated != found.message, (platform, found.rule, found.message)
                assert "{" not in translated
                assert found.key.partition(".")[0] == found.rule.value
    assert seen > 30

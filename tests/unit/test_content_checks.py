"""The checks on a text and a link that hold on every platform (``services.ingest.content_checks``),
and how a submission answers them."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.content_checks import is_blank, is_web_url
from services.ingest.validation import validate_submission
from shared.http_errors import ValidationFailed
from tests.unit.test_validation import CHANNELS, JPEG, NOW, valid_body

# Separators and controls, and a sample of Default_Ignorable_Code_Point (DerivedCoreProperties.txt):
# zero-width space and joiners, bidi marks, word joiner, BOM, a variation selector, a tag.
_IGNORABLE = "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u202e\u2060\u2066\ufe0f\ufeff\U000e0041"
_SPACES = st.characters(categories=("Zs", "Zl", "Zp", "Cc")) | st.sampled_from(_IGNORABLE)
_SEEN = st.characters(categories=("L", "N", "P", "S"))


@given(st.text(_SPACES))
def test_spaces_controls_and_format_characters_alone_are_blank(text: str) -> None:
    assert is_blank(text)


@given(st.text(_SPACES), _SEEN, st.text(_SPACES))
def test_one_visible_character_is_not_blank(before: str, seen: str, after: str) -> None:
    if seen in "\u115f\u1160\u3164\uffa0":  # the Hangul fillers are letters no one sees
        return
    assert not is_blank(before + seen + after), unicodedata.name(seen, hex(ord(seen)))


def test_none_is_blank_too() -> None:
    assert is_blank(None)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.go.id/berita/123",
        "http://example.go.id",
        "HTTPS://EXAMPLE.GO.ID/a?b=c#d",
        "https://bücher.de/",
        "https://[2001:db8::1]:8443/x",
        "https://example.go.id:443/",
    ],
)
def test_web_urls(url: str) -> None:
    assert is_web_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://",  # no host (RFC 9110 §4.2.1)
        "https:///berita",
        "http://?x",
        "https://user@/x",
        "https:// bukan url",  # spaces
        "https://example.go.id/a b",
        "https://example.go.id/\u200b",
        "https://example.go.id:99999/",  # no such port
        "https://example.go.id:x/",
        "http://[",  # urllib cannot parse it
        "ftp://example.go.id/1",
        "example.go.id/berita",
        "mailto:humas@example.go.id",
    ],
)
def test_not_web_urls(url: str) -> None:
    assert not is_web_url(url)


def test_a_blank_caption_with_media_is_a_post() -> None:
    body = valid_body("mastodon-demo", "telegram-demo")
    body["content"] = {"text": " \u200b ", "media": [JPEG]}
    validate_submission(body, CHANNELS, NOW)


def test_a_blank_text_says_what_is_wrong_and_where() -> None:
    body = valid_body("mastodon-demo")
    body["content"] = {"text": "\u3000 \n"}
    with pytest.raises(ValidationFailed) as info:
        validate_submission(body, CHANNELS, NOW)
    [error] = info.value.errors
    assert (error.field, error.rule) == ("content.text", "text_or_media_required")
    assert error.message == (
        "content.text holds only spaces or invisible characters and there is no media: nothing to post"
    )

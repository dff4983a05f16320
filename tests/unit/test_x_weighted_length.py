"""X's weighted length (platforms.md §3; twitter-text configuration v3) and the other counters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.text_length import grapheme_length, threads_length, utf16_length, x_weighted_length

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man ZWJ woman ZWJ girl ZWJ boy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("hello", 5, id="ascii"),
        pytest.param("a" * 280, 280, id="ascii-at-limit"),
        pytest.param("Gubernur meresmikan jembatan", 28, id="indonesian"),
        pytest.param("Ελληνικά", 8, id="greek-is-light"),
        pytest.param("สวัสดี", 6, id="thai-is-light"),
        pytest.param("日本語", 6, id="cjk-weighs-2"),
        pytest.param("한국어", 6, id="hangul-weighs-2"),
        pytest.param("—", 1, id="em-dash-in-light-range"),
        pytest.param("…", 2, id="ellipsis-outside-light-ranges"),
        pytest.param("\u2032", 1, id="prime-in-light-range"),
        pytest.param("😀", 2, id="emoji"),
        pytest.param("👍🏽", 2, id="emoji-with-skin-tone"),
        pytest.param(FAMILY, 2, id="zwj-family-is-one-emoji"),
        pytest.param("🇮🇩", 2, id="flag"),
        pytest.param("❤️", 2, id="heart-with-variation-selector"),
        pytest.param("#️⃣", 2, id="keycap"),
        pytest.param("©", 1, id="copyright-as-text"),
        pytest.param("©️", 2, id="copyright-as-emoji"),
        pytest.param("cafe\u0301", 4, id="nfc-normalised"),
        pytest.param("https://example.go.id/berita/123", 23, id="url"),
        pytest.param("https://example.go.id/" + "x" * 200, 23, id="long-url-still-23"),
        pytest.param("http://a.id", 23, id="short-url-still-23"),
        pytest.param("www.kaltimprov.go.id", 23, id="www-url"),
        pytest.param("lihat kaltimprov.go.id/berita", 6 + 23, id="bare-domain"),
        pytest.param("Baca: https://a.id/x.", 6 + 23 + 1, id="trailing-period-not-in-url"),
        pytest.param("(https://a.id/x)", 1 + 23 + 1, id="parenthesised-url"),
        pytest.param("https://a.id https://b.id", 23 + 1 + 23, id="two-urls"),
        pytest.param("humas@kaltimprov.go.id", 22, id="email-is-not-a-url"),
        pytest.param("Halo 世界 😀 https://a.id", 5 + 4 + 1 + 2 + 1 + 23, id="mixed"),
    ],
)
def test_x_weighted_length(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_280_cjk_characters_count_560() -> None:
    assert x_weighted_length("中" * 140) == 280
    assert x_weighted_length("中" * 141) == 282


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ,!?", max_size=400))
def test_plain_latin_weighs_one_per_character(text: str) -> None:
    assert x_weighted_length(text) == len(text)


@given(st.text(max_size=200))
def test_weight_is_bounded_by_two_per_code_point_plus_urls(text: str) -> None:
    # Every code point weighs at most 2 and a URL (at least 4 code points) never more than 23.
    assert 0 <= x_weighted_length(text) <= 2 * len(text) + 23 * text.count(".")


@pytest.mark.parametrize(
    ("text", "graphemes", "threads", "utf16"),
    [
        pytest.param("hello", 5, 5, 5, id="ascii"),
        pytest.param("😀", 1, 4, 2, id="emoji"),
        pytest.param(FAMILY, 1, 25, 11, id="zwj-family"),
        pytest.param("🇮🇩", 1, 8, 4, id="flag"),
        pytest.param("cafe\u0301", 4, 5, 5, id="combining-mark"),
        pytest.param("日本", 2, 2, 2, id="cjk"),
        pytest.param("a\r\nb", 3, 4, 4, id="crlf-is-one-grapheme"),
    ],
)
def test_other_counters(text: str, graphemes: int, threads: int, utf16: int) -> None:
    assert grapheme_length(text) == graphemes
    assert threads_length(text) == threads
    assert utf16_length(text) == utf16


# The fast paths (no heavy code point, ASCII) must agree with the general walks on any text.
_MIXED = st.text(
    alphabet=st.sampled_from(
        [*"ab #*1\r\n©®.", "\u200d", "\ufe0f", "\u20e3", "\u0301", "中", "…", "😀", "🏽", "🇮", "🇩", "❤"]
    ),
    max_size=60,
)


@given(st.one_of(st.text(max_size=80), _MIXED))
def test_fast_paths_agree_with_the_general_walks(text: str) -> None:
    from shared.text_length import _walk_weights, _weigh_plain, graphemes

    assert _weigh_plain(text) == _walk_weights(text)
    assert grapheme_length(text) == sum(1 for _ in graphemes(text))


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_threads_length_is_its_length(text: str) -> None:
    from shared.text_length import _threads_walk

    assert threads_length(text) == len(text) == _threads_walk(text)

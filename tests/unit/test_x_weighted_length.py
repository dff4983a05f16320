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


# twitter-text 3.1.0's parseTweet(text).weightedLength for each text, recorded from the library
# itself (tests/fidelity/test_x_length_twitter_text.py compares a generated corpus when node has it).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Info vaksinasi: bit.ly/vaks1 t.me/humas wa.me/628111 forms.gle/daftar youtu.be/abc x", 137),
        ("foo.ly", 23),
        ("goo.gl/maps/x", 23),
        ("linktr.ee/humas", 23),
        ("http://a.b.c.d.e.f.g/long/path?x=1", 34),
        ("example.com:8080/x", 23),
        ("example.com:8080", 28),
        ("bit.ly?x=1", 27),
        ("Selengkapnya di jatengprov.go.id dan bit.ly/3xYz", 67),
        ("https://a.co/b\u2013(%)", 27),  # an en dash is a path character, not an ending one
        ("a.co/b(%)", 23),
        ("https://t.co/abc?x=1/z", 23),
        ("https://t.co/" + "a" * 41, 54),  # a slug over 40 is no link
        ("-bit.ly", 7),
        ("_bit.ly", 7),
        ("/bit.ly", 7),
        ("x.-bit.ly", 9),
        ("$bit.ly", 7),
        ("#bit.ly", 7),
        ("@bit.ly", 7),
        ("中bit.ly/x", 25),
        ("😀_example.co.id/path", 26),
        ("😀bit.ly", 25),
        ("xhttp://a.com", 13),
        ("a" * 64 + ".com", 68),  # a label over 63 is no host
        ("a" * 63 + ".com", 23),
        ("bücher.de", 23),
        ("https://例え.jp", 23),
        ("例え.jp", 7),
        ("сайт.рф", 7),
        ("example.comé", 24),
        ("example.com-x", 13),
        ("example.com_x", 25),
        ("http://localhost:3000/x", 23),
        ("x.嘉里大酒店x", 30),
        ("example.com-x👨‍👩‍👧example.com/path/@user/", 44),
        ("https://xn--p1ai.xn--p1ai", 23),
        ("HTTPS://EXAMPLE.COM", 23),
        ("see https://example.com/x.", 28),
        ("(https://a.id/x)", 25),
        ("https://example.com/a_(b)", 23),
        ("mail@example.com", 16),
    ],
)
def test_weighted_length_is_twitter_texts(text: str, expected: int) -> None:
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
    from shared.text_length import _X_HEAVY, _emoji_spans, graphemes

    if _X_HEAVY.search(text) is None:
        assert _emoji_spans(text) == []
    assert grapheme_length(text) == sum(1 for _ in graphemes(text))


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_threads_length_is_its_length(text: str) -> None:
    from shared.text_length import _threads_walk

    assert threads_length(text) == len(text) == _threads_walk(text)

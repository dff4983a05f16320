"""X's link finder: the same links as the rule's regular expression, in linear time.

The reference is the rule itself, run by ``re`` (``LINK_RULE``), and the counter X's weighted
length had while it used it; on inputs small enough for the backtracking engine the two must
agree exactly. On hostile inputs the time must grow like a benign text's of the same length.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.link_spans import LINK_RULE, link_matches
from shared.text_length import X_URL_WEIGHT, _weigh_plain, x_weighted_length

_RULE = re.compile(LINK_RULE)


def _reference_x_weighted_length(text: str) -> int:
    """The counter as it was with the regular expression (quadratic on hostile input)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    total = pos = 0
    for match in _RULE.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in ".,;:!?'\"*":
            end -= 1
        while (
            end > start and text[end - 1] == ")" and text[start:end].count("(") < text[start:end].count(")")
        ):
            end -= 1
        total += _weigh_plain(text[pos:start]) + X_URL_WEIGHT
        pos = end
    return total + _weigh_plain(text[pos:])


# Pieces links are made of, and the characters at the edges of the rule: case folding (long s,
# Kelvin sign, dotted and dotless i match ASCII letters), word characters outside [a-z0-9]
# (é, ², _), and the separators.
_PIECES = st.sampled_from(
    [
        "http://",
        "https://",
        "HTTPS://",
        "www.",
        "WWW.",
        ".",
        "..",
        "-",
        ":",
        ":80",
        "/",
        "?",
        "#",
        "@",
        "_",
        " ",
        "\n",
        "(",
        ")",
        "<",
        '"',
        ",",
        "a",
        "B",
        "x1",
        "go",
        "kaltimprov",
        "com",
        "co",
        "id",
        "news",
        "info",
        "io",
        "app",
        ".com",
        ".co.id",
        ".go.id",
        "/berita",
        "\u017f",
        "\u212a",
        "\u0130",
        "\u0131",
        "é",
        "²",
        "😀",
        "日",
    ]
)
_LINKISH = st.lists(_PIECES | st.characters(), max_size=40).map("".join)


@given(_LINKISH)
@settings(max_examples=2000)
def test_finds_exactly_the_rules_matches(text: str) -> None:
    assert list(link_matches(text)) == [m.span() for m in _RULE.finditer(text)]


@given(_LINKISH)
@settings(max_examples=1000)
def test_weighted_length_is_unchanged(text: str) -> None:
    assert x_weighted_length(text) == _reference_x_weighted_length(text)


@given(st.text(max_size=300))
def test_weighted_length_is_unchanged_on_any_text(text: str) -> None:
    assert x_weighted_length(text) == _reference_x_weighted_length(text)


def _best_of_three(count: Callable[[str], int], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        count(text)
        best = min(best, time.perf_counter() - started)
    return best


_LENGTH = 20_000
# The regular expression took 190 times the benign text's time on the first ones at 4,000
# characters, and its share grows with the length; the linear finder stays under 3 times.
_HOSTILE = {
    "hyphenated-names": "a-" * (_LENGTH // 2) + ".",
    "leading-hyphens": "-a" * (_LENGTH // 2) + ".x",
    "dotted-hyphens": "a.b-" * (_LENGTH // 4),
    "schemes-without-hosts": "www.:" * (_LENGTH // 5),
    "word-then-hyphens": "é-" * (_LENGTH // 2) + "a.com",
    "closing-parentheses": "https://a.id/" + ")" * _LENGTH,
}


@pytest.mark.parametrize("text", list(_HOSTILE.values()), ids=list(_HOSTILE))
def test_hostile_text_costs_like_benign_text(text: str) -> None:
    # A benign text of the same length, dense in links, measured in the same test: a ratio
    # holds on a loaded machine where an absolute time would not.
    benign = ("lihat kaltimprov.go.id " * _LENGTH)[: len(text)]
    baseline = _best_of_three(x_weighted_length, benign)
    assert _best_of_three(x_weighted_length, text) < 20 * baseline

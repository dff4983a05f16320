"""Mastodon's link finder: the same links as the rule's regular expression, in linear time.

The reference is the rule itself, run by ``re`` (``LINK_RULE``); on inputs small enough for the
backtracking engine the two must agree exactly. Its cost on hostile inputs is measured with
X's in test_x_links.py.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.link_spans import LINK_RULE, link_matches

_RULE = re.compile(LINK_RULE)


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

"""The frequent terms of citizens' comments: Indonesian and English stop words, slang, links,
mentions and emoji removed, counted once per comment."""

from __future__ import annotations

import pytest

from services.inbox.terms import LISTS, lexicon, terms_of, top_terms

WORDS = lexicon()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Stop words and forms of address go; the topic stays.
        ("Pak Gubernur, jalan di Cibubur rusak parah!", ["gubernur", "jalan", "cibubur", "rusak", "parah"]),
        # Slang is read as its standard form: "yg", "dgn", "gak" are stop words, "jln" is "jalan".
        ("Yg bener aja, jln dgn lubang gak diperbaiki", ["jalan", "lubang", "diperbaiki"]),
        ("udah 3 hari ga ada air bersih, tlg dong min", ["hari", "air", "bersih"]),
        # Links, mentions and emoji are stripped; a hashtag counts as its word.
        (
            "Banjir lagi 😭😭 https://t.co/xYz9 @pemprov_jabar #BanjirBekasi www.contoh.go.id",
            ["banjir", "banjirbekasi"],
        ),
        # Emphasis is written once, reduplication stays one term, digits go.
        ("Mantaaap bangettt, anak-anak senang 👍👍", ["mantap", "anak-anak", "senang"]),
        ("Kapan bansos2 cair? Sudah 2x daftar", ["bansos", "cair", "daftar"]),
        # Uppercase and mixed case are one term.
        (
            "KEMACETAN di Jalan Sudirman, kemacetan parah",
            ["kemacetan", "jalan", "sudirman", "kemacetan", "parah"],
        ),
        # English in an Indonesian thread.
        (
            "Thank you for the quick response, the bridge is fixed now",
            ["quick", "response", "bridge", "fixed"],
        ),
        # Nothing but noise.
        ("🙏🙏🙏 @admin https://x.com/a", []),
        ("yg gak dgn utk krn", []),
        ("", []),
    ],
)
def test_terms_of_a_comment(text: str, expected: list[str]) -> None:
    assert terms_of(text, WORDS) == expected


def test_a_term_counts_once_per_comment_and_ties_are_alphabetical() -> None:
    comments = [
        "banjir banjir banjir!!!",
        "Banjir di Bekasi, tolong pak",
        "jalan rusak di Bekasi",
        "Jalan rusak lagi",
        "sampah menumpuk",
    ]
    assert top_terms(comments, WORDS, limit=4) == [
        ("banjir", 2),
        ("bekasi", 2),
        ("jalan", 2),
        ("rusak", 2),
    ]


def test_the_lists_name_their_source_and_hold_the_common_words() -> None:
    for name in ("id.txt", "en.txt", "slang.txt"):
        text = (LISTS / name).read_text(encoding="utf-8")
        assert "Source:" in text, name
    assert {"yang", "dan", "di", "tidak", "the", "and"} <= WORDS.stop
    assert WORDS.slang["yg"] == "yang"
    assert WORDS.slang["gak"] == "tidak"
    # No topic word is a stop word by accident.
    assert not {"banjir", "jalan", "sekolah", "gaji", "bansos", "listrik"} & WORDS.stop

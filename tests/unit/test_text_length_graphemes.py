"""Bluesky's and Mastodon's grapheme count: Unicode UAX #29 extended grapheme clusters.

The expected counts were recorded from ``Intl.Segmenter`` (granularity "grapheme", node 20 with
ICU 78), the segmenter Bluesky's clients count with; tests/fidelity/test_graphemes_intl_segmenter.py
compares a generated corpus when node is at hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.text_length import grapheme_length, mastodon_length

# Each text (repeated ``times`` times) with the number of graphemes Intl.Segmenter finds in it.
_RECORDED = [
    case
    for case in json.loads((Path(__file__).parent / "graphemes_intl_segmenter.json").read_text())["cases"]
    if "name" in case
]


@pytest.mark.parametrize("case", _RECORDED, ids=[case["name"] for case in _RECORDED])
def test_grapheme_length_is_intl_segmenters(case: dict[str, Any]) -> None:
    assert grapheme_length(case["text"] * case["times"]) == case["graphemes"]


def test_mastodon_counts_zwj_chains_per_letter() -> None:
    assert mastodon_length("a\u200d" * 600) == 600


_JOINERS = st.text(
    alphabet=st.sampled_from(
        ["a", "\u0645", "\u200d", "\u0301", "\ufe0f", "\U0001f525", "\U0001f3fd", "\U0001f1ee", "\r", "\n"]
    ),
    max_size=40,
)


@given(st.one_of(st.text(max_size=80), _JOINERS))
def test_at_most_one_grapheme_per_code_point(text: str) -> None:
    assert grapheme_length(text) <= len(text)
    assert (grapheme_length(text) == 0) == (text == "")


@given(st.one_of(st.text(max_size=40), _JOINERS), st.one_of(st.text(max_size=40), _JOINERS))
def test_joining_two_texts_merges_at_most_the_clusters_at_the_seam(left: str, right: str) -> None:
    # At most two of right's clusters join left's last: a right text starting with a zero width
    # joiner and a pictograph ("\u200d🈯") is two clusters alone, and after a pictograph both
    # join it (UAX #29 GB9 then GB11), as Intl.Segmenter counts "🈯\u200d🈯" as one.
    joined = grapheme_length(left + right)
    assert (
        grapheme_length(left) + grapheme_length(right) - 2
        <= joined
        <= grapheme_length(left) + grapheme_length(right)
    )

"""The ordered listing index: pages in order over facets, rows that move, keyset cursors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.listing import FacetedIndex, SortKey, decode_cursor, encode_cursor, instant

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
Facet = tuple[str | None, ...]


def at(**delta: int) -> int:
    return instant(T0 + timedelta(**delta))


def facets(channel: str, state: str) -> list[Facet]:
    return [(channel, state)]  # as the status view files a job


def wanted(index: FacetedIndex, channel: str | None, state: str | None) -> list[Facet]:
    return [f for f in index.facets() if channel in (None, f[0]) and state in (None, f[1])]


def all_pages(index: FacetedIndex, channel: str | None, state: str | None, limit: int) -> list[SortKey]:
    keys: list[SortKey] = []
    after: SortKey | None = None
    while True:
        page = index.page(wanted(index, channel, state), limit=limit, after=after)
        keys += page.keys
        if page.next_key is None:
            return keys
        after = decode_cursor(encode_cursor(page.next_key), 3)


def test_pages_follow_the_calendar_and_a_moved_row_moves() -> None:
    index = FacetedIndex()
    for n in range(5):
        index.put(f"c{n}", (at(minutes=10 - n), f"c{n}", "x"), facets("x", "scheduled"))
    index.put("y0", (at(minutes=8), "y0", "y"), facets("y", "scheduled"))  # another channel
    first = index.page(wanted(index, "x", None), limit=2)
    assert [k[1] for k in first.keys] == ["c4", "c3"]
    assert first.total == 5
    index.put("c4", (at(hours=1), "c4", "x"), facets("x", "published"))  # re-planned, then published
    index.put("c3", (at(minutes=7), "c3", "x"), facets("x", "due"))  # same slot, new state
    assert [k[1] for k in all_pages(index, None, None, 2)] == ["c3", "c2", "y0", "c1", "c0", "c4"]
    assert [k[1] for k in all_pages(index, "x", "scheduled", 2)] == ["c2", "c1", "c0"]
    assert [k[1] for k in all_pages(index, None, "published", 2)] == ["c4"]
    assert [k[1] for k in all_pages(index, None, "due", 2)] == ["c3"]
    window = index.page(wanted(index, None, None), limit=10, start=at(minutes=7), end=at(minutes=10))
    assert ([k[1] for k in window.keys], window.total) == (["c3", "c2", "y0", "c1"], 4)
    assert index.page(wanted(index, "z", None), limit=10).total == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 30), st.integers(0, 50), st.sampled_from("ab"), st.sampled_from(["s", "p", "f"])
        ),
        max_size=60,
    ),
    st.integers(1, 7),
    st.sampled_from([None, "a", "b"]),
    st.sampled_from([None, "s", "p"]),
)
def test_paging_through_a_filter_is_the_sorted_filter_of_every_row(
    moves: list[tuple[int, int, str, str]], limit: int, channel: str | None, state: str | None
) -> None:
    index = FacetedIndex()
    rows: dict[int, tuple[SortKey, str, str]] = {}
    for row, minute, ch, state_ in moves:  # a row put again is the same job with a new slot or state
        key = (at(minutes=minute), f"c{row}", ch)
        if row in rows and rows[row][1] != ch:
            continue  # a job keeps its channel
        index.put(row, key, facets(ch, state_))
        rows[row] = (key, ch, state_)
    expected = sorted(k for k, ch, s in rows.values() if channel in (None, ch) and state in (None, s))
    assert all_pages(index, channel, state, limit) == expected


@pytest.mark.parametrize(
    "garbage",
    ["²", "0", "!!!", "bnVsbA", encode_cursor((1, "c1")), "W10", "WyJ4IiwiYSIsImIiXQ", "WzEuNSwiYSIsImIiXQ"],
)
def test_a_cursor_this_api_did_not_make_is_refused(garbage: str) -> None:
    with pytest.raises(ValueError, match="not a cursor this API returned"):
        decode_cursor(garbage, 3)


def test_a_cursor_names_the_key_it_was_made_from() -> None:
    key = (at(seconds=random.randint(0, 10**6)), "c1", "mastodon-demo")
    assert decode_cursor(encode_cursor(key), 3) == key

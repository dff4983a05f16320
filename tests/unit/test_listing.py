"""The ordered listing index: pages in order under each facet, rows that move, keyset cursors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.listing import FacetedIndex, SortKey, decode_cursor, encode_cursor

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def facets(channel: str, state: str) -> list[tuple[str | None, ...]]:
    return [(None, None), (channel, None), (None, state), (channel, state)]


def all_pages(
    index: FacetedIndex, facet: tuple[str | None, ...], limit: int, **kw: datetime
) -> list[SortKey]:
    keys: list[SortKey] = []
    after: SortKey | None = None
    while True:
        page = index.page(facet, limit=limit, after=after, **kw)
        keys += page.keys
        if page.next_key is None:
            return keys
        after = decode_cursor(encode_cursor(page.next_key), 3)


def test_pages_follow_the_calendar_and_a_moved_row_moves() -> None:
    index = FacetedIndex()
    for n in range(5):
        index.put(f"c{n}", (T0 + timedelta(minutes=10 - n), f"c{n}", "x"), facets("x", "scheduled"))
    first = index.page((None, None), limit=2)
    assert [k[1] for k in first.keys] == ["c4", "c3"]
    assert first.total == 5
    index.put(
        "c4", (T0 + timedelta(hours=1), "c4", "x"), facets("x", "published")
    )  # re-planned, then published
    assert [k[1] for k in all_pages(index, (None, None), 2)] == ["c3", "c2", "c1", "c0", "c4"]
    assert [k[1] for k in all_pages(index, ("x", "scheduled"), 2)] == ["c3", "c2", "c1", "c0"]
    assert [k[1] for k in all_pages(index, (None, "published"), 2)] == ["c4"]
    window = index.page(
        (None, None), limit=10, start=T0 + timedelta(minutes=7), end=T0 + timedelta(minutes=10)
    )
    assert ([k[1] for k in window.keys], window.total) == (["c3", "c2", "c1"], 3)
    assert index.page(("y", None), limit=10).total == 0


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
def test_paging_through_a_facet_is_the_sorted_filter_of_every_row(
    moves: list[tuple[int, int, str, str]], limit: int, channel: str | None, state: str | None
) -> None:
    index = FacetedIndex()
    rows: dict[str, tuple[SortKey, str, str]] = {}
    for row, minute, ch, st_ in moves:  # a row put again is the same job with a new slot or state
        key = (T0 + timedelta(minutes=minute), f"c{row}", "x")
        index.put(row, key, facets(ch, st_))
        rows[f"c{row}"] = (key, ch, st_)
    expected = sorted(k for k, ch, st_ in rows.values() if channel in (None, ch) and state in (None, st_))
    assert all_pages(index, (channel, state), limit) == expected


@pytest.mark.parametrize(
    "garbage", ["²", "0", "!!!", "bnVsbA", encode_cursor((T0, "c1")), "W10", "WyJ4IiwiYSIsImIiXQ"]
)
def test_a_cursor_this_api_did_not_make_is_refused(garbage: str) -> None:
    with pytest.raises(ValueError, match="not a cursor this API returned"):
        decode_cursor(garbage, 3)


def test_a_cursor_names_the_key_it_was_made_from() -> None:
    key = (T0 + timedelta(seconds=random.randint(0, 10**6)), "c1", "mastodon-demo")
    assert decode_cursor(encode_cursor(key), 3) == key

"""Inbox pages by keyset: comments that arrive between pages neither repeat nor hide others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inbox.book import BadCursor, InboxBook, decode_cursor, encode_cursor, page_after
from shared.events import InboxChanged, InboxState

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def entry(n: int, minute: int) -> InboxChanged:
    return InboxChanged.model_validate(
        {
            "event_id": f"e{n}",
            "occurred_at": T0,
            "channel": "facebook-demo",
            "state": InboxState.NEW,
            "version": 1,
            "action": "receive",
            "by": "collector",
            "comment": {
                "event_id": f"c{n}",
                "occurred_at": T0,
                "channel": "facebook-demo",
                "platform": "facebook",
                "post_id": "p1",
                "comment_id": f"{n}",
                "author": {"id": "warga"},
                "text": "halo",
                "created_at": T0 + timedelta(minutes=minute),
                "via": "poll",
            },
        }
    )


def read_all_pages(book: InboxBook, limit: int, arrivals: list[list[InboxChanged]]) -> list[str]:
    """Every page in turn, ``arrivals[i]`` applied to the book after page ``i``."""
    seen: list[str] = []
    after = None
    for i in range(10_000):
        page, after = page_after(book.select(), after, limit)
        seen += [e.comment.comment_id for e in page]
        for late in arrivals[i] if i < len(arrivals) else []:
            book.apply(late)
        if after is None:
            return seen
        after = decode_cursor(encode_cursor(after))
    raise AssertionError("paging never ended")


@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=25),
    st.integers(1, 6),
    st.lists(st.lists(st.integers(-5, 40), max_size=3), max_size=8),
)
def test_comments_arriving_between_pages_neither_repeat_nor_hide_the_others(
    minutes: list[int], limit: int, arriving: list[list[int]]
) -> None:
    book = InboxBook()
    for n, minute in enumerate(minutes):
        book.apply(entry(n, minute))
    first = {str(n) for n in range(len(minutes))}
    late = [[entry(1000 + 10 * i + j, m) for j, m in enumerate(batch)] for i, batch in enumerate(arriving)]
    seen = read_all_pages(book, limit, late)
    assert len(seen) == len(set(seen)), "an entry repeated"
    assert first <= set(seen), "an entry skipped"


def test_a_newer_comment_between_pages_does_not_repeat_the_last_one() -> None:
    book = InboxBook()
    for n in range(3):
        book.apply(entry(n, n))
    assert read_all_pages(book, 1, [[entry(9, 99)]]) == ["2", "1", "0"]


@pytest.mark.parametrize(
    "cursor",
    ["", "3", "bm90IGpzb24", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiayJd", "WzEsMl0", "²", "x" * 5000],
)
def test_a_cursor_not_handed_out_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor)

"""LinkedIn's Rest.li paging, read by the collector and the reply look-up alike: any answer,
however garbled, either names a later page or ends the paging; it never raises or goes back."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.linkedin_paging import next_start

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def test_a_next_link_moves_on_by_the_page_read() -> None:
    body = {"paging": {"start": 100, "count": 100, "total": 250, "links": [{"rel": "next"}]}}
    assert next_start(body) == 200
    assert next_start({"paging": {"start": 200, "count": 100, "total": 250, "links": []}}) is None
    assert next_start({"elements": []}) is None


@given(
    start=_json,
    count=_json,
    links=st.lists(st.fixed_dictionaries({"rel": st.sampled_from(["next", "prev", 1])}), max_size=2),
)
def test_any_paging_ends_or_moves_forward(start: Any, count: Any, links: list[Any]) -> None:
    found = next_start({"paging": {"start": start, "count": count, "links": links}})
    if found is not None:
        assert isinstance(found, int)
        assert found > int(start) >= 0


@given(body=_json)
def test_any_answer_is_read_without_raising(body: Any) -> None:
    found = next_start(body)
    assert found is None or found > 0

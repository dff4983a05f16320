"""Hypothesis strategies that break a documented JSON reply the ways a platform's answer breaks.

``mutated`` changes a whole document: unknown fields added at every level, fields removed, and
now and then a value of another JSON type, as a platform that adds or renames fields between
versions answers. ``one_replaced`` changes one place only and says which (``Replaced.path``), so
a test can tell the parts the change touched from those it left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
JSON_ANY = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)

Path = tuple[str | int, ...]


@st.composite
def mutated(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with extra keys, dropped keys and, rarely, a value of another type, at any depth."""
    if draw(st.integers(0, 15)) == 0:
        return draw(JSON_ANY)
    if isinstance(doc, dict):
        out = {k: draw(mutated(v)) for k, v in doc.items() if draw(st.integers(0, 4)) != 0}
        extra = draw(st.dictionaries(st.text(min_size=1, max_size=10), JSON_ANY, max_size=2))
        return {**extra, **out}
    if isinstance(doc, list):
        return [draw(mutated(item)) for item in doc]
    return doc


def json_kind(value: Any) -> str:
    """The JSON type of a decoded value (a bool is not a number, an int is one)."""
    if value is None or isinstance(value, bool | str | list | dict):
        return type(value).__name__
    return "number"


def places(doc: Any, at: Path = ()) -> list[Path]:
    """Every place in ``doc`` that holds a value, outermost first, the document itself excluded."""
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    return [place for key, value in children for place in [(*at, key), *places(value, (*at, key))]]


def value_at(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def with_value(doc: Any, path: Path, value: Any) -> Any:
    """A copy of ``doc`` with ``value`` at ``path``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: with_value(doc.get(head), rest, value)}
    assert isinstance(head, int)
    return [with_value(item, rest, value) if i == head else item for i, item in enumerate(doc)]


@dataclass(frozen=True)
class Replaced:
    path: Path  # where the document was changed
    doc: Any  # the document with that one value changed

    def touches(self, other: Path) -> bool:
        """Whether the change is at, inside or around ``other`` (one path starts the other)."""
        shorter = min(len(self.path), len(other))
        return self.path[:shorter] == other[:shorter]


@st.composite
def one_replaced(draw: st.DrawFn, doc: Any) -> Replaced:
    """``doc`` with the value at one of its places replaced by a value of another JSON type, or
    ``mutated`` there; the rest of the document as it was."""
    path = draw(st.sampled_from(places(doc)))
    old = value_at(doc, path)
    other = JSON_ANY.filter(lambda new: json_kind(new) != json_kind(old))
    return Replaced(path, with_value(doc, path, draw(other | mutated(old))))

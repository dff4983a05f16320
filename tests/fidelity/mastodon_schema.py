"""Mastodon's entities as Mastodon.py types them: the schema the fake's JSON is checked against.

Mastodon publishes no machine-readable API description; Mastodon.py's ``return_types`` module is
the closest typed model of mastodon/documentation ``entities/*.md`` (each class cites its page).
A field annotated without ``Optional`` is one the documentation marks always present (its value
may still be null where the page says "nullable").
"""

from __future__ import annotations

import re
from typing import Any

from mastodon import return_types
from mastodon.types_base import AttribAccessDict

_CONTAINER = re.compile(r"^(?:NonPaginatableList|PaginatableList|List|list)\[(\w+)\]$")


def _entity(name: str) -> type | None:
    cls = getattr(return_types, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, AttribAccessDict) else None


def missing_fields(entity: str, data: Any, path: str = "") -> list[str]:
    """Required fields of ``entity`` that ``data`` lacks, recursively, as dotted paths."""
    cls = _entity(entity)
    assert cls is not None, f"Mastodon.py has no entity {entity}"
    if not isinstance(data, dict):
        return [f"{path or entity}: expected an object, got {type(data).__name__}"]
    problems: list[str] = []
    for name, written in cls.__annotations__.items():
        if name.startswith("_"):
            continue
        annotation = str(written).strip("'\"")  # the module quotes its annotations
        optional = annotation.startswith("Optional[")
        inner = annotation.removeprefix("Optional[").removesuffix("]") if optional else annotation
        where = f"{path}.{name}" if path else name
        if name not in data:
            if not optional:
                problems.append(f"{where}: missing")
            continue
        value = data[name]
        if value is None:
            # Mastodon.py's annotations don't track nullability (``in_reply_to_id`` is typed
            # ``MaybeSnowflakeIdType`` yet documented nullable): presence is what is checked.
            continue
        if (match := _CONTAINER.match(inner)) and _entity(match.group(1)) and isinstance(value, list):
            for i, item in enumerate(value):
                problems += missing_fields(match.group(1), item, f"{where}[{i}]")
        elif _entity(inner):
            problems += missing_fields(inner, value, where)
    return problems

"""The AT Protocol lexicons as the atproto SDK ships them: the schema Bluesky traffic is checked against.

atproto 0.0.73 ships no lexicon JSON; its ``atproto_client.models`` are generated from the
lexicons (bluesky-social/atproto ``lexicons/``), one pydantic model per definition.
``get_or_create(..., strict=True, strict_string_format=True)`` refuses missing required fields,
wrong types, and strings that break their declared format (did, at-uri, cid, datetime, tid,
record-key, uri, language), which the client's own parsing lets through.
"""

from __future__ import annotations

from typing import Any, TypeVar

from atproto_client.models.utils import get_or_create

M = TypeVar("M")


def conforms(model: type[M], data: Any) -> M:
    """``data`` parsed by the lexicon's model, strictly; raises when it breaks the lexicon."""
    parsed = get_or_create(data, model, strict=True, strict_string_format=True)
    assert isinstance(parsed, model), f"{model.__name__} did not parse: {parsed!r}"
    return parsed

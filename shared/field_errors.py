"""Pydantic's validation errors as ``FieldError``s: the request schemas of every HTTP service
(ingest, the console) refuse a body in the same words, rules and paths.

Pydantic's own URLs and input echoes never reach the client. A ``targets[i]…`` error names the
channel of that target when the body gives one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.http_errors import FieldError, ValidationFailed, field_error
from shared.messages import CATALOG, Param

M = TypeVar("M", bound=BaseModel)

_RULES: Mapping[str, str] = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "timezone_aware": "offset_required",
    "string_too_long": "max_length",
    "too_long": "max_length",
    "string_too_short": "min_length",
    "too_short": "min_length",
    "string_pattern_mismatch": "pattern",
    "enum": "enum",
    "literal_error": "enum",
    "greater_than_equal": "min_value",
    "greater_than": "min_value",
    "less_than_equal": "max_value",
    "less_than": "max_value",
}

# Rules whose sentence the catalog writes whole; for the others pydantic's own sentence is the
# ``detail`` of the rule's ``.schema`` message, with its context (limits) as parameters.
_OWN_SENTENCE = frozenset({"required", "unknown_field", "offset_required"})


def field_path(loc: Sequence[int | str]) -> str:
    """``('targets', 1, 'content', 'text')`` → ``targets[1].content.text``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _rule_for(pydantic_type: str) -> str:
    if pydantic_type in _RULES:
        return _RULES[pydantic_type]
    if pydantic_type.endswith(("_type", "_parsing")) or pydantic_type.startswith("datetime_"):
        return "type"
    return pydantic_type


def _target_channel(body: object, loc: Sequence[int | str]) -> str | None:
    """The channel a ``targets[i]…`` error belongs to, when the body names one."""
    if len(loc) < 2 or loc[0] != "targets" or not isinstance(loc[1], int) or not isinstance(body, dict):
        return None
    targets = body.get("targets")
    if not isinstance(targets, list) or loc[1] >= len(targets) or not isinstance(targets[loc[1]], dict):
        return None
    channel = targets[loc[1]].get("channel")
    return channel if isinstance(channel, str) else None


def translate(
    exc: ValidationError, body: object = None, prefix: Sequence[int | str] = ()
) -> list[FieldError]:
    """Pydantic's errors as ``FieldError``s (no URLs, no echo of the input)."""
    out: list[FieldError] = []
    for err in exc.errors(include_url=False, include_input=False, include_context=True):
        loc = (*prefix, *err["loc"])
        path = field_path(loc) or None
        rule = _rule_for(err["type"])
        channel = _target_channel(body, loc)
        if rule in _OWN_SENTENCE and path:
            out.append(field_error(channel, path, rule, field=path))
            continue
        params: dict[str, Param] = {
            k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float | bool)
        }
        params.update(field=path or "", detail=err["msg"])
        key = (f"{rule}.schema" if f"{rule}.schema" in CATALOG else "schema") if path else "schema.body"
        error = field_error(channel, path, key, **params)
        # An unlisted pydantic type keeps its own name as the rule, as it always has.
        out.append(dataclasses.replace(error, rule=rule))
    return out


def parse_model(model: type[M], body: object) -> M:
    """Validate a JSON body into ``model`` or raise ``ValidationFailed`` with every error."""
    if not isinstance(body, dict):
        raise ValidationFailed([not_an_object()])
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(translate(exc, body)) from exc


def not_an_object() -> FieldError:
    return field_error(None, None, "type.object")

"""A validator for the JSON-schema dialect of Google's API discovery documents.

Discovery documents (developers.google.com/discovery/v1/reference/apis) describe each resource
with a subset of JSON Schema draft 3: ``type``, ``properties``, ``additionalProperties``,
``items``, ``$ref`` by schema id, ``enum`` and ``format`` (64-bit integers travel as decimal
strings, ``date-time`` is RFC 3339). Strict where a fake could drift: a property the document
does not define is an error unless the schema allows ``additionalProperties``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
_DIGITS = {"int64": re.compile(r"-?[0-9]+"), "uint64": re.compile(r"[0-9]+")}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "object": dict,
    "array": list,
}


def load_document(name: str) -> dict[str, Any]:
    """A discovery document shipped inside google-api-python-client, e.g. ``youtube.v3``."""
    document: dict[str, Any] = json.loads((DOCUMENTS / f"{name}.json").read_text())
    return document


def problems(document: dict[str, Any], schema_id: str, value: Any) -> list[str]:
    """Every place where ``value`` breaks the document's schema ``schema_id``; empty if none."""
    found: list[str] = []
    _check(document["schemas"], document["schemas"][schema_id], value, schema_id, found)
    return found


def _check(schemas: dict[str, Any], schema: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "any" or kind is None:
        return
    if not _is_of_kind(value, kind):
        found.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r}")
        return
    if kind == "string":
        _check_string(schema, value, path, found)
    elif kind == "array":
        for k, item in enumerate(value):
            _check(schemas, schema.get("items", {}), item, f"{path}[{k}]", found)
    elif kind == "object":
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(schemas, properties[key], item, f"{path}.{key}", found)
            elif extra is not None:
                _check(schemas, extra, item, f"{path}.{key}", found)
            else:
                found.append(f"{path}.{key}: not defined by the schema")


def _is_of_kind(value: Any, kind: str) -> bool:
    # A test of its own so that ``value`` stays Any in the caller: narrowed to the union of every
    # kind's type, it could not be read as the one kind the schema names.
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def _check_string(schema: dict[str, Any], value: str, path: str, found: list[str]) -> None:
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of {schema['enum']}")
    fmt = schema.get("format")
    if fmt in _DIGITS and not _DIGITS[fmt].fullmatch(value):
        found.append(f"{path}: {value!r} is not an {fmt} string")
    if fmt == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            found.append(f"{path}: {value!r} is not an RFC 3339 date-time")

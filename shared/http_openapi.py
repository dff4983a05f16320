"""The pieces of OpenAPI that the services' documents (ingest, console, analytics, inbox) share,
written once: the error body every refusal takes (``shared.http_errors``), its media type and
headers, the closed object and reference helpers the documents are built from, and the answer of
the pause and resume routes the console forwards to ingest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.capability_rules import Rule
from shared.problems import PROBLEM_JSON

# RFC 9457 problem details, with the per-field list as the extension member ``errors``.
ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["channel", "field", "rule", "message"],
                "properties": {
                    "channel": {"type": ["string", "null"]},
                    "field": {"type": ["string", "null"]},
                    "rule": {
                        "type": "string",
                        "description": "a stable name for the rule broken; a channel's capability rules are "
                        + ", ".join(rule.value for rule in Rule),
                    },
                    "message": {"type": "string"},
                    "params": {
                        "type": "object",
                        "description": "the names and numbers the message states (e.g. platform, count, "
                        "limit), for a client that writes its own sentence",
                        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    },
                },
            },
        },
    },
}


BEARER_KEYS: dict[str, Any] = {"apiKey": {"type": "http", "scheme": "bearer"}}


def api_document(
    title: str, description: str, schemas: dict[str, Any], paths: dict[str, Any]
) -> dict[str, Any]:
    """An OpenAPI 3.1 document of one of Warta's APIs: version 1, API keys as bearer tokens, the
    shared error body first among ``schemas`` (``refusals`` refers to it)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "components": {"schemas": {"Errors": ERRORS_SCHEMA, **schemas}, "securitySchemes": BEARER_KEYS},
        "security": [{"apiKey": []}],
        "paths": paths,
    }


def closed_object(properties: dict[str, Any], *optional: str) -> dict[str, Any]:
    """A closed object: the answers are ours, so a field the document lacks is a bug."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_media(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


# A throttled (429) or unavailable (503) answer says when to try again, in whole seconds
# (``shared.http_errors.RetryAfter``; RFC 9110 §10.2.3 allows a date too, Warta never sends one).
RETRY_AFTER: dict[str, Any] = {
    "required": True,
    "description": "seconds",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


def refusals(words: Mapping[int, str], *codes: int) -> dict[str, Any]:
    """The answers of ``codes``, each described by ``words``: the shared error body, with the
    headers RFC 9110 asks of them (401 names its scheme, 429 and 503 say when to retry)."""
    out: dict[str, Any] = {
        str(c): {"description": words[c], **problem_json(schema_ref("Errors"))} for c in codes
    }
    for code in (c for c in codes if c in (429, 503)):
        out[str(code)]["headers"] = {**out[str(code)]["headers"], "Retry-After": RETRY_AFTER}
    if 401 in codes:
        out["401"]["headers"] = {
            **out["401"]["headers"],
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}},
        }
    return out


def problem_json(schema: dict[str, Any]) -> dict[str, Any]:
    """A refusal's content: RFC 9457 problem details, in English or Indonesian (Accept-Language)."""
    return {
        "content": {PROBLEM_JSON: {"schema": schema}},
        "headers": {"Content-Language": {"schema": {"type": "string", "enum": ["en", "id"]}}},
    }


# ``POST /v1/pause`` and ``/v1/resume`` (body: ``shared.control_request.PauseRequest``).
CONTROL_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["action", "channels", "accepted"],
    "properties": {
        "action": {"enum": ["pause", "resume"]},
        "channels": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"const": "all"}]},
        "accepted": {"const": True},
    },
    "additionalProperties": False,
}

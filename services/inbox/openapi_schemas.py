"""The schemas of the inbox's OpenAPI document (``services.inbox.openapi``): the request bodies
and the events an answer carries are the pydantic models the handlers use (``http_bodies``,
``InboxChanged``, ``ComplaintChanged``), so the document cannot say other than the code; the
answers the handlers build around them are written here, as closed objects (they are ours: a
field the document lacks is a bug the schema test and the fuzzer report).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from services.inbox.http_bodies import Answering, Approve, Assign, Reason, Reply, Texts
from shared.blank_text import SAYS_SOMETHING
from shared.events import ComplaintChanged, InboxChanged
from shared.http_openapi import closed_object, schema_ref

_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}
_TIME = {"type": "string", "format": "date-time"}
_MAYBE_STR = {"type": ["string", "null"]}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_REF_TEMPLATE = "#/components/schemas/{model}"


def _model(
    model: type[BaseModel], mode: JsonSchemaMode = "validation"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``model``'s JSON schema (of what it reads, or of what it writes) with its ``$defs`` taken
    out, to sit among the components."""
    schema = model.model_json_schema(ref_template=_REF_TEMPLATE, mode=mode)
    return schema, schema.pop("$defs", {})


def _with(event: dict[str, Any], **added: Any) -> dict[str, Any]:
    """An event as an answer shows it: its fields, and the ones the handler adds beside them."""
    return {**event, "properties": {**event["properties"], **added}, "additionalProperties": False}


_CLAIM = closed_object({"by": _STR, "since": _TIME, "until": _TIME})
_ABILITY = {
    "type": "object",
    "required": ["can", "code"],
    "properties": {
        "can": _BOOL,
        "code": {"enum": ["ok", "window", "needs_access", "not_built", "no_api"]},
        "detail": _STR,
        "needs": _STR,
        "window_hours": {"type": "integer"},
        "after_window": _MAYBE_STR,
    },
    "additionalProperties": False,
}
_MAYBE_COST = {"type": ["integer", "null"], "minimum": 0}
_QUOTA = closed_object({"daily": _INT, "read": _MAYBE_COST, "reply": _MAYBE_COST, "hide": _MAYBE_COST})
_ABILITIES = closed_object(
    {
        "read": _ABILITY,
        "reply": _ABILITY,
        "hide": _ABILITY,
        "delete": _ABILITY,
        "quota": {"oneOf": [{"type": "null"}, _QUOTA]},
        "source": _STR,
    },
    "source",
)
_CHANNEL_STATUS = closed_object(
    {
        "channel": _STR,
        "platform": _STR,
        "mode": _STR,
        "reason": _STR,
        "watched_posts": _INT,
        "collected": _INT,
        "last_poll_at": _MAYBE_TIME,
        "last_error": _MAYBE_STR,
        "abilities": schema_ref("Abilities"),
    }
)
_COUNTS = {"type": "object", "additionalProperties": _INT}
_ANSWERS: dict[str, Any] = {
    "Entries": closed_object(
        {
            "items": {"type": "array", "items": schema_ref("Entry")},
            "total": _INT,
            # Of the comments matched, those unanswered past their channel's target.
            "waiting_over_target": _INT,
            "next_cursor": _STR,
        },
        "next_cursor",
    ),
    "Channels": closed_object({"channels": {"type": "array", "items": _CHANNEL_STATUS}}),
    "Abilities": _ABILITIES,
    "Terms": closed_object(
        {
            "hours": {"type": "number"},
            "since": _TIME,
            "comments": _INT,
            "terms": {"type": "array", "items": closed_object({"term": _STR, "count": _INT})},
            "channel": _MAYBE_STR,
        }
    ),
    "Volume": closed_object(
        {
            "at": _TIME,
            "windows": {"type": "array", "items": _STR},
            "posts": {
                "type": "array",
                "items": closed_object(
                    {
                        "channel": _STR,
                        "post_id": _STR,
                        "content_id": _MAYBE_STR,
                        "tags": {"type": "array", "items": _STR},
                        "counts": _COUNTS,
                        "spiking": _BOOL,
                    }
                ),
            },
            "tags": {"type": "array", "items": closed_object({"tag": _STR, "counts": _COUNTS})},
        }
    ),
    "AnsweringMark": closed_object({"answering": _CLAIM}),
    "Released": closed_object({"released": _BOOL}),
    "Complaints": closed_object(
        {"items": {"type": "array", "items": schema_ref("Complaint")}, "total": _INT, "overdue": _INT}
    ),
    "Delivery": closed_object({"received": _INT, "dead_lettered": _INT}),
    "Health": closed_object({"ok": {"const": True}, "entries": _INT}),
}
_TEMPLATE_FIELDS: dict[str, Any] = {"name": _STR, "text_en": _STR, "text_id": _STR, "by": _STR, "at": _TIME}
_TEMPLATES: dict[str, Any] = {
    "Template": closed_object(_TEMPLATE_FIELDS),
    # With ?comment=KEY: its text in ``lang`` filled in for that comment.
    "FilledTemplate": closed_object(
        {**_TEMPLATE_FIELDS, "rendered": _STR, "lang": {"enum": ["en", "id"]}, "comment": _STR},
        "rendered",
        "lang",
        "comment",
    ),
    "Templates": closed_object({"templates": {"type": "array", "items": schema_ref("Template")}}),
    "RemovedTemplate": closed_object({**_TEMPLATE_FIELDS, "deleted_by": _STR}),
}


# What the pattern cannot say in every regex dialect, said in words (``shared.blank_text``).
_SAYS_SOMETHING = (
    "At least one visible character: a text of spaces, controls and Unicode's default-ignorable "
    "characters (zero-width space and joiners, bidi marks, BOM, variation selectors, Hangul "
    "fillers) alone is refused (422). The pattern names those of the Basic Multilingual Plane; a "
    "text of the few past it alone (U+1BCA0-1BCA3, U+1D173-1D17A, U+E0000-E0FFF) is refused by "
    "the server all the same."
)


def _saying_something(body: dict[str, Any], field: str) -> dict[str, Any]:
    """``body`` where the lifecycle refuses an empty or blank ``field`` (a reason where
    ``NEEDS_REASON``, a reply's text): at least one character that is not invisible
    (``shared.blank_text.SAYS_SOMETHING``, escapes every regex dialect reads alike)."""
    said = {**body["properties"][field], "minLength": 1, "pattern": SAYS_SOMETHING}
    said["description"] = _SAYS_SOMETHING
    said.pop("default", None)
    required = sorted({*body.get("required", ()), field})
    return {**body, "required": required, "properties": {**body["properties"], field: said}}


def schemas() -> dict[str, Any]:
    """Every schema of the document but the shared error body (``api_document`` adds it)."""
    entry, entry_defs = _model(InboxChanged, "serialization")
    complaint, complaint_defs = _model(ComplaintChanged, "serialization")
    bodies = {m.__name__: _model(m)[0] for m in (Reason, Assign, Reply, Approve, Answering, Texts)}
    return {
        **entry_defs,
        **complaint_defs,
        "Entry": _with(
            entry,
            key=_STR,
            # Said beside the detail: a hidden entry is not always hidden where citizens look.
            hidden_on_platform=_BOOL,
            answering=_CLAIM,
        ),
        "Complaint": _with(complaint, next_due=_MAYBE_TIME, overdue=_BOOL),
        **bodies,
        "ReasonRequired": _saying_something(bodies["Reason"], "reason"),
        "ReplyWithText": _saying_something(bodies["Reply"], "text"),
        **_ANSWERS,
        **_TEMPLATES,
    }

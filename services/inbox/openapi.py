"""The OpenAPI 3.1 document of the inbox's routes: what the inbox page and the CLI call, what
Meta calls, and what a property-based fuzzer (schemathesis) needs to drive every route and judge
every answer. Served at ``/openapi.json`` without a key.

Refusals take the shared error body (``shared.http_openapi``); bodies and events are the models
the handlers use (``services.inbox.openapi_schemas``); the routes that must say why (hide, close,
delete) are the lifecycle's ``NEEDS_REASON``, so the document names them from the rule itself.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from services.inbox.http_query import LIST_LIMIT, TERMS_HOURS, TERMS_LIMIT
from services.inbox.lifecycle import NEEDS_REASON
from services.inbox.openapi_schemas import schemas
from shared.events import ComplaintState, InboxAction, InboxState
from shared.http_openapi import api_document, json_media, refusals, schema_ref

_REFUSALS = {
    400: "Malformed JSON, or a cursor that is not a page's next_cursor",
    401: "Missing or unknown API key (a webhook delivery: no valid X-Hub-Signature-256)",
    403: "A channel the key may not see, a role that may not do it, or the four-eyes rule",
    404: "No such comment, complaint, template or file",
    409: "The entry's (or complaint's) state allows no such action, or another person is answering",
    413: "Body too large",
    415: "Not JSON",
    422: "Every validation problem at once (a hide, close or delete without a reason among them)",
    502: "LAPOR! did not take the complaint: it stays recorded, and the same call tries again",
    503: "The broker did not acknowledge: nothing was changed, the same call is safe to repeat",
}
_READ = (401, 403, 422)
_WRITE = (400, 401, 403, 404, 409, 413, 415, 422, 503)


def _errors(*codes: int) -> dict[str, Any]:
    return refusals(_REFUSALS, *codes)


def _ok(schema: str, code: str = "200", description: str = "OK") -> dict[str, Any]:
    return {code: {"description": description, **json_media(schema_ref(schema))}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"}, **more}


def _number(bounds: tuple[float, float], kind: str = "integer") -> dict[str, Any]:
    return {"type": kind, "minimum": bounds[0], "maximum": bounds[1]}


def _get(
    summary: str, answer: str, *codes: int, parameters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {**_ok(answer), **_errors(*codes)},
    }


def _write(
    summary: str, body: str, answers: dict[str, Any], *, key: str, required: bool = True
) -> dict[str, Any]:
    """A POST, PUT or DELETE on one resource (named by the path parameter ``key``)."""
    return {
        "summary": summary,
        "parameters": [_path(key)],
        "requestBody": {"required": required, **json_media(schema_ref(body))},
        "responses": {**answers, **_errors(*_WRITE)},
    }


def _open(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"get": {"summary": summary, "security": [], **more, "responses": responses}}


def _text(*media_types: str) -> dict[str, Any]:
    content = {media: {"schema": {"type": "string"}} for media in media_types}
    return {"200": {"description": "OK", "content": content}}


def _served_paths() -> dict[str, Any]:
    """The page, its files, the probes and this document: no key needed."""
    return {
        "/": _open("The inbox page (English and Bahasa Indonesia)", _text("text/html")),
        "/static/{name}": _open(
            "The page's scripts and style sheet",
            {**_text("text/javascript", "text/css"), **_errors(404)},
            parameters=[_path("name")],
        ),
        "/healthz": _open("Liveness: the book is rebuilt (its entries)", _ok("Health")),
        "/readyz": _open("Readiness: the same as liveness (the app exists once the book is)", _ok("Health")),
        "/metrics": _open("Prometheus metrics", _text("text/plain")),
        "/openapi.json": _open(
            "This document", {"200": {"description": "OK", **json_media({"type": "object"})}}
        ),
    }


def _webhook_paths() -> dict[str, Any]:
    """Meta's: no key, Meta signs each delivery with the app secret instead."""
    hub = [_query(f"hub.{name}") for name in ("mode", "verify_token", "challenge")]
    refused = {
        "403": {
            "description": "Not a subscription with the configured verify token",
            **_text("text/plain")["200"],
        }
    }
    signature = {
        "name": "X-Hub-Signature-256",
        "in": "header",
        "required": True,
        "description": "sha256= and the hex HMAC-SHA256 of the body as sent, keyed by the app "
        "secret; a delivery without a valid one is refused (401) and nothing of it is read",
        "schema": {"type": "string"},
    }
    return {
        "/webhooks/meta": {
            "get": {
                "summary": "Meta's subscription check: the challenge echoed for the right verify token",
                "security": [],
                "parameters": hub,
                "responses": {**_text("text/plain"), **refused},
            },
            "post": {
                "summary": "A delivery of comments (Facebook feed, Instagram comments, WhatsApp messages)",
                "security": [],
                "parameters": [signature],
                "requestBody": {"required": True, **json_media({"type": "object"})},
                "responses": {**_ok("Delivery"), **_errors(401, 413, 503)},
            },
        }
    }


def _read_paths() -> dict[str, Any]:
    """What every role reads: the list, one entry, the channels, terms and volume."""
    states = {"enum": [s.value for s in InboxState]}
    listing = [
        _query("channel"),
        _query("state", states),
        _query("post"),
        _query("assignee"),
        _query("tag"),
        _query("limit", _number(LIST_LIMIT)),
        _query("cursor", description="the next_cursor of the page before"),
    ]
    hours = _number(TERMS_HOURS, "number")
    return {
        "/v1/inbox": {
            "get": _get(
                "Comments, newest first, a page at a time", "Entries", 400, *_READ, parameters=listing
            )
        },
        "/v1/inbox/channels": {
            "get": _get("How each channel is read, and what it cannot do", "Channels", 401)
        },
        "/v1/inbox/terms": {
            "get": _get(
                "The most frequent terms of the comments of the last hours",
                "Terms",
                *_READ,
                parameters=[_query("channel"), _query("hours", hours), _query("limit", _number(TERMS_LIMIT))],
            )
        },
        "/v1/inbox/volume": {
            "get": _get(
                "Comments per post and tag in the last 15 min and hour",
                "Volume",
                *_READ,
                parameters=[_query("channel")],
            )
        },
        "/v1/inbox/{key}": {
            "get": _get("One comment and its history", "Entry", 401, 404, parameters=[_path("key")])
        },
    }


def _action_paths() -> dict[str, Any]:
    """What operators do to a comment: each answers the entry as it now is."""
    changed = _ok("Entry")
    drafted = _ok("Entry", "202", "A draft, waiting for an approver (a four-eyes channel)")
    verbs = {
        "assign": ("Give the comment to a person", "Assign", changed),
        "reply": (
            "Answer it, or draft the answer where four eyes are needed",
            "ReplyWithText",
            {**changed, **drafted},
        ),
        "approve": (
            "An approver (not the draft's author) sends the draft; given its drafted_at, only that draft (409 once replaced)",
            "Approve",
            changed,
        ),
    }
    for action, summary in (
        (InboxAction.HIDE, "Hide it (on the platform too where it can)"),
        (InboxAction.CLOSE, "Close it: nothing to answer"),
        (InboxAction.REOPEN, "Reopen a closed or hidden comment"),
        (InboxAction.DELETE, "Delete it on the platform: an approver's (422 where the platform cannot)"),
    ):
        body = "ReasonRequired" if action in NEEDS_REASON else "Reason"
        verbs[action.value] = (summary, body, changed)
    paths = {
        f"/v1/inbox/{{key}}/{verb}": {"post": _write(summary, body, answers, key="key")}
        for verb, (summary, body, answers) in verbs.items()
    }
    paths["/v1/inbox/{key}/answering"] = {
        "post": _write(
            "Say that the caller is answering it",
            "Answering",
            _ok("AnsweringMark"),
            key="key",
            required=False,
        ),
        "delete": {
            "summary": "The caller stops answering it",
            "parameters": [_path("key")],
            "responses": {**_ok("Released"), **_errors(401, 404)},
        },
    }
    return paths


def _complaint_paths() -> dict[str, Any]:
    """The complaint channel's: a comment made a complaint, forwarded to LAPOR!, answered, closed."""
    made, moved = _ok("Complaint", "201", "Created"), _ok("Complaint")
    listing = [
        _query("channel"),
        _query("state", {"enum": [s.value for s in ComplaintState]}),
        _query("overdue", {"enum": ["true", "false"]}),
    ]
    ident = "complaint_id"
    return {
        "/v1/inbox/{key}/complaint": {
            "post": _write("Record the comment as a complaint", "Reason", made, key="key", required=False)
        },
        "/v1/complaints": {
            "get": _get("Complaints, with their next deadline", "Complaints", *_READ, parameters=listing)
        },
        "/v1/complaints/{complaint_id}": {
            "get": _get("One complaint", "Complaint", 401, 404, parameters=[_path(ident)])
        },
        "/v1/complaints/{complaint_id}/forward": {
            "post": {
                **_write("Hand it to LAPOR!", "Reason", moved, key=ident, required=False),
                "responses": {**moved, **_errors(*_WRITE, 502)},
            }
        },
        **{
            f"/v1/complaints/{{complaint_id}}/{verb}": {
                "post": _write(summary, "Reason", moved, key=ident, required=False)
            }
            for verb, summary in (("answer", "Record that it was answered"), ("close", "Close it"))
        },
    }


def _template_paths() -> dict[str, Any]:
    """Saved answers: every role reads and fills in; operators, approvers and admins change them."""
    filled = [
        _query("comment", description="an entry's key: the text filled in for it"),
        _query("lang", {"enum": ["en", "id"]}),
    ]
    one = _get(
        "A saved answer, filled in for a comment when one is named",
        "FilledTemplate",
        401,
        404,
        422,
        parameters=[_path("name"), *filled],
    )
    return {
        "/v1/inbox/templates": {"get": _get("The saved answers", "Templates", 401)},
        "/v1/inbox/templates/{name}": {
            "get": one,
            "put": _write("Save it (both languages)", "Texts", _ok("Template"), key="name"),
            "delete": _write("Remove it", "Reason", _ok("RemovedTemplate"), key="name", required=False),
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    return api_document(
        "Warta inbox API",
        "Citizens' comments on what Warta published, and what the bureau does with them (assign, "
        "reply, approve, hide, close, reopen, delete), complaints forwarded to LAPOR!, saved "
        "answers; and Meta's webhook.",
        schemas(),
        {
            **_served_paths(),
            **_webhook_paths(),
            **_read_paths(),
            **_action_paths(),
            **_complaint_paths(),
            **_template_paths(),
        },
    )

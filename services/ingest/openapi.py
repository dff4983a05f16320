"""The OpenAPI 3.1 document of ingest's API, generated from the request models, and a docs page."""

from __future__ import annotations

from functools import cache
from typing import Any

from services.ingest.request import ContentRequest, DraftRequest, WithdrawRequest
from shared.control_request import PauseRequest
from shared.http_openapi import CONTROL_ANSWER, api_document, closed_object, json_media, refusals, schema_ref

_STR = {"type": "string"}
_MAYBE_STR = {"type": ["string", "null"]}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_MAYBE_OBJECT = {"type": ["object", "null"]}


_ACCEPTED = closed_object(
    {
        "content_id": _STR,
        "jobs": {"type": "array", "items": closed_object({"channel": _STR, "state": {"const": "accepted"}})},
    }
)
_CHANNEL_STATUS_FIELDS: dict[str, Any] = {
    "channel": _STR,
    "state": _STR,
    "updated_at": _MAYBE_TIME,
    "slot": _MAYBE_TIME,
    "explanation": _MAYBE_OBJECT,
    "attempt": {"type": "integer", "minimum": 1},
    "post_id": _MAYBE_STR,
    "url": _MAYBE_STR,
    "failure": _MAYBE_OBJECT,
    "superseded_by": _MAYBE_STR,
    "note": _MAYBE_STR,
    "engagement": _MAYBE_OBJECT,
}
_STATUS = closed_object(
    {
        "content_id": _STR,
        "external_ref": _MAYBE_STR,
        "topic_key": _MAYBE_STR,
        "priority": _STR,
        "author": _STR,
        "approved_by": _STR,
        "accepted_at": {"type": "string", "format": "date-time"},
        "not_before": _MAYBE_TIME,
        "deadline": _MAYBE_TIME,
        "channels": {"type": "array", "items": closed_object(_CHANNEL_STATUS_FIELDS)},
    }
)
_CALENDAR = closed_object(
    {
        "jobs": {
            "type": "array",
            "items": closed_object({"content_id": _STR, "topic_key": _MAYBE_STR, **_CHANNEL_STATUS_FIELDS}),
        },
        "next_cursor": _MAYBE_STR,
        "total": {"type": "integer", "minimum": 0},
    }
)
_CHANNELS = closed_object(
    {
        "channels": {
            "type": "array",
            "items": closed_object(
                {
                    "channel": _STR,
                    "platform": _STR,
                    "account": _STR,
                    "timezone": _STR,
                    "constraints": {"type": "object"},
                    "paused": {"oneOf": [{"type": "null"}, closed_object({"by": _STR, "reason": _STR})]},
                    "health": _STR,
                }
            ),
        }
    }
)
_DIGEST = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_MAYBE_DIGEST = {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"}
_DRAFT_CREATED = closed_object(
    {"draft_id": _STR, "state": {"const": "awaiting_approval"}, "content_sha256": _DIGEST}
)
_DRAFT_SUMMARY_FIELDS: dict[str, Any] = {
    "draft_id": _STR,
    "author": _STR,
    "submitted_at": {"type": "string", "format": "date-time"},
    "state": {"enum": ["awaiting_approval", "approved"]},
    "content_sha256": _DIGEST,
    "approved_by": _MAYBE_STR,
    "approved_at": _MAYBE_TIME,
    "content_id": _MAYBE_STR,
}
_DRAFT_LIST = closed_object(
    {
        "drafts": {"type": "array", "items": closed_object(_DRAFT_SUMMARY_FIELDS)},
        "next_cursor": _MAYBE_STR,
        "total": {"type": "integer", "minimum": 0},
    }
)
_HISTORY_ENTRY = closed_object(
    {
        "action": {"enum": ["submitted", "approved", "approval_refused"]},
        "by": _STR,
        "at": {"type": "string", "format": "date-time"},
        "content_sha256": _MAYBE_DIGEST,
        "content_id": _STR,
        "reason": _STR,
    },
    "content_id",
    "reason",
)
_DRAFT = closed_object(
    {
        **_DRAFT_SUMMARY_FIELDS,
        "request": {"type": "object", "description": "the draft as its editor wrote it"},
        "history": {
            "type": "array",
            "description": "the audit trail: who wrote it, who approved which digest and when, who was refused",
            "items": _HISTORY_ENTRY,
        },
    }
)
_WITHDRAWN = closed_object({"content_id": _STR, "action": {"const": "withdraw"}, "accepted": {"const": True}})
_HEALTH = closed_object({"status": {"const": "ok"}})
_READY = closed_object(
    {"status": {"enum": ["ready", "not_ready"]}, "problems": {"type": "array", "items": _STR}}, "problems"
)


_REFUSALS = {
    400: "Malformed JSON",
    401: "Missing or unknown API key",
    403: "Role, channel or four-eyes rule refuses it",
    404: "Not found",
    409: "Idempotency-Key reused with another body, or the draft already approved (by whom)",
    412: "If-Match does not name the draft's current content: read it again",
    413: (
        "Body too large, or the item it makes too large for the broker: its content is copied for "
        "each channel, and the event's size and the limit are in the message"
    ),
    415: "Not JSON",
    422: "Every validation problem at once",
    428: "If-Match missing: send the ETag of the draft you read",
    429: "Rate limit of this key",
    503: (
        "Broker unavailable: not known to be stored. The write may still reach the broker, so "
        "retry with the same Idempotency-Key (and body): only then is a retry sure not to store "
        "the item twice. A draft's read is refused too rather than answered from a view that may "
        "miss another instance's approval"
    ),
}


def _errors(*codes: int) -> dict[str, Any]:
    return refusals(_REFUSALS, *codes)


_WRITE = (400, 401, 403, 413, 415, 422, 429, 503)


def _op(
    summary: str, ok: dict[str, Any], errors: tuple[int, ...], body: str | None = None, **extra: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**ok, **_errors(*errors)}, **extra}
    if body:
        op["requestBody"] = {"required": True, **json_media(schema_ref(body))}
    return op


def _listing(
    summary: str,
    page: dict[str, Any],
    query: list[dict[str, Any]],
    *,
    whole_log: bool = False,
    by_channel: bool = False,
) -> dict[str, Any]:
    """A paginated listing: a page, or a refusal of the key (401), of a channel filter the key may
    not read (``by_channel``: 403), of a filter or cursor (422), of the listings' rate (429), or,
    for one that must hold every instance's answers (``whole_log``), of a broker that cannot say
    how far the log goes (503)."""
    errors = (401, *((403,) if by_channel else ()), 422, 429, *((503,) if whole_log else ()))
    return _op(summary, _ok(page), errors, parameters=query)


def _param(name: str, where: str, schema: Any, *, required: bool = False, about: str = "") -> dict[str, Any]:
    described = {"description": about} if about else {}
    return {"name": name, "in": where, "required": required, **described, "schema": schema}


_IDEMPOTENCY_KEY = _param(
    "Idempotency-Key",
    "header",
    {"type": "string", "maxLength": 200},
    about="A unique key per item, e.g. a UUID; send it on every submission. A retry with the same "
    "key and body answers the first answer and never stores the item twice, across restarts. "
    "A 503 means the broker did not acknowledge in time, yet the write may still be stored: "
    "without a key, a retry after a 503 can store the item a second time, and nothing tells "
    "the two apart.",
)
_CALENDAR_QUERY = [_param(n, "query", _STR) for n in ("state", "channel", "from", "to", "cursor")]
_DRAFT_QUERY = [
    _param("state", "query", {"enum": ["awaiting_approval", "approved"]}),
    _param("cursor", "query", _STR, about="the next_cursor of the previous page (opaque)"),
]
_IF_MATCH = _param(
    "If-Match",
    "header",
    _STR,
    required=True,
    about="the ETag of the draft as read (GET /v1/drafts/{draft_id}): its content's SHA-256",
)
_ETAG = {"ETag": {"required": True, "description": "the SHA-256 of the draft's content", "schema": _STR}}
_LOCATION = {"Location": {"required": True, "schema": _STR}}


def _ok(
    schema: dict[str, Any], code: str = "200", description: str = "OK", headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    answer = {"description": description, **json_media(schema)}
    return {code: {**answer, "headers": headers} if headers else answer}


def _schemas() -> dict[str, Any]:
    """The components' schemas: the fixed answers, then each request model and the models it uses."""
    schemas: dict[str, Any] = {"Accepted": _ACCEPTED}
    for model in (ContentRequest, DraftRequest, WithdrawRequest, PauseRequest):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    # A body that breaks no schema can still break a channel's rules (a 422); the schema says
    # what it can: at least one target.
    schemas["ContentRequest"]["properties"]["targets"]["minItems"] = 1
    schemas["DraftRequest"]["properties"]["targets"]["minItems"] = 1
    return schemas


def _content_paths() -> dict[str, Any]:
    content_id = [_param("content_id", "path", _STR, required=True)]
    return {
        "/v1/content": {
            "post": _op(
                "Submit an approved item",
                _ok(schema_ref("Accepted"), "202", "Accepted: on the broker (acks=all)", _LOCATION),
                (*_WRITE, 409),
                "ContentRequest",
                parameters=[_IDEMPOTENCY_KEY],
            ),
            "get": _listing(
                "The plan as a calendar (paginated by an opaque cursor; its own, stricter rate limit)",
                _CALENDAR,
                _CALENDAR_QUERY,
                by_channel=True,
            ),
        },
        "/v1/content/{content_id}": {
            "get": _op("Status per channel", _ok(_STATUS), (401, 404, 429), parameters=content_id)
        },
        "/v1/content/{content_id}/withdraw": {
            "post": _op(
                "Withdraw an item from every channel it has not reached",
                _ok(_WITHDRAWN, "202", "Accepted"),
                (*_WRITE, 404),
                "WithdrawRequest",
                parameters=content_id,
            )
        },
    }


def _draft_paths() -> dict[str, Any]:
    created = _ok(_DRAFT_CREATED, "201", "Created", {**_ETAG, **_LOCATION})
    draft_id = _param("draft_id", "path", _STR, required=True)
    return {
        "/v1/drafts": {
            "post": _op("Submit a draft for approval inside Warta", created, _WRITE, "DraftRequest"),
            "get": _listing(
                "Drafts in submission order (paginated; the listings' rate limit)",
                _DRAFT_LIST,
                _DRAFT_QUERY,
                whole_log=True,
            ),
        },
        "/v1/drafts/{draft_id}": {
            "get": _op(
                "A draft, its content digest (ETag) and its audit trail",
                _ok(_DRAFT, headers=_ETAG),
                (401, 404, 429, 503),
                parameters=[draft_id],
            )
        },
        "/v1/drafts/{draft_id}/approve": {
            "post": _op(
                "Approve the draft as read (If-Match: its ETag), not by its author; the first "
                "approval wins, across every ingest instance",
                _ok(schema_ref("Accepted"), "202", "Accepted: on the broker (acks=all)", _LOCATION),
                (401, 403, 404, 409, 412, 413, 422, 428, 429, 503),
                parameters=[draft_id, _IF_MATCH],
            )
        },
    }


def _control_paths() -> dict[str, Any]:
    controlled = _ok(CONTROL_ANSWER, "202", "Accepted")
    paths = {
        f"/v1/{action.lower()}": {
            "post": _op(f"{action} channels (all when none named)", controlled, _WRITE, "PauseRequest")
        }
        for action in ("Pause", "Resume")
    }
    return {
        **paths,
        "/v1/channels": {"get": _op("Channels, constraints and health", _ok(_CHANNELS), (401, 429))},
    }


def _probe_paths() -> dict[str, Any]:
    text = {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}
    return {
        "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": _ok(_HEALTH)}},
        "/readyz": {
            "get": {
                "summary": "Readiness: broker reachable, topics exist (asked at most every 2 s), view caught up",
                "security": [],
                "responses": {**_ok(_READY), **_ok(_READY, "503", "Not ready")},
            }
        },
        "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": text}},
    }


@cache
def openapi_document() -> dict[str, Any]:
    return api_document(
        "Warta ingest API",
        "Approved content in; per-channel status, the plan, and operator controls out.",
        _schemas(),
        {**_content_paths(), **_draft_paths(), **_control_paths(), **_probe_paths()},
    )


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warta ingest API</title>
<style>
 body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
 code,pre{background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}
 .op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.6rem}
 .m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}
 details pre{max-height:24rem;overflow:auto}
</style></head>
<body><h1>Warta ingest API</h1>
<p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
Send <code>Authorization: Bearer &lt;key&gt;</code>; every error answers
<code>application/problem+json</code> (RFC 9457) with the per-field list
<code>"errors":[{"channel","field","rule","message"}]</code>, in Bahasa Indonesia when
<code>Accept-Language</code> prefers <code>id</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const ops = document.getElementById('ops'); ops.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const div = document.createElement('div'); div.className = 'op';
      const head = document.createElement('div');
      head.innerHTML = '<span class="m"></span><code></code> — <span></span>';
      head.children[0].textContent = method; head.children[1].textContent = path;
      head.children[2].textContent = op.summary || '';
      div.appendChild(head);
      const codes = document.createElement('div');
      codes.textContent = 'Responses: ' + Object.keys(op.responses).join(', ');
      div.appendChild(codes);
      if (op.requestBody) {
        const ref = op.requestBody.content['application/json'].schema.$ref.split('/').pop();
        const d = document.createElement('details');
        d.innerHTML = '<summary>Body: ' + ref + '</summary><pre></pre>';
        d.querySelector('pre').textContent = JSON.stringify(doc.components.schemas[ref], null, 2);
        div.appendChild(d);
      }
      ops.appendChild(div);
    }
  }
});
</script></body></html>
"""

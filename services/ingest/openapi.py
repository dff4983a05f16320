"""The OpenAPI 3.1 document of ingest's API, generated from the request models, and a docs page."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from services.ingest.request import ContentRequest, DraftRequest, PauseRequest, WithdrawRequest

_ERROR = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["channel", "field", "rule", "message"],
                "properties": {
                    "channel": {"type": ["string", "null"]},
                    "field": {"type": ["string", "null"]},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        }
    },
}
_ACCEPTED = {
    "type": "object",
    "required": ["content_id", "jobs"],
    "properties": {
        "content_id": {"type": "string"},
        "jobs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"channel": {"type": "string"}, "state": {"type": "string"}},
            },
        },
    },
}
_ANY_OBJECT: dict[str, Any] = {"type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "Malformed JSON",
        401: "Missing or unknown API key",
        403: "Role, channel or four-eyes rule refuses it",
        404: "Not found",
        409: "Idempotency-Key reused with another body",
        413: "Body too large",
        415: "Not JSON",
        422: "Every validation problem at once",
        429: "Rate limit of this key",
        503: "Broker unavailable; retry with the same Idempotency-Key",
    }
    return {str(c): {"description": words[c], **_json(_ref("Errors"))} for c in codes}


_WRITE = (400, 401, 403, 413, 415, 422, 429, 503)


def _op(
    summary: str, ok: dict[str, Any], errors: tuple[int, ...], body: str | None = None, **extra: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**ok, **_errors(*errors)}, **extra}
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    return op


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


@cache
def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [ContentRequest, DraftRequest, WithdrawRequest, PauseRequest]
    schemas: dict[str, Any] = {"Errors": _ERROR, "Accepted": _ACCEPTED}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    idem = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 200},
    }
    query = [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
        for n in ("state", "channel", "from", "to", "cursor")
    ]
    ok_json = {"200": {"description": "OK", **_json(_ANY_OBJECT)}}
    accepted = {"202": {"description": "Accepted: on the broker (acks=all)", **_json(_ref("Accepted"))}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Warta ingest API",
            "version": "1",
            "description": "Approved content in; per-channel status, the plan, and operator controls out.",
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/v1/content": {
                "post": _op(
                    "Submit an approved item", accepted, (*_WRITE, 409), "ContentRequest", parameters=[idem]
                ),
                "get": _op("The plan as a calendar (paginated)", ok_json, (401, 422, 429), parameters=query),
            },
            "/v1/content/{content_id}": {
                "get": _op(
                    "Status per channel", ok_json, (401, 404, 429), parameters=[_path_param("content_id")]
                )
            },
            "/v1/content/{content_id}/withdraw": {
                "post": _op(
                    "Withdraw an item from every channel it has not reached",
                    {"202": {"description": "Accepted", **_json(_ANY_OBJECT)}},
                    (*_WRITE, 404),
                    "WithdrawRequest",
                    parameters=[_path_param("content_id")],
                )
            },
            "/v1/drafts": {
                "post": _op(
                    "Submit a draft for approval inside Warta",
                    {"201": {"description": "Created", **_json(_ANY_OBJECT)}},
                    _WRITE,
                    "DraftRequest",
                )
            },
            "/v1/drafts/{draft_id}/approve": {
                "post": _op(
                    "Approve a draft (not by its author)",
                    accepted,
                    (401, 403, 404, 422, 429, 503),
                    parameters=[_path_param("draft_id")],
                )
            },
            "/v1/pause": {
                "post": _op(
                    "Pause channels (all when none named)",
                    {"202": {"description": "Accepted", **_json(_ANY_OBJECT)}},
                    _WRITE,
                    "PauseRequest",
                )
            },
            "/v1/resume": {
                "post": _op(
                    "Resume channels (all when none named)",
                    {"202": {"description": "Accepted", **_json(_ANY_OBJECT)}},
                    _WRITE,
                    "PauseRequest",
                )
            },
            "/v1/channels": {"get": _op("Channels, constraints and health", ok_json, (401, 429))},
            "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": ok_json}},
            "/readyz": {
                "get": {
                    "summary": "Readiness: broker reachable, topics exist, view caught up",
                    "security": [],
                    "responses": {**ok_json, "503": {"description": "Not ready", **_json(_ANY_OBJECT)}},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
    }


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
<code>{"errors":[{"channel","field","rule","message"}]}</code>.</p>
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

"""The OpenAPI 3.1 document of the console's routes: what the dashboard and the CLI call, and what
a property-based fuzzer (schemathesis) needs to drive every route and judge every answer.

Refusals take the shared error body (the console answers with ``shared.http_errors``), and the
pause/resume request and answer it forwards to ingest are the shared ones
(``shared.control_request``, ``shared.http_openapi``), so neither is written twice. Answers the
console builds itself are described here; objects it builds from events (a job, a dead letter) list the fields it always sends and allow no
others, so a field added to the handlers without a word here is a failure of the schema test.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from services.console.openapi_connect import connect_paths
from shared.control_request import PauseRequest
from shared.events import OperatorAction
from shared.http_openapi import CONTROL_ANSWER, api_document, closed_object, json_media, refusals, schema_ref

_STR = {"type": "string"}
_INT = {"type": "integer"}
_MAYBE_STR = {"type": ["string", "null"]}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_TIME = {"type": "string", "format": "date-time"}
_MAYBE_OBJECT = {"type": ["object", "null"]}
_MAYBE_INT = {"type": ["integer", "null"]}
_MAYBE_NUMBER = {"type": ["number", "null"]}
_COUNTS = {"type": "object", "additionalProperties": _INT}


def _ok(schema: dict[str, Any], code: str = "200", description: str = "OK") -> dict[str, Any]:
    return {code: {"description": description, **json_media(schema)}}


_JOB = closed_object(
    {
        "job_id": _STR,
        "content_id": _STR,
        "channel": _STR,
        "platform": _STR,
        "state": _STR,
        "slot": _MAYBE_TIME,
        "attempt": _INT,
        "priority": _STR,
        "text": _STR,
        "explanation": _MAYBE_OBJECT,
        "url": _MAYBE_STR,
        "last_error": _MAYBE_OBJECT,
        "note": _MAYBE_STR,
        "updated_at": _TIME,
        "actions": {"type": "array", "items": {"enum": [a.value for a in OperatorAction]}},
    }
)
_PLANNED_JOB = {**_JOB, "properties": {**_JOB["properties"], "local_slot": _MAYBE_STR}}
_PLANNED_JOB["required"] = [*_JOB["required"], "local_slot"]
_DEAD_FIELDS: dict[str, Any] = {
    "id": _STR,
    "at": _TIME,
    "source_topic": _STR,
    "source_partition": _MAYBE_INT,
    "source_offset": _MAYBE_INT,
    "job_id": _MAYBE_STR,
    "content_id": _MAYBE_STR,
    "channel": _MAYBE_STR,
    "reason": _STR,
    # Which consumer dead-lettered the record, and the error's type (older letters: null).
    "consumer": _MAYBE_STR,
    "error_type": _MAYBE_STR,
}
_PAUSE = closed_object({"by": _STR, "reason": _STR, "at": _TIME})
_CHANNEL = closed_object(
    {
        "channel": _STR,
        "platform": _STR,
        "timezone": _STR,
        "health": _STR,
        "last_error": _MAYBE_OBJECT,
        "last_error_at": _MAYBE_TIME,
        "failure_ratio": _MAYBE_NUMBER,
        "paused": {"oneOf": [{"type": "null"}, _PAUSE]},
    }
)
_PLATFORM = closed_object(
    {
        "platform": _STR,
        "health": _STR,
        "channel": _MAYBE_STR,
        "last_error": _MAYBE_OBJECT,
        "last_error_at": _MAYBE_TIME,
        "published": _INT,
        "failed": _INT,
    }
)
_SCHEMAS: dict[str, Any] = {
    "Job": _JOB,
    "WhoAmI": closed_object(
        {
            "person": _STR,
            "role": {"enum": ["operator", "admin"]},
            # The channels the key may read and act on; "*" stands for every channel.
            "channels": {"type": "array", "items": _STR},
        }
    ),
    "Channels": closed_object({"channels": {"type": "array", "items": _CHANNEL}}),
    "Overview": closed_object(
        {
            "platforms": {"type": "array", "items": _PLATFORM},
            "channels": {"type": "array", "items": _CHANNEL},
            "jobs_by_state": _COUNTS,
            "dead_letters": _INT,
            # Channels whose account must be connected again: their jobs wait until it is.
            "needs_reauth": {
                "type": "array",
                "items": closed_object(
                    {
                        "channel": _STR,
                        "platform": _STR,
                        "reason": _STR,
                        "since": _MAYBE_TIME,
                        "reconnect": _STR,
                    }
                ),
            },
            "messages": _COUNTS,
            "lag": _COUNTS,
            "probed_at": _MAYBE_TIME,
        }
    ),
    "Series": closed_object(
        {
            "at": {"type": "array", "items": _TIME},
            "messages": {"type": "object", "additionalProperties": {"type": "array", "items": _INT}},
            "lag": {"type": "object", "additionalProperties": {"type": "array", "items": _INT}},
        }
    ),
    "Lag": closed_object(
        {
            "at": _TIME,
            "lags": {
                "type": "array",
                "items": closed_object(
                    {
                        "group": _STR,
                        "topic": _STR,
                        "partition": _INT,
                        "committed": _MAYBE_INT,
                        "end": _INT,
                        "lag": _INT,
                    }
                ),
            },
        }
    ),
    "Plan": closed_object(
        {
            "channel": _STR,
            "timezone": _STR,
            "day": {"type": "string", "format": "date"},
            "jobs": {"type": "array", "items": _PLANNED_JOB},
        }
    ),
    "Problems": closed_object(
        {"jobs": {"type": "array", "items": schema_ref("Job")}, "next_cursor": _MAYBE_STR}
    ),
    "Audit": closed_object(
        {
            "entries": {
                "type": "array",
                "items": closed_object(
                    {"at": _TIME, "by": _STR, "action": _STR, "target": _STR, "reason": _STR}
                ),
            }
        }
    ),
    "DeadLetters": closed_object(
        {"dead": {"type": "array", "items": closed_object(_DEAD_FIELDS)}, "total": _INT}
    ),
    "DeadLetter": closed_object(
        {**_DEAD_FIELDS, "raw": _MAYBE_STR, "job": {"oneOf": [{"type": "null"}, schema_ref("Job")]}}
    ),
    "Deliveries": closed_object(
        {
            "deliveries": {
                "type": "array",
                "items": closed_object(
                    {
                        "subscriber": _STR,
                        "delivery_id": _STR,
                        "event": _STR,
                        "url": _STR,
                        "started_at": _TIME,
                        "state": _STR,
                        "attempts": _INT,
                    }
                ),
            }
        }
    ),
    "ActionAccepted": closed_object(
        {
            "job_id": _STR,
            "action": {"enum": [a.value for a in OperatorAction]},
            "status": _STR,
            "accepted": {"const": True},
        }
    ),
    # The handlers' pydantic models (services.console.http_actions), written out: the HTTP package
    # imports this module, and the models are small.
    "ActionBody": {
        "type": "object",
        "required": ["action", "reason"],
        "properties": {
            "action": {"enum": [a.value for a in OperatorAction]},
            "reason": {"type": "string", "minLength": 1, "maxLength": 900},
            "url": {"type": ["string", "null"], "maxLength": 2048},
        },
        "additionalProperties": False,
    },
    "ReplayBody": {
        "type": "object",
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 900}},
        "additionalProperties": False,
    },
}


_REFUSALS = {
    400: "Malformed JSON",
    401: "Missing or unknown API key",
    403: "Not an operator's or an admin's key",
    404: "No such job, dead letter, file or route",
    405: "Method not allowed on this route",
    409: "The job's state allows no such action, or the dead letter is not a job",
    413: "Body too large",
    415: "Not JSON",
    422: "Every validation problem at once",
    429: "Rate limit of the key (ingest's, passed through)",
    503: "The broker (or ingest) did not answer; nothing was done",
}


def _errors(*codes: int) -> dict[str, Any]:
    return refusals(_REFUSALS, *codes)


_READ = (401, 403)
_WRITE = (400, 401, 403, 404, 409, 413, 415, 422, 503)


def _get(summary: str, schema: str, *errors: int, parameters: list[Any] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters or [],
            "responses": {**_ok(schema_ref(schema)), **_errors(*_READ, *errors)},
        }
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string", **schema}}


def _open(summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"summary": summary, "security": [], "responses": responses}}


def _text(media_type: str) -> dict[str, Any]:
    return {"200": {"description": "OK", "content": {media_type: {"schema": {"type": "string"}}}}}


def _schemas() -> dict[str, Any]:
    # The pause request is ingest's (shared/), as is the error body (``api_document`` adds it):
    # the routes the console forwards to ingest answer with them.
    pause_request = PauseRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        **pause_request.pop("$defs", {}),
        "PauseRequest": pause_request,
        **_SCHEMAS,
    }


def _served_paths() -> dict[str, Any]:
    """The dashboard, its files, and the probes: no key needed."""
    ready = closed_object(
        {"status": {"enum": ["ready", "not_ready"]}, "problems": {"type": "array", "items": _STR}}, "problems"
    )
    return {
        "/": _open("The dashboard", _text("text/html")),
        "/static/{name}": {
            "get": {
                "summary": "The dashboard's script and style sheet",
                "security": [],
                "parameters": [_path("name")],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/javascript": {"schema": _STR},
                            "text/css": {"schema": _STR},
                        },
                    },
                    **_errors(404),
                },
            }
        },
        "/metrics": _open("Prometheus metrics", _text("text/plain")),
        "/healthz": _open("Liveness", _ok(closed_object({"status": {"const": "ok"}}))),
        "/readyz": _open(
            "Readiness: the view caught up and offsets read", {**_ok(ready), **_ok(ready, "503")}
        ),
        "/openapi.json": _open("This document", _ok({"type": "object"})),
    }


def _view_paths() -> dict[str, Any]:
    """What operators read."""
    return {
        "/v1/whoami": _get("The key's person and role", "WhoAmI"),
        "/v1/overview": _get("Platforms, channels, jobs by state, totals and lag", "Overview"),
        "/v1/series": _get("Messages and lag per topic over time, for the charts", "Series"),
        "/v1/lag": _get("Lag per consumer group and partition", "Lag", 503),
        "/v1/channels": _get("Channels, health and pauses", "Channels"),
        "/v1/plan": _get(
            "One channel's plan for one of its local days",
            "Plan",
            422,
            parameters=[_query("channel", True), _query("day", True, format="date")],
        ),
        "/v1/problems": _get(
            "Jobs waiting for a person (failed, unconfirmed, dead), a page at a time",
            "Problems",
            422,
            parameters=[_query("limit", pattern="^[0-9]+$"), _query("cursor")],
        ),
        "/v1/audit": _get("Who did what, newest first", "Audit"),
    }


def _job_paths() -> dict[str, Any]:
    """What operators do to a job or a dead letter, and the dead letters they do it from."""
    return {
        "/v1/jobs/{job_id}/actions": _action(
            "Retry, mark as published (with its URL) or discard a job", "job_id", "ActionBody"
        ),
        "/v1/dead": _get("Dead letters, newest first", "DeadLetters"),
        "/v1/dead/{ident}": _get(
            "A dead letter (by its id, or a job's latest) with its raw record",
            "DeadLetter",
            404,
            parameters=[_path("ident")],
        ),
        "/v1/dead/{ident}/replay": _action(
            "Send a dead letter's job again through the scheduler", "ident", "ReplayBody", body_required=False
        ),
    }


def _action(summary: str, ident: str, body: str, *, body_required: bool = True) -> dict[str, Any]:
    """An operator's action on one job or dead letter: accepted (202) once on its way, or refused."""
    return {
        "post": {
            "summary": summary,
            "parameters": [_path(ident)],
            "requestBody": {"required": body_required, **json_media(schema_ref(body))},
            "responses": {**_ok(schema_ref("ActionAccepted"), "202", "Accepted"), **_errors(*_WRITE)},
        }
    }


def _forwarded(action: str) -> dict[str, Any]:
    # Pause and resume belong to ingest: the console checks the role, then passes the body and the
    # answer through (ingest's refusals, its 429 with Retry-After included).
    return {
        "summary": f"{action.capitalize()} channels (all when none named) (forwarded to ingest)",
        "requestBody": {"required": True, **json_media(schema_ref("PauseRequest"))},
        "responses": {
            **_ok(CONTROL_ANSWER, "202", "Accepted"),
            **_errors(400, 401, 403, 413, 415, 422, 429, 503),
        },
    }


def _forwarded_paths() -> dict[str, Any]:
    """Pause and resume: ingest's operations, answered by the console too."""
    return {f"/v1/{action}": {"post": _forwarded(action)} for action in ("pause", "resume")}


@cache
def openapi_document() -> dict[str, Any]:
    return api_document(
        "Warta console API",
        "What operators see (the plan, health, lag, dead letters, audit) and do "
        "(retry, mark published, discard, replay, pause, resume). Operator or admin keys only.",
        _schemas(),
        {
            **_served_paths(),
            **_view_paths(),
            **_job_paths(),
            **_forwarded_paths(),
            **connect_paths(_errors),
            "/v1/webhooks/deliveries": _get(
                "Recent lifecycle webhook deliveries", "Deliveries", parameters=[_query("subscriber")]
            ),
        },
    )

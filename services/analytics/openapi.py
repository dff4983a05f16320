"""The OpenAPI 3.1 document of the analytics worker's read API (served at ``/openapi.json``).

The report's shape is ``weekly.REPORT_SCHEMA`` itself (JSON Schema 2020-12, which OpenAPI 3.1
schemas are), so the document and the CLI's check read one definition. Its refusals (400 bad
query, 404 unknown item) are the RFC 9457 problem details ingest and the console answer, with the
same schema (``shared.http_openapi.ERRORS_SCHEMA``): a client reads every Warta API's errors one way.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from services.analytics.report import DEFAULT_BY, DEFAULT_WINDOW
from services.analytics.weekly import (
    DEFAULT_TOP,
    DEFAULT_TREND_WEEKS,
    MAX_TOP,
    MAX_TREND_WEEKS,
    REPORT_SCHEMA,
)
from shared.http_openapi import ERRORS_SCHEMA, problem_json

_FIGURES: dict[str, Any] = {
    "posts": {"type": "integer", "minimum": 0},
    "reactions": {"type": "integer"},
    "comments": {"type": "integer"},
    "shares": {"type": "integer"},
    "engagement": {"type": "integer", "description": "reactions + comments + shares"},
    "reach": {"type": ["integer", "null"], "description": "null: no post of the row reported one"},
    "reach_posts": {"type": "integer", "minimum": 0},
}
_ROW = {
    "type": "object",
    "required": ["key", "period", *_FIGURES],
    "properties": {
        "key": {"type": "string"},
        "period": {"type": ["string", "null"]},
        "channel": {"type": "string", "description": "by=hour only"},
        "day_of_week": {
            "type": "integer",
            "minimum": 0,
            "maximum": 6,
            "description": "by=hour only; 0 = Monday",
        },
        "hour": {"type": "integer", "minimum": 0, "maximum": 23, "description": "by=hour only; local"},
        **_FIGURES,
    },
}
_REACH = {
    "type": "object",
    "required": ["by", "window", "rows"],
    "properties": {
        "by": {"enum": ["channel", "hour", "topic", "tag"]},
        "window": {"enum": ["day", "week", "all"]},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/Row"}},
    },
    "additionalProperties": False,
}
_ITEM = {
    "type": "object",
    "required": ["content_id", "topic", "tags", "channels"],
    "properties": {
        "content_id": {"type": "string"},
        "topic": {"type": ["string", "null"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "channels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["channel", "published_at", "url", "horizon_minutes"],
                "properties": {
                    "channel": {"type": "string"},
                    "published_at": {"type": ["string", "null"], "format": "date-time"},
                    "url": {"type": ["string", "null"]},
                    "horizon_minutes": {"type": ["integer", "null"]},
                    **{k: v for k, v in _FIGURES.items() if k != "posts"},
                },
            },
        },
    },
    "additionalProperties": False,
}


def _json(ref: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _query(name: str, schema: dict[str, Any], about: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": about}


_WEEK = {"type": "string", "pattern": r"^\d{4}-W\d{2}$", "examples": ["2026-W49"]}


def _refused(description: str) -> dict[str, Any]:
    return {"description": description, **problem_json({"$ref": "#/components/schemas/Errors"})}


_BAD = {"400": _refused("A parameter out of its range; rule bad_query, the message says which and why")}


def _paths() -> dict[str, Any]:
    return {**_api_paths(), **_page_paths()}


def _report_parameters() -> list[dict[str, Any]]:
    return [
        _query("week", _WEEK, "the ISO week; this week in the report's zone by default"),
        _query(
            "weeks",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_TREND_WEEKS,
                "default": DEFAULT_TREND_WEEKS,
            },
            "weeks of trend, ending with the week",
        ),
        _query(
            "top",
            {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": DEFAULT_TOP},
            "top items",
        ),
    ]


def _api_paths() -> dict[str, Any]:
    """The JSON API: figures, an item, the week's report."""
    return {
        "/v1/reach": {
            "get": {
                "summary": "Figures per channel, hour-of-week, topic or tag, per window",
                "parameters": [
                    _query(
                        "by",
                        {"enum": ["channel", "hour", "topic", "tag"], "default": DEFAULT_BY},
                        "the dimension",
                    ),
                    _query(
                        "window",
                        {"enum": ["day", "week", "all"], "default": DEFAULT_WINDOW},
                        "hour: week or all",
                    ),
                    _query(
                        "period",
                        {"type": "string", "examples": ["2026-12-04", "2026-W49"]},
                        "one day or week",
                    ),
                ],
                "responses": {"200": _json("Reach"), **_BAD},
            }
        },
        "/v1/items/{content_id}": {
            "get": {
                "summary": "One item's topic, tags and latest figures per channel",
                "parameters": [
                    {"name": "content_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json("Item"),
                    "404": _refused("Nothing is known of the item; rule not_found"),
                },
            }
        },
        "/v1/report": {
            "get": {
                "summary": "The week's report document (warta report renders it)",
                "parameters": _report_parameters(),
                "responses": {"200": _json("Report"), **_BAD},
            }
        },
    }


def _page_paths() -> dict[str, Any]:
    """The Reach page, this document, readiness and metrics."""
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "/reach": {
            "get": {
                "summary": "The Reach page: the report as HTML",
                "parameters": [
                    _query("week", _WEEK, "the ISO week; this week by default"),
                    _query("lang", {"enum": ["en", "id"], "default": "en"}, "English or Bahasa Indonesia"),
                ],
                "responses": {
                    "200": {"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}},
                    "400": {"description": "A bad week or language", "content": text},
                },
            }
        },
        "/reach.css": {
            "get": {
                "summary": "The Reach page's stylesheet",
                "responses": {
                    "200": {"description": "OK", "content": {"text/css": {"schema": {"type": "string"}}}}
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/readyz": {
            "get": {
                "summary": "Ready once the tables are restored from their changelog",
                "responses": {"200": _json("Ready"), "503": _json("Ready", "Still restoring")},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "OK", "content": text}},
            }
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    report = copy.deepcopy(dict(REPORT_SCHEMA))
    report.pop("$schema")  # the document's dialect is OpenAPI 3.1's, JSON Schema 2020-12
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Warta analytics API",
            "version": "1",
            "description": "Reach figures, the weekly report and the Reach page, from the analytics worker's tables.",
        },
        "components": {
            "schemas": {
                "Row": _ROW,
                "Reach": _REACH,
                "Item": _ITEM,
                "Report": report,
                "Errors": copy.deepcopy(ERRORS_SCHEMA),
                "Ready": {
                    "type": "object",
                    "required": ["ready"],
                    "properties": {"ready": {"type": "boolean"}},
                    "additionalProperties": False,
                },
            }
        },
        "paths": _paths(),
    }

"""The Connect action's part of the console's OpenAPI document (services/console/connect.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.http_openapi import closed_object, json_media

_STR = {"type": "string"}
_CHANNEL = {"name": "channel", "in": "path", "required": True, "schema": _STR}


def connect_paths(errors: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """``errors(*codes)``: the document's problem responses, as every other route uses them."""
    started = closed_object({"channel": _STR, "authorize_url": _STR})
    generated = closed_object({"channel": _STR, "signing_secret": _STR})
    pasted = closed_object(
        {"channel": _STR, "reached": _STR, "permissions": {"type": "array", "items": _STR}}
    )
    return {
        "/v1/channels/{channel}/connect": {
            "post": {
                "summary": "Start connecting a channel's account (admin): the platform's consent page, "
                "or the webhook's new signing secret (shown once)",
                "parameters": [_CHANNEL],
                "responses": {
                    "200": {"description": "Send the browser to authorize_url", **json_media(started)},
                    "201": {
                        "description": "The webhook's signing secret, this once",
                        **json_media(generated),
                    },
                    **errors(400, 401, 403, 404, 503),
                },
            }
        },
        "/v1/channels/{channel}/credential": {
            "post": {
                "summary": "Connect a channel by its pasted credential (admin), checked with the platform",
                "parameters": [_CHANNEL],
                "requestBody": {
                    "required": True,
                    **json_media(closed_object({"secret": _STR, "username": _STR}, "username")),
                },
                "responses": {
                    "200": {"description": "Checked and stored", **json_media(pasted)},
                    **errors(400, 401, 403, 404, 413, 415, 422, 503),
                },
            }
        },
        "/v1/connect/callback": {
            "get": {
                "summary": "Where the platform sends the browser back; the state authorizes it",
                "security": [],
                "parameters": [
                    {"name": "state", "in": "query", "required": True, "schema": _STR},
                    {"name": "code", "in": "query", "required": False, "schema": _STR},
                    {"name": "error", "in": "query", "required": False, "schema": _STR},
                ],
                "responses": {
                    "200": {"description": "Connected", "content": {"text/html": {"schema": _STR}}},
                    **errors(400, 404, 503),
                },
            }
        },
    }

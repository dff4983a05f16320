"""What the Facebook and Instagram fakes share: tokens, the Graph error envelope, usage headers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from sandbox.base import (
    FakeState,
    Handler,
    Reject,
    SlidingWindow,
    Window,
    bearer_token,
    json_reply,
)

GRAPH_TIME = "%Y-%m-%dT%H:%M:%S%z"
# The Graph API version the Facebook, Instagram and WhatsApp fakes answer as: every route sits
# under ``/v26.0`` as on graph.facebook.com; another version gets the Graph error 2500.
GRAPH_VERSION = "v26.0"


@dataclass
class GraphState(FakeState):
    # Business Use Case quota per page / IG user (docs: 4800 x engaged users per rolling 24 h).
    buc: SlidingWindow = field(default_factory=lambda: SlidingWindow(4800, timedelta(hours=24)))

    def reset(self) -> None:
        super().reset()
        self.buc.clear()


def graph_time(value: datetime) -> str:
    return value.strftime(GRAPH_TIME)


def graph_error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    status: int = 400,
    transient: bool = False,
    headers: dict[str, str] | None = None,
) -> web.Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "AFakeTraceId",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return json_reply({"error": error}, status, headers)


def graph_list(value: object) -> list[str]:
    """A list parameter as Graph reads it: ``a,b`` or the JSON array ``["a","b"]``.

    The facebook-business SDK JSON-encodes every list parameter; curl examples use commas.
    """
    raw = str(value or "").strip()
    if raw.startswith("["):
        try:
            items = orjson.loads(raw)
        except orjson.JSONDecodeError:
            items = None
        if isinstance(items, list):
            return [str(item) for item in items if str(item)]
    return [item.strip() for item in raw.split(",") if item.strip()]


def graph_fields(value: object) -> dict[str, set[str] | None]:
    """``fields`` as Graph reads it: top-level names, each with the subfields its braces name
    (``id,poll_attachment{option_a,total_votes}``), or None when it names none."""
    if str(value or "").strip().startswith("["):  # the SDK's JSON array: names only
        return dict.fromkeys(graph_list(value))
    out: dict[str, set[str] | None] = {}
    depth, start, raw = 0, 0, str(value or "") + ","
    for i, char in enumerate(raw):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char != "," or depth:
            continue
        item, start = raw[start:i].strip(), i + 1
        name, brace, rest = item.partition("{")
        if name.strip():
            out[name.strip()] = (
                {f.strip() for f in rest.rstrip("}").split(",") if f.strip()} if brace else None
            )
    return out


def usage_headers(owner: str, window: Window, now: datetime) -> dict[str, str]:
    used = round(100 * (window.limit - window.remaining) / window.limit)
    regain = 0 if window.remaining else max(1, round((window.reset_at - now).total_seconds() / 60))
    buc = {owner: [{"type": "pages", "call_count": used, "total_cputime": 1, "total_time": 1,
                    "estimated_time_to_regain_access": regain}]}  # fmt: skip
    return {
        "X-App-Usage": orjson.dumps({"call_count": 1, "total_time": 1, "total_cputime": 1}).decode(),
        "X-Business-Use-Case-Usage": orjson.dumps(buc).decode(),
    }


def authorise(state: GraphState, request: web.Request, owner: str) -> tuple[str, dict[str, str]]:
    """The token's account and the usage headers; rejects a bad token (190) or BUC throttling (32)."""
    token = bearer_token(request) or request.query.get("access_token")
    account = state.account_for(token)
    if account is None:
        raise Reject(graph_error("Invalid OAuth access token - Cannot parse access token", 190))
    now = state.now()
    window = state.buc.take(owner, now)
    headers = usage_headers(owner, window, now)
    if not window.allowed:
        raise Reject(graph_error("(#32) Page request limit reached", 32, headers=headers))
    return account, headers


async def _unknown_path(request: web.Request) -> web.Response:
    # What graph.facebook.com answers for a path it has no edge for (another version included),
    # in the Graph envelope rather than a bare 404 page.
    return graph_error(f"Unknown path components: {request.match_info['tail']}", 2500)


def add_graph_routes(app: web.Application, version: str, routes: Iterable[tuple[str, str, Handler]]) -> None:
    """Each route under ``/{version}``, with and without a trailing slash, then the Graph 404.

    The facebook-business SDK reads a node as ``GET /{version}/{id}/``: Graph takes both forms.
    Call after the admin routes (``new_fake_app``): the catch-all must come last.
    """
    for method, path, handler in routes:
        app.router.add_route(method, f"/{version}{path}", handler)
        app.router.add_route(method, f"/{version}{path}/", handler)
    app.router.add_route("*", "/{tail:.*}", _unknown_path)

"""A contract fake of SP4N-LAPOR!'s integration API (the contract ``services.inbox.lapor_http``
speaks; the real one is given to an agency on registration).

    POST /complaints        Bearer token → 201 {"tracking_id", "status": "verifikasi"}; the same
                            ``client_reference`` again → 200 with the first tracking id (LAPOR!
                            never holds two complaints for one reference). 401 without a known
                            token, 400 for a body that is not a JSON object, 422 for a missing
                            or empty field (``errors`` names them).
    GET  /complaints/{id}   → {"tracking_id", "status"}; 404 for an unknown id
    POST /_fake/status      {"tracking_id", "status"}: LAPOR!'s side moves a complaint on
    POST /_fake/fail        {"status": 503, "count": 1}: the next ``count`` submissions fail so
    GET  /_fake/complaints  everything held, oldest first
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

REQUIRED = ("client_reference", "title", "content", "channel", "reported_at", "reporter")
MAX_BODY_BYTES = 256 * 1024


@dataclass
class LaporState:
    tokens: set[str]
    complaints: dict[str, dict[str, Any]] = field(default_factory=dict)  # tracking id → complaint
    by_reference: dict[str, str] = field(default_factory=dict)  # client reference → tracking id
    failures: list[int] = field(default_factory=list)  # statuses the next submissions answer
    id_base: int = 0  # tracking numbers start past it, as the platforms' ids do (sandbox/ids.py)

    def reset(self) -> None:
        """Forget every complaint and queued failure (the sandbox's ``/_fake/reset``); the tokens
        stay, as the platforms' fakes keep theirs."""
        self.complaints.clear()
        self.by_reference.clear()
        self.failures.clear()

    def open(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The complaint for the body's reference, and whether it is new."""
        ref = body["client_reference"]
        if ref in self.by_reference:
            return self.complaints[self.by_reference[ref]], False
        tracking_id = f"LAPOR-{self.id_base + len(self.complaints) + 1:06d}"
        complaint = {**{k: body.get(k) for k in (*REQUIRED, "source_url")}, "tracking_id": tracking_id}
        complaint["status"] = "verifikasi"
        self.complaints[tracking_id] = complaint
        self.by_reference[ref] = tracking_id
        return complaint, True


STATE: web.AppKey[LaporState] = web.AppKey("lapor_state", LaporState)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response(
        {"error": message, **extra}, status=status, dumps=lambda d: orjson.dumps(d).decode()
    )


def _authorized(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    return header.startswith("Bearer ") and header.removeprefix("Bearer ") in request.app[STATE].tokens


def _receipt(complaint: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(
        {"tracking_id": complaint["tracking_id"], "status": complaint["status"]}, status=status
    )


async def submit(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if not _authorized(request):
        return _error(401, "invalid or missing token")
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return _error(400, "body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    missing = [k for k in REQUIRED if not isinstance(body.get(k), str) or not body[k].strip()]
    if missing:
        return _error(422, "missing or empty fields", fields=missing)
    if state.failures:
        return _error(state.failures.pop(0), "temporarily unavailable")
    complaint, new = state.open(body)
    return _receipt(complaint, 201 if new else 200)


async def show(request: web.Request) -> web.Response:
    if not _authorized(request):
        return _error(401, "invalid or missing token")
    complaint = request.app[STATE].complaints.get(request.match_info["tracking_id"])
    return _receipt(complaint) if complaint else _error(404, "no such complaint")


async def set_status(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read() or b"{}")
    complaint = request.app[STATE].complaints.get(str(body.get("tracking_id")))
    if complaint is None:
        return _error(404, "no such complaint")
    complaint["status"] = str(body.get("status", complaint["status"]))
    return _receipt(complaint)


async def fail_next(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read() or b"{}")
    request.app[STATE].failures += [int(body.get("status", 503))] * int(body.get("count", 1))
    return web.json_response({"queued": len(request.app[STATE].failures)})


async def listing(request: web.Request) -> web.Response:
    return web.json_response({"complaints": list(request.app[STATE].complaints.values())})


def create_app(state: LaporState) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE] = state
    app.router.add_post("/complaints", submit)
    app.router.add_get("/complaints/{tracking_id}", show)
    app.router.add_post("/_fake/status", set_status)
    app.router.add_post("/_fake/fail", fail_next)
    app.router.add_get("/_fake/complaints", listing)
    return app

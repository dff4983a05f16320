"""The complaint channel's HTTP routes, on the inbox's API (same keys, same refusals)::

    POST /v1/inbox/{key}/complaint   {"reason"}: the comment becomes a complaint record (201),
                                     with its deadline to be forwarded; 409 if it is one already
    GET  /v1/complaints              ?channel=&state=&overdue=true → items (each with ``next_due``
                                     and ``overdue``), total, overdue (of those matched)
    GET  /v1/complaints/{id}
    POST /v1/complaints/{id}/forward {"reason"}: hands it to LAPOR! → 200 with its tracking id;
                                     502 when LAPOR! does not take it: the record stays
                                     ``recorded`` with the reason and the attempt counted, and
                                     the same call retries it (idempotently: see lapor_port)
    POST /v1/complaints/{id}/answer | close   {"reason"}

A complaint is visible to the keys that see its channel; any other id is a 404. Illegal moves
(answering a complaint not forwarded, closing one twice) are 409 ``complaint_state``; a change
the broker does not acknowledge is 503 with Retry-After (the call is safe to repeat).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.inbox.complaint_desk import ComplaintDesk, ForwardFailed, NoSuchComplaint
from services.inbox.complaints import DUE_FIELD, is_overdue
from services.inbox.http_api import DEPS, caller, json_text, read_model
from services.inbox.http_bodies import Reason
from services.inbox.http_query import channels_asked, given, state_asked
from shared.events import ComplaintAction, ComplaintChanged, ComplaintState
from shared.http_auth import Principal
from shared.http_errors import (
    NotFound,
    ValidationFailed,
    said_error,
)
from shared.messages import said
from shared.problems import problem_response

DESK: web.AppKey[ComplaintDesk] = web.AppKey("complaint_desk", ComplaintDesk)


def complaint_json(complaint: ComplaintChanged, now: Any) -> dict[str, Any]:
    data: dict[str, Any] = complaint.model_dump(mode="json", exclude_none=True)
    field = DUE_FIELD.get(complaint.state)
    data["next_due"] = data.get(field) if field is not None else None
    data["overdue"] = is_overdue(complaint, now)
    return data


def _complaint_for(request: web.Request, principal: Principal) -> ComplaintChanged:
    complaint_id = request.match_info["complaint_id"]
    try:
        complaint = request.app[DESK].get(complaint_id)
    except NoSuchComplaint:
        complaint = None
    if complaint is None or not principal.may_target(complaint.channel):
        raise NotFound(said("not_found.complaint", id=complaint_id))
    return complaint


async def create_from_comment(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    key = request.match_info["key"]
    entry = deps.keeper.book.get(key)
    if entry is None or not principal.may_target(entry.channel):
        raise NotFound(said("not_found.comment", key=key))
    reason = (await read_model(request, Reason, optional=True)).reason
    made = await request.app[DESK].record(entry, key, by=principal.person, reason=reason)
    return web.json_response(complaint_json(made, deps.clock()), status=201, dumps=json_text)


async def list_complaints(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    query = given(request.query)
    channels = channels_asked(query, principal, deps.channels)
    state = state_asked(query, ComplaintState)
    if query.get("overdue", "false") not in ("true", "false"):
        raise ValidationFailed(said("enum.overdue"), field="overdue")
    now = deps.clock()
    found = request.app[DESK].select(
        channels=channels, state=state, overdue_at=now if query.get("overdue") == "true" else None
    )
    items = [complaint_json(c, now) for c in found]
    body = {"items": items, "total": len(items), "overdue": sum(1 for i in items if i["overdue"])}
    return web.json_response(body, dumps=json_text)


async def show_complaint(request: web.Request) -> web.Response:
    complaint = _complaint_for(request, caller(request))
    return web.json_response(complaint_json(complaint, request.app[DEPS].clock()), dumps=json_text)


async def forward(request: web.Request) -> web.Response:
    principal = caller(request)
    complaint = _complaint_for(request, principal)
    reason = (await read_model(request, Reason, optional=True)).reason
    try:
        done = await request.app[DESK].forward(complaint.complaint_id, by=principal.person, reason=reason)
    except ForwardFailed as exc:
        kept = exc.complaint
        key = "lapor_unavailable" if exc.retriable else "lapor_refused"
        failed = said(key, id=kept.complaint_id, error=str(exc), attempt=kept.forward_attempts)
        return problem_response(request, 502, [said_error(kept.channel, None, failed)])
    return web.json_response(complaint_json(done, request.app[DEPS].clock()), dumps=json_text)


def _move(action: ComplaintAction) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        principal = caller(request)
        complaint = _complaint_for(request, principal)
        reason = (await read_model(request, Reason, optional=True)).reason
        done = await request.app[DESK].act(complaint.complaint_id, action, by=principal.person, reason=reason)
        return web.json_response(complaint_json(done, request.app[DEPS].clock()), dumps=json_text)

    return handler


def add_complaint_routes(app: web.Application, desk: ComplaintDesk) -> None:
    app[DESK] = desk
    app.router.add_post("/v1/inbox/{key}/complaint", create_from_comment)
    app.router.add_get("/v1/complaints", list_complaints)
    app.router.add_get("/v1/complaints/{complaint_id}", show_complaint)
    app.router.add_post("/v1/complaints/{complaint_id}/forward", forward)
    for verb, action in (("answer", ComplaintAction.ANSWER), ("close", ComplaintAction.CLOSE)):
        app.router.add_post(f"/v1/complaints/{{complaint_id}}/{verb}", _move(action))

"""The "who is answering" routes, on the inbox's API (same keys, same refusals)::

    POST   /v1/inbox/{key}/answering   {"override"}: the caller is answering this comment → 200
                                       {"answering": {"by", "since", "until"}}; renewed by its
                                       holder; 409 ``someone_answering`` while another person's
                                       mark holds, unless ``override`` (taking over, on purpose)
    DELETE /v1/inbox/{key}/answering   the caller stops answering → 200 {"released": bool}

Every listing and view of a comment shows ``answering`` while a mark holds
(``services.inbox.answering``); a reply or draft by anyone else needs ``override`` meanwhile.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from services.inbox.book import key_of
from services.inbox.http_api import API_BODY_LIMIT, DEPS, read_capped, schema_error
from shared.events import InboxChanged
from shared.http_auth import Principal, authenticate
from shared.http_errors import BadRequest, NotFound, ValidationFailed, parse_json_body
from shared.messages import said


class _Answering(BaseModel):
    model_config = ConfigDict(extra="forbid")
    override: bool = False


def _caller(request: web.Request) -> Principal:
    return authenticate(request.app[DEPS].keys, request.headers.get("Authorization"))


def _entry_for(request: web.Request, principal: Principal) -> InboxChanged:
    key = request.match_info["key"]
    entry = request.app[DEPS].keeper.book.get(key)
    if entry is None or not principal.may_target(entry.channel):
        raise NotFound(said("not_found.comment", key=key))
    return entry


async def _override(request: web.Request) -> bool:
    raw = await read_capped(request, API_BODY_LIMIT, "a request body")
    decoded = parse_json_body(raw, request.headers.get("Content-Type"), API_BODY_LIMIT) if raw else {}
    if not isinstance(decoded, dict):
        raise BadRequest(said("malformed_json.not_object"))
    try:
        return _Answering.model_validate(decoded).override
    except ValidationError as exc:
        raise ValidationFailed([schema_error(exc)]) from None


async def start_answering(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], _caller(request)
    entry = _entry_for(request, principal)
    override = await _override(request)
    claim = deps.claims.claim(key_of(entry), principal.person, deps.clock(), override=override)
    return web.json_response({"answering": claim.to_json()})


async def stop_answering(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], _caller(request)
    entry = _entry_for(request, principal)
    return web.json_response({"released": deps.claims.release(key_of(entry), principal.person)})


def add_answering_routes(app: web.Application) -> None:
    app.router.add_post("/v1/inbox/{key}/answering", start_answering)
    app.router.add_delete("/v1/inbox/{key}/answering", stop_answering)

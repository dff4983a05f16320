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

from services.inbox.book import key_of
from services.inbox.http_api import DEPS, caller, entry_for, read_model
from services.inbox.http_bodies import Answering


async def start_answering(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    entry = entry_for(request, principal)
    override = (await read_model(request, Answering, optional=True)).override
    claim = deps.claims.claim(key_of(entry), principal.person, deps.clock(), override=override)
    return web.json_response({"answering": claim.to_json()})


async def stop_answering(request: web.Request) -> web.Response:
    deps, principal = request.app[DEPS], caller(request)
    entry = entry_for(request, principal)
    return web.json_response({"released": deps.claims.release(key_of(entry), principal.person)})


def add_answering_routes(app: web.Application) -> None:
    app.router.add_post("/v1/inbox/{key}/answering", start_answering)
    app.router.add_delete("/v1/inbox/{key}/answering", stop_answering)

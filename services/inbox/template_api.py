"""The saved answers' HTTP entry points (``Authorization: Bearer <key>``)::

    GET    /v1/inbox/templates                  → {"templates": [{name, text_en, text_id, by, at}]}
    GET    /v1/inbox/templates/{name}           → the template; with ?comment=KEY&lang=en|id also
                                                  ``rendered``: its text in that language filled in
                                                  for that comment (``lang`` defaults to the
                                                  caller's Accept-Language)
    PUT    /v1/inbox/templates/{name}           {"text_en", "text_id"} → 200 the template saved
    DELETE /v1/inbox/templates/{name}           {"reason"} (optional body) → 200 what was removed

Every role reads and fills in; operators, approvers and admins save and delete (a saved answer
speaks for the bureau on every channel, so it is not an editor's to change). A text with an
unknown placeholder, or a brace that opens or closes nothing, is refused whole with 422 and
one error per fault (rules ``unknown_placeholder``, ``placeholder_form``, ``unmatched_brace``;
``field`` is ``text_en`` or ``text_id``). An unknown name is 404 (rule ``not_found``), a name
that is not a lowercase slug 422 (rule ``template_name``), a broker that does not acknowledge 503.
Refusals are the inbox's problem+json (``services.inbox.http_api``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web

from services.inbox.book import key_of
from services.inbox.http_api import DEPS, caller, json_text, read_model
from services.inbox.http_bodies import Reason, Texts
from services.inbox.template_store import TemplateStore
from services.inbox.templates import Lang, problems, render, values_for
from shared.events import InboxChanged
from shared.http_auth import Principal, Role
from shared.http_errors import (
    Forbidden,
    NotFound,
    ValidationFailed,
    said_error,
)
from shared.messages import negotiate, said
from shared.template_events import TEMPLATE_NAME_PATTERN, ReplyTemplateSaved

TEMPLATES: web.AppKey[TemplateStore] = web.AppKey("inbox_templates", TemplateStore)

EDITING_ROLES = frozenset({Role.OPERATOR, Role.APPROVER, Role.ADMIN})
_NAME = re.compile(TEMPLATE_NAME_PATTERN)
_BODY_LIMIT = 64 * 1024


def template_json(template: ReplyTemplateSaved) -> dict[str, Any]:
    return {
        "name": template.name,
        "text_en": template.text_en,
        "text_id": template.text_id,
        "by": template.by,
        "at": template.occurred_at.isoformat(),
    }


def _editor(request: web.Request) -> Principal:
    principal = caller(request)
    if principal.role not in EDITING_ROLES:
        raise Forbidden(said("role.templates", person=principal.person, role=principal.role.value))
    return principal


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not _NAME.match(name):
        raise ValidationFailed(said("template_name"), field="name")
    return name


def _existing(request: web.Request, name: str) -> ReplyTemplateSaved:
    template = request.app[TEMPLATES].book.get(name)
    if template is None:
        raise NotFound(said("not_found.template", name=name), field="name")
    return template


async def list_templates(request: web.Request) -> web.Response:
    caller(request)
    templates = [template_json(t) for t in request.app[TEMPLATES].book.all()]
    return web.json_response({"templates": templates}, dumps=json_text)


def _comment(request: web.Request, principal: Principal, key: str) -> InboxChanged:
    entry = request.app[DEPS].keeper.book.get(key)
    if entry is None or not principal.may_target(entry.channel):
        # A comment on another channel is as absent as one that does not exist.
        raise NotFound(said("not_found.comment", key=key), field="comment")
    return entry


async def show_template(request: web.Request) -> web.Response:
    principal = caller(request)
    template = _existing(request, _name(request))
    body = template_json(template)
    key = request.query.get("comment")
    if key is not None:
        asked = request.query.get("lang") or negotiate(request.headers.get("Accept-Language"))
        if asked not in ("en", "id"):
            raise ValidationFailed(said("enum.lang"), field="lang")
        lang = cast(Lang, asked)
        entry = _comment(request, principal, key)
        text = template.text_en if lang == "en" else template.text_id
        body["rendered"] = render(text, values_for(entry.comment.author.name, lang))
        body["lang"], body["comment"] = lang, key_of(entry)
    return web.json_response(body, dumps=json_text)


async def put_template(request: web.Request) -> web.Response:
    principal = _editor(request)
    name = _name(request)
    texts: Texts = await read_model(request, Texts)
    faults = [
        said_error(None, field, problem.said)
        for field, text in (("text_en", texts.text_en), ("text_id", texts.text_id))
        for problem in problems(text)
    ]
    if faults:
        raise ValidationFailed(faults)
    saved = await request.app[TEMPLATES].save(name, texts.text_en, texts.text_id, principal.person)
    return web.json_response(template_json(saved), dumps=json_text)


async def delete_template(request: web.Request) -> web.Response:
    principal = _editor(request)
    name = _name(request)
    template = _existing(request, name)
    removal: Reason = await read_model(request, Reason, optional=True)
    await request.app[TEMPLATES].delete(name, principal.person, removal.reason)
    return web.json_response({**template_json(template), "deleted_by": principal.person}, dumps=json_text)


def add_template_routes(store: TemplateStore) -> Callable[[web.Application], None]:
    """What adds the routes above to the inbox's app (``create_app``'s ``ahead_of_entries``:
    ``/v1/inbox/{key}`` would otherwise take ``/v1/inbox/templates``)."""

    def add(app: web.Application) -> None:
        app[TEMPLATES] = store
        app.router.add_get("/v1/inbox/templates", list_templates)
        app.router.add_get("/v1/inbox/templates/{name}", show_template)
        app.router.add_put("/v1/inbox/templates/{name}", put_template)
        app.router.add_delete("/v1/inbox/templates/{name}", delete_template)

    return add

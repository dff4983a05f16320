"""The console's routes that act: an operator's decision on a settled job, a dead letter's
replay, and pause/resume forwarded to ingest. Each is refused (403) outside the key's channel
scope (``services.console.access``); a decision is applied at most once across consoles
(``services.console.claims``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import aiohttp
from aiohttp import web
from aiokafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field

from services.console.access import in_scope
from services.console.actions import (
    ActionRefused,
    ActionRequest,
    operator_decision,
    reconciles_first,
)
from services.console.claims import ActionInProgress, DecidedFirst
from services.console.http_deps import (
    DEPS,
    MAX_BODY,
    MAX_PAGE,
    READ_BACK_S,
    Deps,
    json_body,
    operator,
)
from services.console.replay import NotReplayable, reappend
from services.console.view import dead_json, job_json
from shared.events import (
    DeadLettered,
    JobPlanned,
    OperatorAction,
    OperatorDecided,
)
from shared.field_errors import parse_model
from shared.http_auth import Principal
from shared.http_errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    parse_json_body,
)
from shared.http_probes import json_response
from shared.kafka import KafkaUnavailable, send_event
from shared.messages import Lang, negotiate, said
from shared.operator_decisions import STATUS_OF_ACTION

log = logging.getLogger("warta.console.http")


# ---- acting ------------------------------------------------------------------------------------
class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: OperatorAction
    reason: str = Field(min_length=1, max_length=900)
    url: str | None = Field(default=None, max_length=2048)


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="replayed from the dead letters", min_length=1, max_length=900)


def _job_in_scope(deps: Deps, who: Principal, job_id: str) -> JobPlanned:
    job = deps.view.jobs.get(job_id)
    if job is None:
        raise NotFound(said("not_found.job", id=job_id))
    in_scope(who, job.channel, "job", job_id)
    return job


async def _act(deps: Deps, who: Principal, job_id: str, req: ActionRequest, lang: Lang) -> web.Response:
    job = _job_in_scope(deps, who, job_id)
    now = deps.clock()
    try:
        decision = operator_decision(job, req, now, uuid.uuid4().hex)
    except ActionRefused as exc:
        if exc.rule == "bad_request":
            raise ValidationFailed(exc.said, channel=job.channel) from exc
        raise Conflict(exc.said, channel=job.channel) from exc
    # No await between judging the job and claiming it: one of two concurrent actions wins.
    try:
        claim = deps.claims.claim(job, req.action.value, req.by, now)
    except ActionInProgress as exc:
        raise Conflict(exc.said, channel=job.channel) from exc
    topic = deps.topics.publish_outcomes
    try:
        landed = await send_event(deps.producer, topic, job.content_id, decision, timeout=10)
    except KafkaUnavailable as exc:
        deps.claims.release(claim)
        raise ServiceUnavailable(said("unavailable.not_done"), retry_after=5) from exc
    try:
        await _came_first(deps, decision, topic, landed.partition, landed.offset)
    except DecidedFirst as exc:
        raise Conflict(exc.said, channel=job.channel) from exc
    body: dict[str, object] = {
        "job_id": job_id,
        "action": req.action.value,
        "status": STATUS_OF_ACTION[decision.action].value,
        "accepted": True,
    }
    if reconciles_first(job, req.action):
        body["note"] = said("note.reconciles_first", platform=job.platform).in_(lang)
    return json_response(body, 202)


async def _came_first(deps: Deps, decision: OperatorDecided, topic: str, partition: int, offset: int) -> None:
    """Raise ``DecidedFirst`` when another console's decision on the same record precedes ours."""
    if deps.read_past is None:
        return
    try:
        await asyncio.wait_for(deps.read_past(topic, partition, offset), READ_BACK_S)
    except TimeoutError as exc:
        unread = said("unavailable.read_back", topic=topic, seconds=round(READ_BACK_S))
        raise ServiceUnavailable(unread, retry_after=5) from exc
    first = deps.order.first(decision)
    if first is not None and first.event_id != decision.event_id:
        raise DecidedFirst(first)


async def act(request: web.Request) -> web.Response:
    who = operator(request)
    body = parse_model(ActionBody, await json_body(request))
    req = ActionRequest(body.action, who.person, body.reason, body.url)
    lang = negotiate(request.headers.get("Accept-Language"))
    return await _act(request.app[DEPS], who, request.match_info["job_id"], req, lang)


def _letter_in_scope(deps: Deps, who: Principal, ident: str) -> DeadLettered:
    letter = deps.view.find_dead(ident)
    if letter is None:
        raise NotFound(said("not_found.dead_letter", id=ident))
    in_scope(who, letter.channel, "dead letter", letter.event_id)
    return letter


async def dead_list(request: web.Request) -> web.Response:
    who = operator(request)
    letters, total = request.app[DEPS].view.dead_letters(who.may_target, MAX_PAGE)
    return json_response({"dead": [dead_json(d) for d in letters], "total": total})


async def dead_show(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    letter = _letter_in_scope(deps, who, request.match_info["ident"])
    body = dead_json(letter, raw=True)
    job = deps.view.jobs.get(letter.job_id) if letter.job_id else None
    body["job"] = job_json(job) if job and who.may_target(job.channel) else None
    return json_response(body)


async def dead_replay(request: web.Request) -> web.Response:
    who = operator(request)
    deps = request.app[DEPS]
    letter = _letter_in_scope(deps, who, request.match_info["ident"])
    if letter.consumer is not None:
        return await _reappend(deps, letter, who)
    if letter.job_id is None:
        raise Conflict(said("not_a_job", id=letter.event_id, topic=letter.source_topic))
    raw = await request.read()
    body = parse_model(
        ReplayBody, parse_json_body(raw, request.headers.get("Content-Type"), MAX_BODY) if raw else {}
    )
    # A fresh attempt through the scheduler (the delay service), never straight to the platform
    # topic: the scheduler re-reads the job and honours pauses, withdrawals and gaps.
    req = ActionRequest(OperatorAction.RETRY, who.person, f"replay of {letter.event_id}: {body.reason}")
    return await _act(deps, who, letter.job_id, req, negotiate(request.headers.get("Accept-Language")))


async def _reappend(deps: Deps, letter: DeadLettered, who: Principal) -> web.Response:
    """A record a consumer's handler raised on: written back to where it was read."""
    write = reappend(letter, deps.topics)
    if isinstance(write, NotReplayable):
        raise Conflict(write.said)
    try:
        await asyncio.wait_for(
            deps.producer.send_and_wait(write.topic, write.value, key=write.key, partition=write.partition),
            10,
        )
    except (KafkaError, TimeoutError) as exc:
        raise ServiceUnavailable(said("unavailable.not_replayed"), retry_after=5) from exc
    log.info("%s replayed dead letter %s onto %s", who.person, letter.event_id, write.topic)
    body = {"id": letter.event_id, "replayed_to": write.topic, "partition": write.partition, "accepted": True}
    return json_response(body, 202)


async def _forward(request: web.Request, action: str) -> web.Response:
    """Pause and resume belong to ingest (it validates and writes content.control); pass through."""
    operator(request)
    deps = request.app[DEPS]
    try:
        async with deps.session.post(
            f"{deps.settings.ingest_url}/v1/{action}",
            data=await request.read(),
            headers={
                "Authorization": request.headers.get("Authorization", ""),
                "Content-Type": request.headers.get("Content-Type", "application/json"),
                "Accept-Language": request.headers.get("Accept-Language", ""),
            },
            timeout=aiohttp.ClientTimeout(total=20),
        ) as resp:
            # Ingest's 429 and 503 say when to come back; the caller needs that as much as the body,
            # and a refusal's type and language (problem+json, Content-Language).
            passed = ("Retry-After", "Content-Language", "Vary")
            headers = {h: resp.headers[h] for h in passed if h in resp.headers}
            return web.Response(
                body=await resp.read(), status=resp.status, content_type=resp.content_type, headers=headers
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceUnavailable(said("unavailable.ingest", error=type(exc).__name__), retry_after=5) from exc


async def pause(request: web.Request) -> web.Response:
    return await _forward(request, "pause")


async def resume(request: web.Request) -> web.Response:
    return await _forward(request, "resume")

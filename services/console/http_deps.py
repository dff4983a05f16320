"""What every console handler shares: the dependencies under ``DEPS``, the JSON answer, the
operator behind the key, the request body, and the middleware that turns every refusal into
problem details like ingest's (``shared.http_errors``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from services.console.access import operator_of
from services.console.claims import ActionClaims, DecisionOrder
from services.console.offsets import History, OffsetSnapshot
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView
from services.console.webhooks import DeliveryLog
from shared.channels import ChannelDirectory
from shared.http_auth import KeyStore, Principal
from shared.http_errors import (
    HttpRefusal,
    field_error,
    parse_json_body,
)
from shared.problems import problem_response, refusal_response
from shared.topics import TopicRegistry

log = logging.getLogger("warta.console.http")


MAX_BODY = 64 * 1024
PAGE = 200
MAX_PAGE = 500
# How long an accepted action blocks others on the same job if the plan never shows it applied.
CLAIM_HOLD = timedelta(minutes=2)
# How long an action waits to read its own decision back (claims.py, "Across console processes").
READ_BACK_S = 10.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Deps:
    settings: ConsoleSettings
    topics: TopicRegistry
    channels: ChannelDirectory
    keys: KeyStore
    view: ConsoleView
    history: History
    snapshot: Callable[[], OffsetSnapshot | None]
    producer: AIOKafkaProducer
    registry: CollectorRegistry
    deliveries: DeliveryLog
    session: aiohttp.ClientSession
    caught_up: asyncio.Event
    clock: Callable[[], datetime]
    claims: ActionClaims = field(default_factory=lambda: ActionClaims(CLAIM_HOLD))
    # Across console instances (claims.py): the decisions read back from publish.outcomes, and
    # how to wait until the feeder has read past a record. None: no feeder (tests feeding the
    # view by hand), so only this process's claims guard an action here.
    order: DecisionOrder = field(default_factory=lambda: DecisionOrder(CLAIM_HOLD))
    read_past: Callable[[str, int, int], Awaitable[None]] | None = None


DEPS = web.AppKey("deps", Deps)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (HttpRefusal, web.HTTPException) as exc:
        return refusal_response(request, exc)
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return problem_response(request, 500, [field_error(None, None, "internal")])


def operator(request: web.Request) -> Principal:
    return operator_of(request.app[DEPS].keys, request.headers.get("Authorization"))


async def json_body(request: web.Request) -> object:
    return parse_json_body(await request.read(), request.headers.get("Content-Type"), MAX_BODY)

"""What ingest's handlers share: their dependencies, the caller, writing to Kafka, and accepting
an item once, however many requests ask for it at the same moment.

Accepting once. A request that may race others for the same item (a draft's approval, a reuse
of an Idempotency-Key) first writes a claim keyed by the draft or the key, then waits until its
instance's feeder has read past it (``decide``): the first claim in the log is the decision on
every ingest instance (``services.ingest.decisions``). Only the winner writes the item
(``settle``); a request that agrees with the winner (the same body, the same approver) answers
the winner's item once it is there, and writes it itself only if the winner never did (it
crashed, or the broker refused its write), under the same content id, so the scheduler still
plans it once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from services.ingest.log_ends import LogEnds, read_to_ends
from services.ingest.metrics import IngestMetrics
from services.ingest.readiness import Readiness
from services.ingest.settings import IngestSettings
from services.ingest.status_view import ItemStatus, StatusView
from services.ingest.throttle import KeyThrottle
from services.ingest.writer import EventWriter
from shared.channels import ChannelDirectory
from shared.events import ContentApproved, ControlIssued, Event
from shared.http_auth import KeyStore, Principal, authenticate
from shared.http_errors import ServiceUnavailable, TooManyRequests, field_error, parse_json_body
from shared.http_probes import json_response
from shared.kafka import KafkaUnavailable
from shared.topics import TopicRegistry

log = logging.getLogger("warta.ingest.http")

_ARRIVAL_POLL_S = 0.02


@dataclass
class Deps:
    settings: IngestSettings
    topics: TopicRegistry
    channels: ChannelDirectory
    keys: KeyStore
    view: StatusView
    writer: EventWriter
    caught_up: asyncio.Event
    metrics: IngestMetrics
    throttle: KeyThrottle
    # Listings cost more than the other reads and are what a scraper would loop on: they have
    # a stricter bucket of their own.
    list_throttle: KeyThrottle
    readiness: Readiness
    clock: Callable[[], datetime]
    health: Callable[[], dict[str, object]]
    # Waits until the record at (topic, partition, offset) is in the view (the read_past of the
    # feeder that follows its topic).
    read_past: Callable[[str, int, int], Awaitable[None]]
    # Where each partition of a topic ends now, for reads that must show every instance's answers.
    log_ends: LogEnds
    # Tells the feeder that a record this instance wrote is already in the view (feeder.py).
    applied_here: Callable[[str, int, int], None] = lambda _topic, _partition, _offset: None


DEPS = web.AppKey("deps", Deps)


async def principal_of(request: web.Request, throttle: KeyThrottle | None = None) -> Principal:
    """The caller, once its key's bucket (``throttle``, else the general one) lets it in."""
    deps = request.app[DEPS]
    principal = authenticate(deps.keys, request.headers.get("Authorization"))
    bucket = throttle if throttle is not None else deps.throttle
    wait = bucket.take(principal.person + ":" + principal.role, time.monotonic())
    if wait > 0:
        raise TooManyRequests([field_error(None, None, "rate_limited")], retry_after=wait)
    return principal


async def read_body(request: web.Request) -> tuple[bytes, object]:
    deps = request.app[DEPS]
    raw = await request.read()
    return raw, parse_json_body(raw, request.headers.get("Content-Type"), deps.settings.max_body_bytes)


def unavailable(
    deps: Deps, exc: KafkaUnavailable | KafkaError | TimeoutError, key: str = "unavailable.not_acknowledged"
) -> ServiceUnavailable:
    """503: a write not known to be stored, or (``key``) a read that could not be sure."""
    log.warning("broker unavailable: %r", exc)
    return ServiceUnavailable(
        [field_error(None, None, key)],
        retry_after=deps.settings.retry_after_s,
    )


async def send(
    deps: Deps, topic: str, key: str, event: Event, hold: Hashable | None = None
) -> RecordMetadata:
    try:
        return await deps.writer.write(topic, key, event, hold=hold)
    except KafkaUnavailable as exc:
        raise unavailable(deps, exc) from exc


async def decide(deps: Deps, topic: str, key: str, claim: Event, hold: Hashable | None = None) -> None:
    """Write ``claim`` and return once this instance's view has read it, in the log's order.

    Never applied here: a claim counts where the log puts it (so ``on_late_ack`` skips them too).
    """
    stored = await send(deps, topic, key, claim, hold)
    if not await _read_back(deps, stored):  # stored, but not read back yet: a retry finds the decision
        raise unavailable(deps, TimeoutError(f"{stored.topic}@{stored.offset} not read back in time"))


async def command(deps: Deps, topic: str, key: str, event: ControlIssued) -> None:
    """Write an operator's command and return once this instance's view has read it.

    Never applied here: pause and resume undo each other, so the view folds them in the log's
    order. Applied on the broker's answer instead, a pause could land after another instance's
    resume that the feeder had already read, and show a resumed channel paused again.
    """
    stored = await send(deps, topic, key, event)
    if not await _read_back(deps, stored):  # stored all the same: the view shows it once it reads it
        log.warning("the status view has not read %s@%d yet", stored.topic, stored.offset)


async def _read_back(deps: Deps, stored: RecordMetadata) -> bool:
    """Whether this instance's view reads the record at ``stored`` within the broker's ack time."""
    try:
        async with asyncio.timeout(deps.settings.ack_timeout_s):
            await deps.read_past(stored.topic, stored.partition, stored.offset)
    except TimeoutError:
        return False
    return True


async def read_latest(deps: Deps, topic: str) -> None:
    """Return once this instance's view holds what any instance wrote to ``topic`` before now:
    a read after another instance's answer shows that answer."""
    try:
        async with asyncio.timeout(deps.settings.ack_timeout_s):
            await read_to_ends(deps.read_past, topic, await deps.log_ends.of(topic))
    except (KafkaError, KafkaUnavailable, TimeoutError) as exc:  # the view may be behind
        raise unavailable(deps, exc, "unavailable.not_read") from exc


def accepted(content_id: str, channels: list[str]) -> web.Response:
    return json_response(
        {"content_id": content_id, "jobs": [{"channel": ch, "state": "accepted"} for ch in channels]},
        202,
        {"Location": f"/v1/content/{content_id}"},
    )


async def accept(deps: Deps, event: ContentApproved, hold: Hashable | None = None) -> web.Response:
    """Write the item, answer 202 once the broker has it."""
    stored = await send(deps, deps.topics.content_approved, event.content_id, event, hold)
    deps.view.apply(event)  # read-your-writes: GET right after 202 finds the item
    deps.applied_here(stored.topic, stored.partition, stored.offset)
    return accepted(event.content_id, [v.channel for v in event.variants])


async def settle(
    deps: Deps,
    content_id: str,
    *,
    won: bool,
    make: Callable[[], ContentApproved],
    hold: Hashable | None = None,
) -> web.Response:
    """Answer for the item a decision named: the winner writes it (``make``); a request that
    agrees with the winner answers it once it is there, and writes it only if it never comes."""
    if not won:
        item = await _arrival(deps, content_id, hold)
        if item is not None:
            return accepted(content_id, list(item.channels))
        log.warning("item %s was decided but never written; writing it now", content_id)
    return await accept(deps, make(), hold)


async def _arrival(deps: Deps, content_id: str, hold: Hashable | None) -> ItemStatus | None:
    """The item once the view has it; None if it does not come within the broker's ack time."""
    deadline = asyncio.get_running_loop().time() + deps.settings.ack_timeout_s
    while True:
        item = deps.view.find(content_id)
        if item is not None:
            return item
        held = deps.writer.held(hold) if hold is not None else None
        if (
            held is not None
            and isinstance(held.event, ContentApproved)
            and held.event.content_id == content_id
        ):
            # Our own earlier write answered 503 and may still be stored: wait for the broker.
            try:
                stored = await deps.writer.outcome(held)
            except KafkaUnavailable as exc:
                raise unavailable(deps, exc) from exc
            if not stored:
                return None  # refused: nothing was stored, write anew
            deps.view.apply(held.event)
            continue
        if asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(_ARRIVAL_POLL_S)

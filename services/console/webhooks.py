"""Lifecycle webhooks: scheduled, published, failed, unconfirmed, paused and resumed, and
needs_reauth (a job parked because its account must be connected again, with the platform's
reason) and reconnected (the account works again: the parked jobs are re-planned), and
comment_spike (the inbox saw a post's comments spike far above its channel's usual rate, once
per spike), POSTed to other systems, signed, retried with backoff, and logged.

Signature: the Standard Webhooks scheme (``shared.webhook_signature``; a timestamp in the signed
text stops replays of an old body), so a subscriber verifies with an off-the-shelf library::

    webhook-id: <delivery id>   webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>

Each subscriber has its own consumer group (``<group prefix>-webhooks-<name>``) and commits after
delivering, so a slow or broken subscriber delays only itself, deliveries survive a restart
(at least once: receivers dedupe on ``webhook-id``), and its lag shows in the metrics. A delivery
the console stops in the middle of (waiting to retry) is not settled: nothing from its record on
is committed, so the next start delivers it again.

A delivery is retried on connection errors, timeouts, 429 and 5xx with exponential backoff;
other 4xx answers are the receiver refusing the message, so it is not resent.

A delivery goes to the subscriber's URL and nowhere else (``shared.outbound_http``, the rule
platform calls keep too): a 3xx is a failed delivery (``redirect_refused``, naming the host it
pointed to), never followed, so a partner cannot bounce the signed POST to an internal address;
only the first ``REPLY_LIMIT_BYTES`` of a reply are read, and a longer one is a failed delivery
(``reply_too_large``). Neither is retried: the receiver answered, and answers the same way
again. The URLs themselves need no SSRF guard: they come from the operator's subscribers file,
not from content editors, and may rightly name a system inside the network.

Errors::

    WebhookConfigError   the subscribers file is unreadable or breaks its format
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

import aiohttp
import orjson
import yaml
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.codec import DecodeError, decode
from shared.dead_letters import DeadLetters
from shared.events import (
    CommentSpikeStarted,
    ControlAction,
    ControlIssued,
    Event,
    JobPlanned,
    JobState,
    OperatorDecided,
    OutcomeStatus,
    PublishOutcome,
)
from shared.kafka_connection import KafkaAddress, client_args
from shared.operator_decisions import decided_outcome
from shared.outbound_http import OutboundRefused, exchange
from shared.webhook_signature import secret_key, signed_headers

log = logging.getLogger("warta.console.webhooks")

LifecycleKind = Literal[
    "scheduled",
    "published",
    "failed",
    "unconfirmed",
    "paused",
    "resumed",
    "needs_reauth",
    "reconnected",
    "comment_spike",
]
KINDS: tuple[LifecycleKind, ...] = get_args(LifecycleKind)
# A receiver's answer is a status; its body is read only to keep the connection reusable, and
# an acknowledgement longer than this is not one a webhook receiver sends.
REPLY_LIMIT_BYTES = 64 * 1024


class WebhookConfigError(ValueError):
    """The subscribers file can't be read or breaks its format."""


class Subscriber(BaseModel):
    # Errors show no input: a subscriber's input holds its signing secret, and a start-up error
    # ends up in the journal.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,100}$")
    url: str = Field(pattern=r"^https?://")
    secret: str = Field(min_length=16, repr=False)
    events: tuple[LifecycleKind, ...] = KINDS

    @field_validator("secret")
    @classmethod
    def _usable_secret(cls, secret: str) -> str:
        secret_key(secret)  # a malformed whsec_ secret is refused when the file is read
        return secret


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    subscribers: list[Subscriber] = []


def load_subscribers(path: Path) -> list[Subscriber]:
    """``{"subscribers": [{"name", "url", "secret", "events"?}]}`` in YAML.

    A refusal names the field (or the line and column) and the kind of problem, never a value:
    the file holds the subscribers' signing secrets, and the error is printed where the console
    starts. It is raised ``from None``, as the parser's and pydantic's own errors quote the input.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # no secret is read yet: the cause may be shown
        raise WebhookConfigError(f"cannot read {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise WebhookConfigError(f"cannot read {path}: {_yaml_problem(exc)}") from None
    try:
        subs = _File.model_validate(data).subscribers
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise WebhookConfigError(f"{path}: {where}") from None
    names = [s.name for s in subs]
    if len(set(names)) != len(names):
        raise WebhookConfigError(f"{path}: subscriber names must be unique")
    return subs


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What the parser found and where, without its copy of the offending line: of what it
    quotes, a token's name (``'<scalar>'``) and a single character stay, anything longer taken
    from the file (a tag, a word) is ``…``."""
    problem = getattr(exc, "problem", None) or "not valid YAML"
    problem = _QUOTED.sub(lambda m: m[0] if _HARMLESS.fullmatch(m[0][1:-1]) else "…", str(problem))
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return problem
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


# What PyYAML's messages quote with %r: repr's single or double quotes.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_HARMLESS = re.compile(r"<[a-z ]+>|\\?.")


# ---- which events are lifecycle events (pure) -------------------------------------------------------
@dataclass(frozen=True)
class Lifecycle:
    kind: LifecycleKind
    delivery_id: str
    body: dict[str, object]


_OUTCOME_KIND: dict[OutcomeStatus, LifecycleKind] = {
    OutcomeStatus.PUBLISHED: "published",
    OutcomeStatus.FAILED: "failed",
    OutcomeStatus.DEAD: "failed",
    OutcomeStatus.UNCONFIRMED: "unconfirmed",
    OutcomeStatus.NEEDS_REAUTH: "needs_reauth",
}


def lifecycle_of(event: Event) -> Lifecycle | None:
    kind: LifecycleKind
    data: dict[str, object]
    decision: dict[str, object] | None = None
    if isinstance(event, OperatorDecided):
        decision = {"actor": event.actor, "action": event.action.value, "reason": event.reason}
        event = decided_outcome(event)
    if isinstance(event, JobPlanned) and event.state is JobState.SCHEDULED:
        kind = "scheduled"
        data = {
            "job_id": event.job_id,
            "content_id": event.content_id,
            "channel": event.channel,
            "slot": event.slot,
            "explanation": event.explanation.model_dump(mode="json") if event.explanation else None,
        }
    elif isinstance(event, PublishOutcome) and event.status in _OUTCOME_KIND:
        kind = _OUTCOME_KIND[event.status]
        data = {
            "job_id": event.job_id,
            "content_id": event.content_id,
            "channel": event.channel,
            "platform": event.platform,
            "status": event.status.value,
            "attempt": event.attempt,
            "url": event.url,
            "error": event.error.model_dump(mode="json") if event.error else None,
        }
        if decision is not None:
            data["decision"] = decision  # a person settled the job: who, what, why
    elif isinstance(event, ControlIssued) and event.action is ControlAction.RECONNECTED:
        kind = "reconnected"
        data = {"channels": list(event.channels), "by": event.by, "reason": event.reason}
    elif isinstance(event, ControlIssued) and event.action in (ControlAction.PAUSE, ControlAction.RESUME):
        kind = "paused" if event.action is ControlAction.PAUSE else "resumed"
        data = {"channels": list(event.channels) or "all", "by": event.by, "reason": event.reason}
    elif isinstance(event, CommentSpikeStarted):
        kind = "comment_spike"
        data = event.model_dump(
            mode="json", exclude={"event_id", "event_type", "schema_version", "occurred_at"}
        )
    else:
        return None
    body: dict[str, object] = {
        "id": event.event_id,
        "type": kind,
        "occurred_at": event.occurred_at,
        "data": data,
    }
    return Lifecycle(kind, event.event_id, body)


def backoff(attempt: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait after failed delivery attempt ``attempt`` (1-based)."""
    return float(min(cap_s, base_s * 2 ** (attempt - 1)))


# ---- delivery log ----------------------------------------------------------------------------------
@dataclass
class Delivery:
    subscriber: str
    delivery_id: str
    kind: str
    url: str
    started_at: datetime
    attempts: list[dict[str, object]] = field(default_factory=list)
    state: Literal["pending", "delivered", "retrying", "gave_up"] = "pending"

    def to_json(self) -> dict[str, object]:
        return {
            "subscriber": self.subscriber,
            "delivery_id": self.delivery_id,
            "event": self.kind,
            "url": self.url,
            "started_at": self.started_at,
            "state": self.state,
            "attempts": self.attempts,
        }


class DeliveryLog:
    def __init__(self, size: int) -> None:
        self.entries: deque[Delivery] = deque(maxlen=size)

    def add(self, delivery: Delivery) -> None:
        self.entries.append(delivery)

    def recent(self, limit: int = 200, subscriber: str | None = None) -> list[Delivery]:
        rows = [d for d in self.entries if subscriber is None or d.subscriber == subscriber]
        return rows[-limit:][::-1]


# ---- the dispatcher (adapter) ------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryRule:
    max_attempts: int = 6
    base_s: float = 1.0
    cap_s: float = 60.0
    timeout_s: float = 10.0


class Dispatcher:
    """One consumer per subscriber; delivers in order, commits what is settled of each batch."""

    def __init__(
        self,
        bootstrap: KafkaAddress,
        topics: Sequence[str],
        group_prefix: str,
        subscribers: Sequence[Subscriber],
        log_: DeliveryLog,
        clock: Callable[[], datetime],
        rule: RetryRule,
        offset_reset: str = "latest",
        *,
        dead_topic: str,
    ) -> None:
        self._bootstrap = bootstrap
        self._dead_topic = dead_topic
        self._topics = list(topics)
        self._group_prefix = group_prefix
        self._subscribers = list(subscribers)
        self._log = log_
        self._clock = clock
        self._rule = rule
        self._offset_reset = offset_reset
        self.joined = asyncio.Event()

    def group(self, sub: Subscriber) -> str:
        return f"{self._group_prefix}-webhooks-{sub.name}"

    async def run(self, stop: asyncio.Event) -> None:
        if not self._subscribers:
            self.joined.set()
            return
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(self._serve(sub, session, stop) for sub in self._subscribers))

    async def _serve(self, sub: Subscriber, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            *self._topics,
            **client_args(self._bootstrap),
            group_id=self.group(sub),
            enable_auto_commit=False,
            auto_offset_reset=self._offset_reset,
            isolation_level="read_committed",
        )
        # A record that raises here (not a failed delivery: those are retried, then given up)
        # goes to the dead-letter topic and the subscriber's stream goes on.
        dead_letters = DeadLetters(self._dead_topic, f"webhooks-{sub.name}", bootstrap=self._bootstrap)
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=300, max_records=200)
                if consumer.assignment():
                    self.joined.set()
                records = sorted((r for rs in batch.values() for r in rs), key=lambda r: r.timestamp)
                settled = await self._settle(sub, records, session, stop, dead_letters)
                # A partition a rebalance moved meanwhile is its new owner's to deliver and commit.
                held = {tp: at for tp, at in settled.items() if tp in consumer.assignment()}
                if held:
                    await consumer.commit(held)
        finally:
            await consumer.stop()
            await dead_letters.close()

    async def _settle(
        self,
        sub: Subscriber,
        records: Sequence[ConsumerRecord[bytes, bytes]],
        session: aiohttp.ClientSession,
        stop: asyncio.Event,
        dead_letters: DeadLetters,
    ) -> dict[TopicPartition, int]:
        """Delivers ``records`` in order until the console stops; the offsets to commit: past
        each partition's last record settled (delivered, given up, dead-lettered or no lifecycle
        event), never past one whose delivery the stop left unfinished."""
        settled: dict[TopicPartition, int] = {}
        for record in records:
            if stop.is_set():
                break  # the records left are read again after the restart
            try:
                event = decode(record.value)
            except DecodeError:
                event = None  # poison: its owning consumer dead-letters it
            try:
                life = None if event is None else lifecycle_of(event)
                if (
                    life is not None
                    and life.kind in sub.events
                    and not await self._deliver(sub, life, session, stop)
                ):
                    break  # unsettled: delivered again after the restart, and what follows it too
            except Exception as exc:
                await dead_letters.absorb(record, exc)
            settled[TopicPartition(record.topic, record.partition)] = record.offset + 1
        return settled

    async def _deliver(
        self, sub: Subscriber, life: Lifecycle, session: aiohttp.ClientSession, stop: asyncio.Event
    ) -> bool:
        """Whether the delivery is settled: delivered, or given up (a refusal, or every attempt
        failed); not when the console stops while it waits to try again."""
        body = orjson.dumps(life.body)
        delivery = Delivery(sub.name, life.delivery_id, life.kind, sub.url, self._clock())
        self._log.add(delivery)
        for attempt in range(1, self._rule.max_attempts + 1):
            outcome, retriable = await self._post(sub, life, body, session)
            delivery.attempts.append({"at": self._clock(), **outcome})
            if outcome.get("ok"):
                delivery.state = "delivered"
                return True
            if not retriable or attempt == self._rule.max_attempts:
                break
            delivery.state = "retrying"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff(attempt, self._rule.base_s, self._rule.cap_s))
            if stop.is_set():
                return False
        delivery.state = "gave_up"
        log.warning("webhook %s gave up on %s %s", sub.name, life.kind, life.delivery_id)
        return True

    async def _post(
        self, sub: Subscriber, life: Lifecycle, body: bytes, session: aiohttp.ClientSession
    ) -> tuple[dict[str, object], bool]:
        return await post_once(session, sub, life, body, self._rule.timeout_s, int(time.time()))


async def post_once(
    session: aiohttp.ClientSession,
    sub: Subscriber,
    life: Lifecycle,
    body: bytes,
    timeout_s: float,
    now_s: int,
) -> tuple[dict[str, object], bool]:
    """One signed POST to the subscriber: (the attempt as the delivery log shows it, retriable)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "warta-webhooks/1",
        "X-Warta-Event": life.kind,
        **signed_headers(sub.secret, life.delivery_id, now_s, body),
    }
    try:
        reply = await exchange(
            session,
            "POST",
            sub.url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            max_body=REPLY_LIMIT_BYTES,
        )
    except OutboundRefused as exc:
        reason = f"{exc.message}; webhook deliveries never follow redirects or read long replies"
        return {"ok": False, "status": exc.status, "error": exc.code, "reason": reason}, False
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__}, True
    status = reply.status
    ok = 200 <= status < 300
    return {"ok": ok, "status": status}, (status == 429 or status >= 500)

"""Every inbox write the broker does not acknowledge answers 503 with Retry-After (one rule).

An operator's action, a webhook delivery, a saved answer, a complaint: each counts only once the
broker has acknowledged it (acks=all), and the book, the desk and the store move only after that.
So a write the broker refused or never acknowledged changed nothing the API shows, and the same
call is safe to repeat: 503 ``application/problem+json`` (rule ``broker``) with ``Retry-After``,
never a 500. Meta retries a delivery it was not answered 200 for, so a refused webhook is
delivered again. "In time" is the inbox's ``ack_deadline_s`` (4 s), well inside the 20 s Meta
waits for a webhook's answer (the setting says where that is documented). The producer's own
request timeout is the same, so a record still queued then is dropped rather than sent later;
one already in flight may still land, and a repeat writes the same ids (the entry's next
version, the reply's job id), so it cannot act twice. ``aiokafka``'s own errors (a send refused
before it was queued, a closed producer) mean the same as ``KafkaUnavailable`` (no
acknowledgement in time) and are answered the same way; the detail stays in the log, not in
the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiokafka.errors import KafkaError

from shared.http_errors import ServiceUnavailable
from shared.kafka import KafkaUnavailable
from shared.messages import said

log = logging.getLogger("warta.inbox.http")

RETRY_AFTER_S = 5.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def broker_refusals(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Inside the app's problem middleware, which turns the ``ServiceUnavailable`` into its answer."""
    try:
        return await handler(request)
    except (KafkaUnavailable, KafkaError) as exc:
        log.warning("%s %s: the broker did not acknowledge (%r)", request.method, request.path, exc)
        raise ServiceUnavailable(said("broker"), retry_after=RETRY_AFTER_S) from exc

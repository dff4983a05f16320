"""Posting a reply to its platform and looking for it afterwards (the replier's outbound port).

``send`` answers what the call proved: ``Sent`` (the platform gave the reply's id), ``Refused``
(a 4xx: nothing was posted), ``Throttled`` (429: nothing was posted, wait ``retry_after``) or
``Unclear`` (a timeout, a dropped connection, a 5xx, a success without an id: the reply may be
on the platform). ``lookup`` answers ``(id or None, whether the platform could tell)``. Every
call goes through ``shared.outbound_http.exchange`` (no redirects, capped bodies); tokens are
never logged or put in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from services.inbox.reply_platforms import Call, NotListed, found_reply, lookup_call, posted_id, reply_call
from shared.channels import Channel
from shared.events import ReplyRequested
from shared.outbound_http import OutboundRefused, Reply, exchange

MAX_ANSWER_BYTES = 4 * 1024 * 1024
DEFAULT_RETRY_S = 30.0


@dataclass(frozen=True)
class Sent:
    posted_id: str


@dataclass(frozen=True)
class Refused:
    error: str


@dataclass(frozen=True)
class Throttled:
    error: str
    retry_after: float


@dataclass(frozen=True)
class Unclear:
    error: str


SendResult = Sent | Refused | Throttled | Unclear


class ReplySender:
    def __init__(
        self, session: aiohttp.ClientSession, tokens: dict[str, str], timeout_s: float = 15.0
    ) -> None:
        self._session = session
        self._tokens = tokens  # secret name → token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def _token(self, channel: Channel) -> str:
        return self._tokens.get(channel.secret or "", "")

    async def send(self, channel: Channel, reply: ReplyRequested) -> SendResult:
        where = f"{channel.id} ({channel.platform})"
        try:
            answer = await self._exchange(reply_call(channel, reply, self._token(channel)))
        except OutboundRefused as exc:
            return Unclear(f"{where}: {exc.message}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Unclear(f"{where}: {type(exc).__name__} while posting the reply")
        if 200 <= answer.status < 300:
            found = posted_id(answer.json())
            return Sent(found) if found else Unclear(f"{where} answered {answer.status} without an id")
        if answer.status == 429:
            return Throttled(f"{where} answered 429", _retry_after(answer))
        if 400 <= answer.status < 500:
            return Refused(f"{where} refused the reply: {answer.status} {_message(answer)}")
        return Unclear(f"{where} answered {answer.status}")

    async def lookup(self, channel: Channel, reply: ReplyRequested) -> tuple[str | None, bool]:
        try:
            answer = await self._exchange(lookup_call(channel, reply, self._token(channel)))
        except (OutboundRefused, aiohttp.ClientError, TimeoutError, OSError):
            return None, False
        if answer.status != 200:
            return None, False
        try:
            return found_reply(channel, reply, answer.json()), True
        except NotListed:
            return None, False

    async def _exchange(self, call: Call) -> Reply:
        extra: dict[str, Any] = {}
        if call.json is not None:
            extra["json"] = call.json
        if call.data is not None:
            extra["data"] = call.data
        return await exchange(
            self._session,
            call.method,
            call.url,
            max_body=MAX_ANSWER_BYTES,
            params=call.params,
            headers=call.headers,
            timeout=self._timeout,
            **extra,
        )


def _retry_after(answer: Reply) -> float:
    raw = answer.headers.get("Retry-After")
    try:
        return max(1.0, float(raw)) if raw else DEFAULT_RETRY_S
    except ValueError:
        return DEFAULT_RETRY_S


def _message(answer: Reply) -> str:
    body = answer.json_object()
    error = body.get("error")
    text = error.get("message") if isinstance(error, dict) else error
    return str(text or "")[:300]

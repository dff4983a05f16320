"""Posting a reply to its platform and looking for it afterwards (the replier's outbound port).

``send`` answers what the call proved: ``Sent`` (the platform gave the reply's id), ``Refused``
(a 4xx: nothing was posted), ``Throttled`` (429: nothing was posted, wait ``retry_after``) or
``Unclear`` (a timeout, a dropped connection, a 5xx, a success without an id: the reply may be
on the platform). ``lookup`` answers ``(id or None, whether the platform could tell)``. Every
call goes through ``shared.outbound_http.exchange`` (no redirects, capped bodies); tokens are
never logged or put in an error.

Threads takes two: a reply container (``reply_to_id``), then ``threads_publish`` of it; a failure
of the first posted nothing (``Throttled`` or ``Refused``), only the second posts.

Bluesky takes more than one call: a session (``createSession`` with the app password, kept per
channel and renewed once when the PDS says ``ExpiredToken``), the thread for the reply refs, then
``createRecord`` at the reply's own record key (``reply_bluesky``); its look-up is ``getRecord``
of that key. A failure before ``createRecord`` posted nothing: ``Throttled``, to try again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from services.inbox import reply_bluesky
from services.inbox.errors import NotListed
from services.inbox.reply_platforms import (
    ABSENCE_UNPROVEN,
    Call,
    found_reply,
    lookup_call,
    posted_id,
    reply_call,
    threads_container_call,
    threads_publish_call,
)
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
        self, session: aiohttp.ClientSession, tokens: Mapping[str, str], timeout_s: float = 15.0
    ) -> None:
        self._session = session
        self._tokens = tokens  # secret name → token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._bluesky: dict[str, tuple[str, str]] = {}  # channel → (access JWT, DID)

    def _token(self, channel: Channel) -> str:
        return self._tokens.get(channel.secret or "", "")

    async def send(self, channel: Channel, reply: ReplyRequested) -> SendResult:
        where = f"{channel.id} ({channel.platform})"
        if channel.platform == "bluesky":
            return await self._bluesky_send(channel, reply, where)
        if channel.platform == "threads":
            return await self._threads_send(channel, reply, where)
        return await self._post(where, reply_call(channel, reply, self._token(channel)))

    async def _threads_send(self, channel: Channel, reply: ReplyRequested, where: str) -> SendResult:
        """A reply container, then its publication: only the second call posts anything."""
        token = self._token(channel)
        try:
            container = await self._exchange(threads_container_call(channel, reply, token))
        except (OutboundRefused, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Throttled(f"{where}: {type(exc).__name__} before posting", DEFAULT_RETRY_S)
        creation = posted_id(container.json()) if container.status == 200 else None
        if creation is None:
            return _before_posting(where, container)
        return await self._post(where, threads_publish_call(channel, creation, token))

    async def _post(self, where: str, call: Call) -> SendResult:
        """The call that posts the reply, and what its answer proves."""
        try:
            answer = await self._exchange(call)
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
        if channel.platform == "bluesky":
            return await self._bluesky_lookup(channel, reply)
        try:
            answer = await self._exchange(lookup_call(channel, reply, self._token(channel)))
        except (OutboundRefused, aiohttp.ClientError, TimeoutError, OSError):
            return None, False
        if answer.status != 200:
            return None, False
        try:
            found = found_reply(channel, reply, answer.json())
        except NotListed:
            return None, False
        return found, found is not None or channel.platform not in ABSENCE_UNPROVEN

    # -- Bluesky ------------------------------------------------------------------------------

    async def _bluesky_send(self, channel: Channel, reply: ReplyRequested, where: str) -> SendResult:
        base = (channel.base_url or "").rstrip("/")
        try:
            thread = await self._bluesky_call(
                channel,
                lambda jwt, did: Call(
                    "GET",
                    f"{base}/xrpc/app.bsky.feed.getPostThread",
                    {"Authorization": f"Bearer {jwt}"},
                    params={"uri": reply.post_id, "depth": "1000"},
                ),
            )
        except (OutboundRefused, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Throttled(f"{where}: {type(exc).__name__} before posting", DEFAULT_RETRY_S)
        if thread.status != 200:
            return _before_posting(where, thread)
        try:
            root, parent = reply_bluesky.refs(thread.json(), reply.comment_id)
        except reply_bluesky.NoRefs as exc:
            return Refused(f"{where}: cannot answer: {exc}")
        rkey = reply_bluesky.record_key(reply)
        body = reply_bluesky.record(reply, root, parent)
        try:
            answer = await self._bluesky_call(
                channel,
                lambda jwt, did: Call(
                    "POST",
                    f"{base}/xrpc/com.atproto.repo.createRecord",
                    {"Authorization": f"Bearer {jwt}"},
                    json={"repo": did, "collection": reply_bluesky.COLLECTION, "rkey": rkey, "record": body},
                ),
            )
        except (OutboundRefused, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Unclear(f"{where}: {type(exc).__name__} while posting the reply")
        if answer.status == 200:
            uri = answer.json_object().get("uri")
            return Sent(uri) if isinstance(uri, str) and uri else Unclear(f"{where} answered without a uri")
        if answer.status == 429:
            return Throttled(f"{where} answered 429", _retry_after(answer))
        if 400 <= answer.status < 500:
            return Refused(f"{where} refused the reply: {answer.status} {_message(answer)}")
        return Unclear(f"{where} answered {answer.status}")

    async def _bluesky_lookup(self, channel: Channel, reply: ReplyRequested) -> tuple[str | None, bool]:
        base = (channel.base_url or "").rstrip("/")
        rkey = reply_bluesky.record_key(reply)
        try:
            answer = await self._bluesky_call(
                channel,
                lambda jwt, did: Call(
                    "GET",
                    f"{base}/xrpc/com.atproto.repo.getRecord",
                    {"Authorization": f"Bearer {jwt}"},
                    params={"repo": did, "collection": reply_bluesky.COLLECTION, "rkey": rkey},
                ),
            )
        except (OutboundRefused, aiohttp.ClientError, TimeoutError, OSError):
            return None, False
        body = answer.json_object()
        if answer.status == 200 and isinstance(body.get("uri"), str):
            return str(body["uri"]), True
        return None, answer.status == 400 and body.get("error") == "RecordNotFound"

    async def _bluesky_call(self, channel: Channel, make: Callable[[str, str], Call]) -> Reply:
        """One authenticated call, with the session renewed once if the PDS says it expired."""
        for fresh in (False, True):
            session = None if fresh else self._bluesky.get(channel.id)
            if session is None:
                session = await self._bluesky_login(channel)
                if session is None:
                    raise OutboundRefused("Bluesky refused the session (createSession)", 401)
            answer = await self._exchange(make(*session))
            expired = answer.json_object().get("error") in ("ExpiredToken", "InvalidToken")
            if not (answer.status in (400, 401) and expired) or fresh:
                return answer
            self._bluesky.pop(channel.id, None)
        raise AssertionError("unreachable")

    async def _bluesky_login(self, channel: Channel) -> tuple[str, str] | None:
        base = (channel.base_url or "").rstrip("/")
        answer = await self._exchange(
            Call(
                "POST",
                f"{base}/xrpc/com.atproto.server.createSession",
                {},
                json={"identifier": channel.account, "password": self._token(channel)},
            )
        )
        body = answer.json_object()
        jwt, did = body.get("accessJwt"), body.get("did")
        if answer.status != 200 or not isinstance(jwt, str) or not isinstance(did, str):
            return None
        self._bluesky[channel.id] = (jwt, did)
        return jwt, did

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


def _before_posting(where: str, answer: Reply) -> SendResult:
    """A refusal of a call made before the reply itself: nothing was posted."""
    if answer.status == 429 or answer.status >= 500:
        return Throttled(f"{where} answered {answer.status} before posting", _retry_after(answer))
    return Refused(f"{where} refused a call before posting: {answer.status} {_message(answer)}")


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

"""What every platform fake shares: state and fault injection.

A fake is an aiohttp application built by ``create_app(state)`` in its platform module. It keeps
what was published in ``state.posts`` so tests assert on outcomes, and it obeys the faults
queued in ``state.faults``.

The admin API every fake mounts under ``/_fake`` is in ``sandbox.fake_app``.

Fault modes, applied to the next ``count`` requests whose path contains ``path_contains`` (and
whose method is ``method``, if given):

- ``respond``: wait ``delay_s``; then answer ``status``/``body``/``headers`` without processing
  the request, or, with no ``status``, process it normally (a slow platform).
- ``drop_after_processing``: process the request (the post IS created), wait ``delay_s``, then
  close the connection without answering. With a ``delay_s`` beyond the client's timeout the
  client times out instead. Either way the client cannot know the outcome: exactly-once tests.
- ``answer_after_processing``: process the request (the post IS created), wait ``delay_s``,
  then answer ``status``/``body``/``headers`` instead of the real answer: a gateway's 5xx, a
  proxy's HTML page, an answer that hides the post that was made.
- ``drop``: wait ``delay_s`` and close the connection without processing.
- ``endless``: process the request, then answer ``status`` (default 200) with a body that never
  ends (a hostile or broken platform): clients must stop reading at their cap.

A redirect is an ordinary ``respond`` fault: ``{"status": 307, "headers": {"Location": ...}}``.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import BaseModel, ConfigDict, Field

from shared.clock import utcnow

if TYPE_CHECKING:
    from sandbox.meta_login import MetaLogin
    from sandbox.oauth import TokenAuthority

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp refuses bodies over 1 MiB by default (413), which a real video chunk exceeds (YouTube
# sends 8 MiB); the largest any platform takes is TikTok's last chunk, up to 128 MB (§8).
MAX_BODY_BYTES = 129 * 1024 * 1024


class Fault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path_contains: str
    method: str | None = None
    status: int | None = Field(default=None, ge=100, le=599)
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    delay_s: float = Field(default=0.0, ge=0, le=600)
    count: int = Field(default=1, ge=1)
    mode: Literal["respond", "answer_after_processing", "drop_after_processing", "drop", "endless"] = (
        "respond"
    )

    def matches(self, method: str, path: str) -> bool:
        return self.path_contains in path and (self.method is None or self.method.upper() == method)


@dataclass
class FakeComment:
    """A citizen's comment on a post (``parent_id``: the comment it answers, if any)."""

    id: str
    post_id: str
    author: str
    text: str
    created_at: datetime
    parent_id: str | None = None
    # Hidden by the post's owner (Graph ``is_hidden``, X hidden replies, Threads ``hide_status``,
    # a YouTube comment held for review): the platform's listings then mark or omit it.
    hidden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "post_id": self.post_id,
            "author": self.author,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "parent_id": self.parent_id,
            "hidden": self.hidden,
        }


@dataclass
class FakePost:
    id: str
    account: str
    text: str
    created_at: datetime
    url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # what the platform was sent, by field
    key: str | None = None  # the idempotency key it was created under, if any
    reactions: int = 0
    comments: int = 0
    shares: int = 0
    reach: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "url": self.url,
            "data": self.data,
            "key": self.key,
            "reactions": self.reactions,
            "comments": self.comments,
            "shares": self.shares,
            "reach": self.reach,
        }


@dataclass
class FakeState:
    """A platform's memory. ``tokens`` maps each valid token to the account it belongs to.

    Where the platform's user tokens expire (X, YouTube, TikTok), ``authority`` is its
    authorization server (sandbox/oauth.py): tokens it issued are valid until their expiry or
    revocation; ``token_ttl_s`` shortens their life (``WARTA_SANDBOX_TOKEN_TTL_S``).
    """

    tokens: dict[str, str] = field(default_factory=dict)
    token_ttl_s: float | None = None
    authority: TokenAuthority | None = None
    login: MetaLogin | None = None  # Meta's login server (sandbox/meta_login.py), where it plays one
    clock: Callable[[], datetime] = utcnow
    # Engagement added per hour of a post's age, on top of what /_fake/engagement set.
    engagement_per_hour: tuple[float, float, float] = (0.0, 0.0, 0.0)
    public_base: str | None = None  # overrides the origin seen in requests when building URLs
    prefix: str = ""  # where the app is mounted; the sandbox sets it
    posts: list[FakePost] = field(default_factory=list)
    comments: list[FakeComment] = field(default_factory=list)
    # Called with each new comment: the Meta fakes deliver it to their webhook subscription.
    on_comment: Callable[[FakeComment], Awaitable[None]] | None = None
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    offset: timedelta = timedelta(0)
    # How long a new post stays out of the account's listings: real platforms list late.
    listing_lag: timedelta = timedelta(0)
    # Where the id counter starts (sandbox/ids.py): 0 numbers ids from 1, as tests expect.
    id_base: int = 0
    _issued: int = 0

    def now(self) -> datetime:
        return self.clock() + self.offset

    def next_id(self) -> int:
        """The next number of this platform's one counter, past any an earlier sandbox made."""
        self._issued += 1
        return self.id_base + self._issued

    def listed(self, post: FakePost) -> bool:
        """Whether listings show ``post`` yet (``listing_lag``)."""
        return post.created_at <= self.now() - self.listing_lag

    def account_for(self, token: str | None) -> str | None:
        if not token:
            return None
        if self.authority is not None and self.authority.issued(token):
            return self.authority.account_for(token)  # None once expired or revoked: a 401
        return self.tokens.get(token)

    def accounts(self) -> list[str]:
        return sorted(set(self.tokens.values()))

    def new_comment_id(self, post_id: str) -> str:
        """An id for a new comment on ``post_id``, shaped as the platform shapes them."""
        return f"{post_id}_c{self.next_id()}"

    def comments_on(self, post_id: str) -> list[FakeComment]:
        return [c for c in self.comments if c.post_id == post_id]

    def find_post(self, post_id: str) -> FakePost | None:
        return next((p for p in self.posts if p.id == post_id), None)

    def counts(self, post: FakePost) -> tuple[int, int, int]:
        hours = max(0.0, (self.now() - post.created_at).total_seconds() / 3600)
        r, c, s = self.engagement_per_hour
        return post.reactions + int(r * hours), post.comments + int(c * hours), post.shares + int(s * hours)

    def base(self, request: web.Request) -> str:
        """The public base of this fake, e.g. ``http://127.0.0.1:8090/mastodon``."""
        origin = self.public_base or str(request.url.origin())
        return origin.rstrip("/") + self.prefix

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def reset(self) -> None:
        self.posts.clear()
        self.comments.clear()
        self.faults.clear()
        self.requests.clear()
        self.offset = timedelta(0)
        self.listing_lag = timedelta(0)


@dataclass(frozen=True)
class Window:
    allowed: bool
    limit: int
    remaining: int
    reset_at: datetime


class SlidingWindow:
    """At most ``limit`` events per key in any ``period``; the quotas of every fake."""

    def __init__(self, limit: int, period: timedelta) -> None:
        self.limit = limit
        self.period = period
        self._hits: dict[str, deque[datetime]] = {}

    def peek(self, key: str, now: datetime) -> Window:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        remaining = max(0, self.limit - len(hits))
        reset_at = hits[0] + self.period if hits else now + self.period
        return Window(remaining > 0, self.limit, remaining, reset_at)

    def take(self, key: str, now: datetime) -> Window:
        """Count one event if the window allows it; the answer describes the window after it."""
        window = self.peek(key, now)
        if not window.allowed:
            return window
        self._hits[key].append(now)
        after = self.peek(key, now)
        return Window(True, after.limit, after.remaining, after.reset_at)

    def clear(self) -> None:
        self._hits.clear()


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )


def bearer_token(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def read_fields(request: web.Request) -> dict[str, Any]:
    """A request's parameters from JSON, a form, multipart or the query, merged in that order."""
    fields: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            raise web.HTTPBadRequest(text="malformed JSON") from None
        if isinstance(body, dict):
            fields.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name in form:
            values = form.getall(name)
            fields[name] = values if name.endswith("[]") or len(values) > 1 else values[0]
    return fields


class Reject(Exception):
    """Raised by a handler to answer with ``response`` at once (auth failures, quotas)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def _call(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except Reject as reject:
        return reject.response


def _drop(request: web.Request) -> web.HTTPException:
    if request.transport is not None:
        request.transport.abort()
    # Never reaches the client: the connection is gone. Raising ends the handler cleanly.
    return web.HTTPInternalServerError()


async def _endless(request: web.Request, fault: Fault) -> web.StreamResponse:
    """A body that goes on until the client hangs up."""
    response = web.StreamResponse(status=fault.status or 200, headers=fault.headers)
    response.content_type = "application/json"
    await response.prepare(request)
    chunk = b" " * 65536
    try:
        while True:
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass  # the client stopped reading: what a capped client does
    return response


def _answer(fault: Fault, status: int) -> web.Response:
    """The answer a ``respond`` or ``answer_after_processing`` fault gives instead of the fake's."""
    if isinstance(fault.body, str):
        return web.Response(text=fault.body, status=status, headers=fault.headers)
    return json_reply(fault.body, status, fault.headers)


def fault_middleware(state: FakeState) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if "/_fake/" in request.path:
            return await _call(handler, request)
        state.requests[f"{request.method} {request.path}"] += 1
        fault = state.take_fault(request.method, request.path)
        if fault is None:
            return await _call(handler, request)
        if fault.mode == "drop_after_processing":
            await _call(handler, request)
            await asyncio.sleep(fault.delay_s)
            raise _drop(request)
        if fault.mode == "endless":
            await _call(handler, request)
            return await _endless(request, fault)
        if fault.mode == "answer_after_processing":
            real = await _call(handler, request)
            await asyncio.sleep(fault.delay_s)
            return real if fault.status is None else _answer(fault, fault.status)
        await asyncio.sleep(fault.delay_s)
        if fault.mode == "drop":
            raise _drop(request)
        if fault.status is None:
            return await _call(handler, request)
        return _answer(fault, fault.status)

    return middleware

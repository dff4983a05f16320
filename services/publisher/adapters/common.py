"""Small pieces every adapter shares: the post text, per-account quota memory, and waiting out a
platform's processing (``until_processed``).

Matching a listed post against ours, for reconciliation, is ``lookup.py``.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack

import aiohttp
from opentelemetry.trace import SpanKind

from services.publisher.adapters import moderating, port, replying
from services.publisher.adapters._http import Reply, send
from services.publisher.adapters.lookup import LISTING_SETTLE, Listed, judge_listing
from services.publisher.adapters.media import MediaFetcher, SessionMediaFetcher
from services.publisher.adapters.upload_state import DEFAULT_STATE_DIR, UploadLog
from shared.clock import utcnow
from shared.events import Content
from shared.tracing import span

T = TypeVar("T")


async def until_processed(
    answer: T,
    ask_again: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    interval: float,
    limit: float,
    pending: Callable[[T, float], port.Temporary],
) -> T:
    """The platform's processing status, asked again every ``interval`` seconds until ``done``
    accepts it; past ``limit`` seconds of waiting, ``pending(last answer, seconds waited)`` is
    raised: a ``Temporary`` whose next attempt only asks again, so the publish itself is not
    repeated (a Meta container, a TikTok upload)."""
    waited = 0.0
    while not done(answer):
        if waited >= limit:
            raise pending(answer, waited)
        await asyncio.sleep(interval)
        waited += interval
        answer = await ask_again()
    return answer


def compose_text(content: Content) -> str:
    """The status text for platforms where a post is one text field.

    A poll's question leads when the text doesn't already carry it (Mastodon and X polls have no
    question field: the status text is the question); the link is appended unless the text
    already holds it, so the platform can build its preview card.
    """
    text = (content.text or "").strip()
    parts: list[str] = []
    if content.poll is not None and content.poll.question not in text:
        parts.append(content.poll.question)
    if text:
        parts.append(text)
    if content.link and content.link not in text:
        parts.append(content.link)
    return "\n\n".join(parts)


def account_key(target: port.Target) -> tuple[str, str]:
    return (target.base_url.rstrip("/"), target.account)


class QuotaBook:
    """The last quota each account reported. Process memory only: it is advice, not state."""

    def __init__(self) -> None:
        self._info: dict[tuple[str, str], port.RateLimitInfo] = {}

    def record(self, target: port.Target, info: port.RateLimitInfo | None) -> None:
        if info is not None and (info.limit is not None or info.remaining is not None):
            self._info[account_key(target)] = info

    def get(self, target: port.Target) -> port.RateLimitInfo | None:
        return self._info.get(account_key(target))


# Methods that cannot change anything on the platform (RFC 9110 §9.2.1 "safe methods").
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_create_post(method: str, creates_post: bool) -> bool:
    """Whether a request whose reply was lost may have made a post: the rule exactly-once rests on.

    True unless the method is safe or the caller has said the request creates no post (an upload
    of unattached media, a container nobody can see until it is published). A lost reply or a
    5xx answer of such a request is ``Ambiguous`` (``_http.send``: reconcile, never re-send
    blindly); of any other, a lost reply is ``Temporary`` and a 5xx is the adapter's to judge.
    """
    return creates_post and method.upper() not in SAFE_METHODS


class HttpOptions(TypedDict, total=False):
    """What an adapter's constructor hands on to ``HttpAdapter`` unchanged (see its arguments)."""

    timeout: aiohttp.ClientTimeout | None
    clock: Callable[[], datetime]
    listing_settle: timedelta


class StatefulOptions(HttpOptions, total=False):
    """``HttpOptions`` and where a ``StatefulHttpAdapter`` keeps its notes."""

    state_dir: Path | None


class ChunkedOptions(StatefulOptions, total=False):
    """``StatefulOptions`` and the size of a ``ChunkedUploadAdapter``'s chunks."""

    chunk_size: int


class HttpAdapter(port.Adapter):
    """What every HTTP adapter holds: the session, the media fetcher, a request timeout, a clock,
    the quota each account last reported (``rate_limit`` of the port), and how long the platform
    may take to list a new post (``lookup.LISTING_SETTLE``; tests shorten it).

    ``call`` is the one way an adapter reaches its platform. A subclass says where a path goes
    (``_url``), how a request is authorised (``_headers``), what a reply teaches about the
    account's quota (``_observe``) and what a refused answer means (``classify_error``).
    """

    platform: str

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,
        *,
        timeout: aiohttp.ClientTimeout | None = None,
        clock: Callable[[], datetime] = utcnow,
        listing_settle: timedelta = LISTING_SETTLE,
    ) -> None:
        self._session = session
        self._fetcher = fetcher or SessionMediaFetcher(session)
        self._timeout = timeout
        self._clock = clock
        self._quota = QuotaBook()
        self._listing_settle = listing_settle

    def rate_limit(self, target: port.Target) -> port.RateLimitInfo | None:
        return self._quota.get(target)

    async def call(
        self,
        target: port.Target,
        method: str,
        path: str = "",
        *,
        creates_post: bool = True,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        authorise: bool = True,
        **kw: Any,
    ) -> Reply:
        """One request to the platform: ``path`` under the target (or an absolute ``url`` the
        platform handed out), authorised, never following a redirect, its quota recorded.

        ``creates_post`` defaults to the safe answer: a POST whose reply is lost may have made a
        post (``may_create_post``). Every post-creating call says ``creates_post=True`` anyway;
        a call that can't make a post visible says ``creates_post=False``. Caller ``headers``
        win over ``_headers``; ``authorise=False`` sends none of them (a pre-signed upload URL).
        """
        address = url if url is not None else self._url(target, path)
        # A client span per platform call, named without the path (it may carry ids or tokens).
        with span(
            f"{method} {self.platform}", kind=SpanKind.CLIENT, http_method=method, creates_post=creates_post
        ):
            reply = await send(
                self._session,
                self.platform,
                method,
                address,
                ambiguous_if_lost=may_create_post(method, creates_post),
                timeout=self._timeout,
                headers={**(self._headers(target) if authorise else {}), **(headers or {})},
                **kw,
            )
        self._observe(target, reply)
        return reply

    async def reply(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        return await replying.post_reply(self, target, request)

    async def moderate(self, target: port.Target, request: port.PublishRequest) -> port.Published:
        return await moderating.moderate_comment(self, target, request)

    async def find_reply(self, target: port.Target, request: port.PublishRequest) -> port.Lookup:
        return await replying.find_reply(self, target, request)

    def judge(self, listed: list[Listed], request: port.PublishRequest, *, page_full: bool) -> port.Lookup:
        """``lookup.judge_listing`` at this adapter's clock and listing delay."""
        return judge_listing(
            self.platform,
            listed,
            page_full=page_full,
            request=request,
            now=self._clock(),
            settle=self._listing_settle,
        )

    def _url(self, target: port.Target, path: str) -> str:
        return target.base_url.rstrip("/") + path

    def _headers(self, target: port.Target) -> dict[str, str]:
        return {"Authorization": f"Bearer {target.credentials.token}"}

    def _observe(self, target: port.Target, reply: Reply) -> None:
        """What the reply's headers say of the account's quota; most platforms say nothing."""

    @abstractmethod
    def classify_error(self, target: port.Target, reply: Reply) -> port.AdapterError:
        """The error a refused answer (``reply``, not a success) stands for, by the platform's own
        rules: the one reading of a refusal, for a post, a reply or a moderation call alike
        (``refusals.refusal``). A spent quota it reads is noted against ``target``'s account.
        Each platform words its refusals its own way, mostly not by the HTTP status, so each
        adapter writes its own."""


class StatefulHttpAdapter(HttpAdapter):
    """An HTTP adapter that notes each job's progress on disk (``upload_state.UploadLog``) under
    ``state_dir`` (None: ``var/state``), so a restarted publisher resumes instead of re-sending."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,
        *,
        state_dir: Path | None = None,
        **options: Unpack[HttpOptions],
    ) -> None:
        super().__init__(session, fetcher, **options)
        self.state_dir = state_dir or DEFAULT_STATE_DIR
        self._log = UploadLog(self.state_dir, self.platform)


class ChunkedUploadAdapter(StatefulHttpAdapter):
    """A video sent in resumable chunks (YouTube, TikTok): many requests, minutes for a large
    file, so the worker allows a publish ``upload_timeout_s`` (``long_uploads``). ``chunk_size``
    is the platform's ``default_chunk`` unless given, and a positive multiple of its ``chunk_unit``.
    """

    long_uploads = True
    default_chunk: int
    chunk_unit = 1

    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetcher: MediaFetcher | None = None,
        *,
        chunk_size: int | None = None,
        **options: Unpack[StatefulOptions],
    ) -> None:
        chunk = self.default_chunk if chunk_size is None else chunk_size
        if chunk <= 0 or chunk % self.chunk_unit:
            raise ValueError(f"chunk_size must be a positive multiple of {self.chunk_unit}")
        super().__init__(session, fetcher, **options)
        self._chunk = chunk

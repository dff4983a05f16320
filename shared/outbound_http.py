"""One outbound HTTP exchange that never follows a redirect and never reads an unbounded reply.

Every request Warta sends to a host outside it (a platform's API, a partner's lifecycle webhook)
goes through ``exchange``, because the host's answer is input from outside:

- redirects are never followed. Following one would re-send the request, its body, its
  ``Authorization`` header or its signature included, to wherever ``Location`` points: an
  internal address too (the classic SSRF through a redirect). A 3xx that is not in the caller's
  ``expect`` (statuses its protocol uses as answers, such as YouTube's ``308 Resume
  Incomplete``) raises ``RedirectRefused``, which names the status and only the host it pointed
  to: a ``Location`` may carry a token in its path or query.
- the reply body is read up to ``max_body`` bytes, declared or streamed; past it the exchange
  raises ``ReplyTooLarge`` instead of filling memory.

Transport failures (``aiohttp.ClientError``, ``TimeoutError``, ``OSError``) pass through as they
are: whether a lost reply may hide an effect is the caller's rule, not this module's.

Errors::

    OutboundRefused        the answer broke one of the two limits above
    ├── RedirectRefused    a 3xx the caller did not expect; ``status``, ``host``
    └── ReplyTooLarge      a body longer than ``max_body``; ``status``, ``limit``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from multidict import CIMultiDictProxy

_READ_CHUNK = 64 * 1024


class OutboundRefused(Exception):
    """The other host's answer broke a limit every outbound call keeps."""

    code = "outbound_refused"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RedirectRefused(OutboundRefused):
    """The answer was a redirect (a 3xx the caller did not list in ``expect``); not followed."""

    code = "redirect_refused"

    def __init__(self, status: int, location: str) -> None:
        self.host = urlsplit(location).hostname or "an unnamed location"
        super().__init__(f"HTTP {status}, a redirect to {self.host}", status)


class ReplyTooLarge(OutboundRefused):
    """The reply body passed ``limit`` bytes; the rest was not read."""

    code = "reply_too_large"

    def __init__(self, status: int, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the reply is larger than {limit} bytes; it was not read", status)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it isn't JSON (an HTML error page from a proxy)."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        return data if isinstance(data, dict) else {}


async def exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    max_body: int,
    expect: frozenset[int] = frozenset(),
    **kwargs: Any,
) -> Reply:
    """Send one request without following redirects and read its reply up to ``max_body`` bytes.

    ``kwargs`` go to ``session.request`` (``data``, ``json``, ``headers``, ``timeout``…); a
    ``timeout`` bounds the reading of the body too.
    """
    kwargs["allow_redirects"] = False
    async with session.request(method, url, **kwargs) as resp:
        if 300 <= resp.status < 400 and resp.status not in expect:
            raise RedirectRefused(resp.status, resp.headers.get("Location", ""))
        return Reply(resp.status, resp.headers, await _read_capped(resp, max_body))


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or ``ReplyTooLarge`` as soon as it passes ``limit`` bytes (declared or streamed).

    Leaving the response unread closes its connection rather than returning it to the pool, so
    the rest of an endless body is never read."""
    declared = resp.content_length
    if declared is None or declared <= limit:
        body = bytearray()
        while chunk := await resp.content.read(_READ_CHUNK):
            body += chunk
            if len(body) > limit:
                break
        else:
            return bytes(body)
    raise ReplyTooLarge(resp.status, limit)

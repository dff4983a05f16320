"""One HTTP exchange with a platform, with transport failures translated into port errors.

The line that matters for exactly-once publishing is *whether the request may have left*:

- the connection could not be opened (refused, DNS, TLS, connect timeout): nothing was sent,
  so the call is ``Temporary`` and a retry is safe;
- the connection broke or timed out after the request was written: the platform may have acted
  on it. For a call that creates a post that is ``Ambiguous`` (reconcile, never re-send
  blindly); for a read or a harmless upload it is merely ``Temporary``.

Error messages name the platform and the failure, never the URL: Telegram puts the bot token
in the URL path.

Two limits hold for every platform call, because a platform's answer is input from outside:

- redirects are never followed. A 3xx from an API is not part of any platform's contract here
  (YouTube's ``308 Resume Incomplete`` is a status, not a redirect, and its caller asks for it
  with ``expect``); following one would re-send a signed or authorised request, body and
  ``Authorization`` header included, to wherever the ``Location`` points — an internal address
  too. It is a ``Permanent`` error that names the status and the host it pointed to.
- a reply body is read up to ``MAX_REPLY_BYTES`` (or the caller's ``max_body``); beyond that the
  call fails with code ``reply_too_large`` instead of filling memory. The largest reply a
  platform sends us is a listing page of 100 posts, well under 1 MiB.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from services.publisher.adapters.port import Ambiguous, Permanent, Temporary

MAX_REPLY_BYTES = 4 * 1024 * 1024
_READ_CHUNK = 64 * 1024


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


async def send(
    session: aiohttp.ClientSession,
    platform: str,
    method: str,
    url: str,
    *,
    ambiguous_if_lost: bool,
    timeout: aiohttp.ClientTimeout | None = None,
    expect: frozenset[int] = frozenset(),
    max_body: int = MAX_REPLY_BYTES,
    **kwargs: Any,
) -> Reply:
    """Send one request, never following a redirect, and read its body up to ``max_body``.

    ``ambiguous_if_lost`` marks calls whose lost reply may hide a success that a re-send would
    duplicate (creating a post); uploads of unattached media and reads are not such calls.
    ``expect`` lists 3xx statuses that are answers in the platform's protocol, not redirects.
    """
    if timeout is not None:
        kwargs["timeout"] = timeout
    kwargs["allow_redirects"] = False
    try:
        async with session.request(method, url, **kwargs) as resp:
            if 300 <= resp.status < 400 and resp.status not in expect:
                raise _redirect_refused(platform, resp.status, resp.headers.get("Location", ""))
            body = await _read_capped(resp, platform, max_body, ambiguous_if_lost)
            return Reply(resp.status, resp.headers, body)
    except aiohttp.InvalidURL:
        # from None: the URL may hold a token (Telegram), and InvalidURL's text is the URL.
        raise Permanent(f"{platform}: the channel's base URL is invalid", code="invalid_url") from None
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        raise Temporary(
            f"{platform}: could not connect ({type(exc).__name__})", code="connect_failed"
        ) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        what = f"{platform}: connection lost or timed out after sending ({type(exc).__name__})"
        if ambiguous_if_lost:
            raise Ambiguous(what, code="ambiguous") from exc
        raise Temporary(what, code="read_failed") from exc


def _redirect_refused(platform: str, status: int, location: str) -> Permanent:
    # Only the host is named: a Location may carry a token in its path or query.
    host = urlsplit(location).hostname or "an unnamed location"
    return Permanent(
        f"{platform}: the platform answered HTTP {status}, a redirect to {host}; "
        "platform calls never follow redirects",
        code="redirect_refused",
        http_status=status,
    )


async def _read_capped(
    resp: aiohttp.ClientResponse, platform: str, limit: int, ambiguous_if_lost: bool
) -> bytes:
    """The body, or an error as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = resp.content_length
    if declared is None or declared <= limit:
        body = bytearray()
        while chunk := await resp.content.read(_READ_CHUNK):
            body += chunk
            if len(body) > limit:
                break
        else:
            return bytes(body)
    what = f"{platform}: the reply is larger than {limit} bytes; it was not read"
    if ambiguous_if_lost:
        # The platform answered, so it acted on the request: what it did is unknown to us.
        raise Ambiguous(what, code="reply_too_large", http_status=resp.status)
    raise Temporary(what, code="reply_too_large", http_status=resp.status)


def retry_after_header(headers: Mapping[str, str], now: datetime) -> float | None:
    """RFC 9110 ``Retry-After``: delay-seconds or an HTTP-date."""
    raw = headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)

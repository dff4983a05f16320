"""One HTTP exchange with a platform, with transport failures translated into port errors.

The line that matters for exactly-once publishing is *whether the request may have left*:

- the connection could not be opened (refused, DNS, TLS, connect timeout): nothing was sent,
  so the call is ``Temporary`` and a retry is safe;
- the connection broke or timed out after the request was written, or the platform (or a proxy
  before it) answered 5xx: it may have acted on the request, and the answer does not say. For a
  call that creates a post that is ``Ambiguous`` (reconcile, never re-send blindly), decided
  here for every adapter; for a read, a token call or a harmless upload a lost reply is merely
  ``Temporary``, and a 5xx reaches the adapter, whose own error table makes it ``Temporary``.
  A 5xx is no proof that nothing happened: a gateway or proxy answers one when the platform
  behind it is slow, and the platform may still carry the request out.

Error messages name the platform and the failure, never the URL: Telegram puts the bot token
in the URL path.

Two limits hold for every platform call, because a platform's answer is input from outside;
both are ``shared.outbound_http``'s, the rule every outbound call of Warta keeps:

- redirects are never followed (a signed or authorised request would be re-sent to wherever
  ``Location`` points, an internal address too). A 3xx outside ``expect`` is a ``Permanent``
  error with code ``redirect_refused`` that names the status and the host it pointed to.
  YouTube's ``308 Resume Incomplete`` is a status, not a redirect; its caller asks for it with
  ``expect``.
- a reply body is read up to ``MAX_REPLY_BYTES`` (or the caller's ``max_body``); beyond that the
  call fails with code ``reply_too_large`` instead of filling memory. The largest reply a
  platform sends us is a listing page of 100 posts, well under 1 MiB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from services.publisher.adapters import port
from shared.outbound_http import RedirectRefused, Reply, ReplyTooLarge, exchange

__all__ = ["MAX_REPLY_BYTES", "Reply", "parse_int", "parse_iso", "send"]

MAX_REPLY_BYTES = 4 * 1024 * 1024


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
    duplicate (creating a post); uploads of unattached media and reads are not such calls. To
    such a call a 5xx says no more than silence: ``Ambiguous``, raised here, not returned.
    ``expect`` lists 3xx statuses that are answers in the platform's protocol, not redirects.
    """
    if timeout is not None:
        kwargs["timeout"] = timeout
    reply = await _exchange(session, platform, method, url, ambiguous_if_lost, max_body, expect, kwargs)
    if ambiguous_if_lost and reply.status >= 500:
        raise port.Ambiguous(
            f"{platform}: answered {reply.status} after the request went out; it may have acted on it",
            code="server_error",
            http_status=reply.status,
        )
    return reply


async def _exchange(
    session: aiohttp.ClientSession,
    platform: str,
    method: str,
    url: str,
    ambiguous_if_lost: bool,
    max_body: int,
    expect: frozenset[int],
    kwargs: dict[str, Any],
) -> Reply:
    """``exchange`` with its failures translated into port errors (the module docstring)."""
    try:
        return await exchange(session, method, url, max_body=max_body, expect=expect, **kwargs)
    except RedirectRefused as exc:
        raise port.Permanent(
            f"{platform}: the platform answered {exc.message}; platform calls never follow redirects",
            code=exc.code,
            http_status=exc.status,
        ) from None
    except ReplyTooLarge as exc:
        what = f"{platform}: {exc.message}"
        if ambiguous_if_lost:
            # The platform answered, so it acted on the request: what it did is unknown to us.
            raise port.Ambiguous(what, code=exc.code, http_status=exc.status) from None
        raise port.Temporary(what, code=exc.code, http_status=exc.status) from None
    except aiohttp.InvalidURL:
        # from None: the URL may hold a token (Telegram), and InvalidURL's text is the URL.
        raise port.Permanent(f"{platform}: the channel's base URL is invalid", code="invalid_url") from None
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        raise port.Temporary(
            f"{platform}: could not connect ({type(exc).__name__})", code="connect_failed"
        ) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        what = f"{platform}: connection lost or timed out after sending ({type(exc).__name__})"
        if ambiguous_if_lost:
            raise port.Ambiguous(what, code="ambiguous") from exc
        raise port.Temporary(what, code="read_failed") from exc


def parse_iso(value: object) -> datetime | None:
    """An ISO 8601 time from a header or a JSON value; anything else (a number, null) is None."""
    if not isinstance(value, str) or not value:
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

"""The platforms' OAuth 2.0 token endpoints (RFC 6749 §4.1.3 and §6), in each one's dialect.

- X (``/2/oauth2/token``): ``client_id`` in the form; a confidential client also sends HTTP
  Basic ``client_id:client_secret``. A refresh answers a new ``refresh_token``.
- Google (``oauth2.googleapis.com/token``): ``client_id`` and ``client_secret`` in the form; a
  refresh answers no new refresh token (the old one stays).
- TikTok (``/v2/oauth/token/``): ``client_key`` instead of ``client_id``; answers
  ``refresh_expires_in`` and a rotated ``refresh_token``.
- LinkedIn (``www.linkedin.com/oauth/v2/accessToken``): ``client_id`` and ``client_secret`` in
  the form, no PKCE; a refresh answers the same refresh token and ``refresh_token_expires_in``.
- Threads (``graph.threads.net/refresh_access_token``): ``GET`` with
  ``grant_type=th_refresh_token`` and the long-lived token itself, which is its own refresh
  token: the answer's token replaces both.
- Mastodon (``<instance>/oauth/token``): the client of the app registered on that instance;
  the token has no ``expires_in`` and no refresh token (it lives until revoked).

A 4xx other than 429 is final (``invalid_grant``: expired, revoked or rotated away; X says
``invalid_request``): ``RefreshRejected``. 5xx, 429 and a failed connection are
``RefreshTemporary``, with the wait the endpoint's ``Retry-After`` asked for (RFC 9110 §10.2.3,
read by ``platform_throttles.retry_after``). Messages carry the platform's ``error`` code and
description, never a token.

A success is read as someone else's JSON (``json_values``): a lifetime must be a number of
seconds within ``MAX_LIFETIME_S``, or the grant cannot be scheduled and is ``GrantUnreadable``
(temporary, carrying the rotated refresh token it named, which is by then the only live one);
a ``scope`` that is neither a string nor a list of strings, or an odd refresh lifetime, costs
only that field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from shared import platform_throttles
from shared.credentials import GrantUnreadable, RefreshRejected, RefreshTemporary
from shared.json_values import as_int

# No platform grants a token or a refresh token for more than a year (LinkedIn's refresh token);
# ten leave room and keep ``now + life`` a datetime, which an answer of 1e300 seconds is not.
MAX_LIFETIME_S = 10 * 366 * 24 * 3600


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: float | None
    refresh_token: str | None
    refresh_expires_in: float | None
    scope: str
    account_id: str | None  # TikTok's open_id, where the answer names the account


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str | None = None


def _client_fields(platform: str, app: AppCredentials) -> tuple[dict[str, str], dict[str, str]]:
    if platform == "tiktok":
        return {"client_key": app.client_id, "client_secret": app.client_secret or ""}, {}
    if platform == "x":
        basic = (
            {"Authorization": aiohttp.encode_basic_auth(app.client_id, app.client_secret)}
            if app.client_secret
            else {}
        )
        return {"client_id": app.client_id}, basic
    fields = {"client_id": app.client_id}
    if app.client_secret:
        fields["client_secret"] = app.client_secret
    return fields, {}


def _seconds(value: object) -> float | None:
    """A lifetime in seconds: a JSON number or a string of digits within [0, MAX_LIFETIME_S]."""
    seconds = value if isinstance(value, float) else as_int(value)
    return float(seconds) if seconds is not None and 0 <= seconds <= MAX_LIFETIME_S else None


def _scope(value: object) -> str:
    """RFC 6749 §3.3 says a space-delimited string; some endpoints answer a list of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(value)
    return ""


def _grant(body: dict[str, Any]) -> Grant:
    token = body.get("access_token")
    refresh = body.get("refresh_token")
    refresh_token = refresh if isinstance(refresh, str) and refresh else None
    if not isinstance(token, str) or not token:
        raise GrantUnreadable("the token endpoint answered without an access_token", refresh_token)
    raw_expiry = body.get("expires_in")
    expires_in = _seconds(raw_expiry)
    if raw_expiry is not None and expires_in is None:
        raise GrantUnreadable("the token endpoint answered an expires_in that is no lifetime", refresh_token)
    open_id = body.get("open_id")
    return Grant(
        access_token=token,
        expires_in=expires_in,
        refresh_token=refresh_token,
        # TikTok says refresh_expires_in, LinkedIn refresh_token_expires_in.
        refresh_expires_in=_seconds(body.get("refresh_expires_in"))
        or _seconds(body.get("refresh_token_expires_in")),
        scope=_scope(body.get("scope", "")),
        account_id=open_id if isinstance(open_id, str) else None,
    )


def answer(status: int, body: Any, retry_after: float | None = None) -> Grant:
    """What a token endpoint's answer means: a grant, or the error it is (module docstring).
    ``retry_after``: the seconds its ``Retry-After`` header asked for, carried by a temporary error."""
    if not isinstance(body, dict):
        body = {}
    error = body.get("error")
    if status == 429 or status >= 500:
        raise RefreshTemporary(f"token endpoint answered {status} {error or ''}".strip(), retry_after)
    if status >= 400 or error:
        code = error if isinstance(error, str) else f"http_{status}"
        description = str(body.get("error_description", ""))[:300]
        raise RefreshRejected(f"{code}: {description}" if description else code)
    return _grant(body)


def refresh_form(
    platform: str, app: AppCredentials, refresh_token: str
) -> tuple[dict[str, str], dict[str, str]]:
    fields, headers = _client_fields(platform, app)
    return {**fields, "grant_type": "refresh_token", "refresh_token": refresh_token}, headers


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    form: dict[str, str],
    headers: dict[str, str],
    method: str = "POST",
) -> Grant:
    try:
        query, body = (form, None) if method == "GET" else (None, form)
        async with session.request(method, url, headers=headers, params=query, data=body) as response:
            raw = await response.read()
            status = response.status
            # An HTTP-date is the server's wall clock, so it is read against ours, here.
            wait = platform_throttles.retry_after(response.headers, datetime.now(UTC))
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise RefreshTemporary(f"token endpoint unreachable: {type(exc).__name__}") from None
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        body = {}
    return answer(status, body, wait)


async def refresh(
    session: aiohttp.ClientSession, platform: str, url: str, app: AppCredentials, refresh_token: str
) -> Grant:
    if platform == "threads":
        query = {"grant_type": "th_refresh_token", "access_token": refresh_token}
        grant = await _post(session, url, query, {}, method="GET")
        return replace(grant, refresh_token=grant.access_token)
    form, headers = refresh_form(platform, app, refresh_token)
    return await _post(session, url, form, headers)


async def exchange_code(
    session: aiohttp.ClientSession,
    platform: str,
    url: str,
    app: AppCredentials,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
) -> Grant:
    """``code_verifier`` None: a platform without PKCE (LinkedIn's web flow)."""
    fields, headers = _client_fields(platform, app)
    form = {**fields, "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return await _post(session, url, form, headers)

"""Who may use the console and see what, and the headers every console response carries.

Every ``/v1`` route needs an operator's or an admin's key, and a key's channel scope (ingest's
``Principal.may_target``, the one rule for it) holds on every route that reads or acts on a job
or a channel: lists are filtered, and naming or acting on another channel's job is refused.

Every response — pages, the API, errors, aiohttp's own 404 — carries ``SECURITY_HEADERS``. The
dashboard loads one script and one stylesheet from ``/static`` and sets styles only through the
CSSOM, so its policy can forbid inline script and style outright.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import web

from shared.http_auth import ALL_CHANNELS, KeyStore, Principal, Role, authenticate
from shared.http_errors import Forbidden

OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
# The dashboard's own files only: no inline script or style, no plug-ins, no framing (clickjacking
# on the action buttons), and requests to this origin alone (the API it calls).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, errors and aiohttp's own 404/405 included (a signal, not a middleware)."""
    response.headers.update(SECURITY_HEADERS)


def operator_of(keys: KeyStore, authorization: str | None) -> Principal:
    """The caller, if an operator or an admin: 401 without a known key, 403 for other roles."""
    principal = authenticate(keys, authorization)
    if principal.role not in OPERATOR_ROLES:
        raise Forbidden(
            f"{principal.person} holds the {principal.role.value} role; the console is for operators and admins",
            rule="role",
        )
    return principal


def in_scope(principal: Principal, channel: str | None, what: str) -> None:
    """Refuse (403) what concerns a channel outside the key's scope; no channel = every channel."""
    if channel is None and ALL_CHANNELS in principal.channels:
        return
    if channel is not None and principal.may_target(channel):
        return
    where = f"channel {channel}" if channel else "every channel"
    raise Forbidden(
        f"{principal.person}'s key may not see or act on {what}: it concerns {where}",
        channel=channel,
        rule="channel_forbidden",
    )

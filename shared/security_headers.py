"""The headers every response of a page-serving service carries (the console's dashboard, the
inbox's page): pages, the API, errors and aiohttp's own 404 alike.

The pages load their scripts and stylesheets from ``/static`` and set styles only through the
CSSOM, so the policy can forbid inline script and style outright.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from aiohttp import web

# The page's own files only: no inline script or style, no plug-ins, no framing (clickjacking
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

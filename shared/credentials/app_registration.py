"""Registering Warta as an app on a server that is its own authorization server (Mastodon).

A Mastodon instance has no developer portal: a client registers itself with ``POST /api/v1/apps``
(client_name, redirect_uris, scopes, website) and gets a ``client_id`` and ``client_secret`` for
that instance only (docs.joinmastodon.org/methods/apps/#create). The redirect URI must be the
one the authorization request will name, so registration happens inside each connect, once the
callback's address is known.
"""

from __future__ import annotations

import aiohttp

from shared.credentials import CredentialError
from shared.credentials.token_client import AppCredentials

CLIENT_NAME = "Warta"
WEBSITE = "https://github.com/warta"


class RegistrationError(CredentialError):
    """The server refused to register the app, or did not answer; the message says which."""


async def register_app(
    session: aiohttp.ClientSession, base_url: str, redirect_uri: str, scopes: str
) -> AppCredentials:
    url = base_url.rstrip("/") + "/api/v1/apps"
    form = {"client_name": CLIENT_NAME, "redirect_uris": redirect_uri, "scopes": scopes, "website": WEBSITE}
    try:
        async with session.post(url, data=form) as resp:
            body = await resp.json(content_type=None)
            status = resp.status
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise RegistrationError(f"could not register the app at {url}: {type(exc).__name__}") from None
    if status != 200 or not isinstance(body, dict) or not body.get("client_id"):
        error = body.get("error") if isinstance(body, dict) else None
        raise RegistrationError(f"{url} refused the app registration ({status}): {error or 'no client_id'}")
    return AppCredentials(str(body["client_id"]), str(body.get("client_secret") or "") or None)

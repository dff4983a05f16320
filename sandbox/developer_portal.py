"""The "generate a token" button of each platform's developer portal, for the sandbox's demo
accounts, so a client outside Warta can call the sandbox as it would call the platform::

    POST /_fake/mint   {"account": NAME}  → a working credential of that account, in the form
                       the platform hands it out; 404 for an account the sandbox does not know

This module serves the platforms whose credential is not an OAuth grant:

- Telegram: the bot's token, as BotFather shows it ("API Token"). A bot has one token; only
  BotFather's /revoke makes another, which would cut off the running system, so the sandbox
  shows the one it has.
- Bluesky: a new app password (``com.atproto.server.createAppPassword``'s ``AppPassword``),
  with the handle that logs in with it (``identifier`` of ``createSession``).
- WordPress: a new application password (``POST /wp/v2/users/me/application-passwords``
  answers ``password``, 24 letters and digits), with the user it belongs to.
- WhatsApp: a new system user's token (Business settings → System users → Generate token).
- the webhook: the receiver's signing secret. The receiver holds one; Warta generated it.

The OAuth platforms mint through their authorization server (``sandbox.oauth``) and Meta's
through their logins (``sandbox.meta_login``), each behind the same route.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.base import FakeState, json_reply, read_fields

MINT_PATH = "/_fake/mint"
_ALNUM = string.ascii_letters + string.digits


def _held(state: FakeState, account: str) -> str:
    """The credential the platform already holds for the account (one per account)."""
    return next(token for token, owner in sorted(state.tokens.items()) if owner == account)


def _new(state: FakeState, account: str, token: str) -> str:
    state.tokens[token] = account  # accepted from now on, beside the account's other ones
    return token


def _telegram(state: FakeState, account: str) -> dict[str, Any]:
    return {"token": _held(state, account)}


def _bluesky(state: FakeState, account: str) -> dict[str, Any]:
    from sandbox.bluesky import BlueskyState  # here: the Bluesky fake imports this module

    # An app password's shape: four groups of four lowercase letters and digits.
    alphabet = string.ascii_lowercase + string.digits
    password = "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
    return {
        "identifier": BlueskyState.handle(account),
        "password": _new(state, account, password),
        "name": f"sandbox-{secrets.token_hex(3)}",
        "createdAt": state.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "privileged": False,
    }


def _wordpress(state: FakeState, account: str) -> dict[str, Any]:
    password = "".join(secrets.choice(_ALNUM) for _ in range(24))
    return {
        "username": account,
        "uuid": str(uuid.uuid4()),
        "name": "sandbox",
        "created": state.now().replace(tzinfo=None).isoformat(timespec="seconds"),
        "password": _new(state, account, password),
    }


def _whatsapp(state: FakeState, account: str) -> dict[str, Any]:
    token = _new(state, account, "EAAG" + secrets.token_urlsafe(48))
    return {"access_token": token, "token_type": "bearer"}


def _webhook(state: FakeState, account: str) -> dict[str, Any]:
    return {"secret": _held(state, account)}


GRANTS: dict[str, Callable[[FakeState, str], dict[str, Any]]] = {
    "telegram": _telegram,
    "bluesky": _bluesky,
    "wordpress": _wordpress,
    "whatsapp": _whatsapp,
    "webhook": _webhook,
}


def mint_handler(
    accounts: Callable[[], list[str]], grant: Callable[[str], dict[str, Any]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``POST /_fake/mint``: ``grant(account)`` for an account the sandbox knows; 404 otherwise."""

    async def mint(request: web.Request) -> web.Response:
        account = str((await read_fields(request)).get("account", ""))
        if account not in accounts():
            return json_reply({"error": f"no sandbox account {account!r}"}, 404)
        return json_reply(grant(account))

    return mint


def add_mint_route(app: web.Application, state: FakeState, platform: str) -> None:
    """The portal's button for a fake whose credential is static; before any catch-all route."""
    make = GRANTS[platform]
    app.router.add_post(MINT_PATH, mint_handler(state.accounts, lambda account: make(state, account)))

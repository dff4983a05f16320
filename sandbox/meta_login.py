"""Meta's logins, for the Facebook, Instagram and Threads fakes: the dialog, the code exchange,
the long-lived token, and what Warta reads from it, in Meta's shapes and errors.

Facebook Login (facebook-login/guides/advanced/manual-flow, .../oidc-token for PKCE), under the
fake's ``/{version}``::

    GET /dialog/oauth          client_id, redirect_uri, state, scope, [code_challenge S256],
                               [login_hint=NAME] → 302 redirect_uri?code=…&state=…
    GET /oauth/access_token    code exchange (client_id, client_secret, redirect_uri, code,
                               [code_verifier]) → a short-lived user token (``expires_in``);
                               grant_type=fb_exchange_token → the long-lived one (about 60 days)
    GET /me/accounts           the user's Pages with their Page tokens (which do not expire),
                               ``tasks`` and ``instagram_business_account``
    GET /me/permissions        each permission the user granted or declined

Threads (threads/get-started/get-access-tokens-and-permissions, .../long-lived-tokens),
unversioned as on threads.net and graph.threads.net::

    GET  /oauth/authorize       as the dialog (no PKCE) → 302 with code and state
    POST /oauth/access_token    form: client_id, client_secret, code, grant_type, redirect_uri
                                → {access_token (1 hour), user_id}
    GET  /access_token          grant_type=th_exchange_token → 60 days
    GET  /refresh_access_token  grant_type=th_refresh_token → 60 days again

Like the test users of Meta's app dashboard, ``POST /_fake/test-user`` {"account", "page_id"?,
"ig_user_id"?, "threads_user_id"?} gives a sandbox account the Page (with its Instagram
account) or the Threads profile its channel names; by default each has the demo ones. As the
Graph API Explorer's "generate access token", ``POST /_fake/mint`` {"account"} answers a Page
token of the account's Page as ``/me/accounts`` lists it (Facebook, Instagram), or a 60-day
Threads token with its ``user_id``, granted what publishing needs.

A code is good once and for ten minutes; each refusal is Graph's error envelope with the
subcode Meta documents (36007 expired, 36008 redirect_uri, 36009 used). Tokens issued are put in
the fake's ``tokens``, so its API accepts them like any other; a short-lived token stops working
at its expiry (``expired``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sandbox.base import FakeState, json_reply, read_fields
from sandbox.developer_portal import MINT_PATH, mint_handler
from sandbox.graph import graph_error
from shared.capabilities import capabilities_for

CODE_LIFE = timedelta(minutes=10)
SHORT_LIFE_S = 3600  # Facebook and Threads: about an hour
LONG_LIFE_S = 5_183_944  # the documented sample's expires_in: 60 days
# The app's access to the user's data ends 90 days after the user last used it, whatever the
# token (facebook-login/auth-vs-data#data-access-expiration).
DATA_ACCESS_LIFE = timedelta(days=90)
DEMO_PAGE = "100000000000001"
DEMO_IG = "17841400000000001"
DEMO_THREADS_USER = "27000000000000001"  # the demo channel's threads_user_id
EXPLORER_APP = "sandbox-explorer"  # the app a minted token is issued to, as the explorer's is


@dataclass
class _Code:
    account: str
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass
class MetaLogin:
    """One login server's memory, kept on its fake's state (``FakeState.login``)."""

    platform: str
    codes: dict[str, _Code | None] = field(default_factory=dict)  # None: used
    expires: dict[str, datetime] = field(default_factory=dict)  # user token → its expiry
    granted: dict[str, tuple[str, ...]] = field(default_factory=dict)  # user token → permissions
    # account → permissions the user declined in the dialog (to play a missing permission)
    declined: dict[str, set[str]] = field(default_factory=dict)
    # account → its Pages ({"id", "name", "instagram_business_account"?}); default: the demo Page
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Page token → its Page, when issued, and the app (client id) each token was issued to: what
    # ``/me`` and ``debug_token`` answer (sandbox/meta_token_info.py)
    page_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_issued: dict[str, datetime] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict)
    # account → its Threads user id, which the code exchange answers; default: the demo profile's
    threads_users: dict[str, str] = field(default_factory=dict)
    exchanges: int = 0

    def pages_of(self, account: str) -> list[dict[str, Any]]:
        default = [
            {"id": DEMO_PAGE, "name": f"{account} page", "instagram_business_account": {"id": DEMO_IG}}
        ]
        return self.pages.get(account, default)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _oauth_error(message: str, subcode: int | None = None) -> web.Response:
    return graph_error(message, 100, subcode=subcode)


def _expired_token() -> web.Response:
    return graph_error("Error validating access token: Session has expired.", 190, subcode=463)


class _Login:
    def __init__(self, state: FakeState, login: MetaLogin) -> None:
        self.s = state
        self.login = login

    def _issue(self, account: str, life_s: int, scopes: tuple[str, ...]) -> dict[str, Any]:
        token = ("THAA" if self.login.platform == "threads" else "EAAB") + secrets.token_urlsafe(32)
        self.s.tokens[token] = account
        ttl = self.s.token_ttl_s if self.s.token_ttl_s is not None else life_s
        self.login.expires[token] = self.s.now() + timedelta(seconds=ttl)
        self.login.granted[token] = scopes
        return {"access_token": token, "token_type": "bearer", "expires_in": int(ttl)}

    def _user(self, token: str) -> str | None:
        """The account of a live user token this login issued; None when expired or unknown."""
        expiry = self.login.expires.get(token)
        account = self.s.tokens.get(token)
        if expiry is None or account is None:
            return None
        if self.s.now() >= expiry:
            del self.s.tokens[token]  # an expired user token stops working everywhere
            return None
        return account

    async def dialog(self, request: web.Request) -> web.Response:
        query = request.query
        redirect = query.get("redirect_uri", "")
        if not query.get("client_id") or not redirect:
            return _oauth_error("Invalid App ID / redirect_uri: both are required")
        account = query.get("login_hint") or (self.s.accounts() or [""])[0]
        if account not in self.s.accounts():
            params = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "state": query.get("state", ""),
            }
            raise web.HTTPFound(f"{redirect}?{urlencode(params)}")
        challenge = query.get("code_challenge", "") if query.get("code_challenge_method") == "S256" else ""
        scopes = tuple(s for s in query.get("scope", "").replace(" ", ",").split(",") if s)
        scopes = tuple(s for s in scopes if s not in self.login.declined.get(account, set()))
        code = secrets.token_urlsafe(24)
        self.login.codes[code] = _Code(
            account, query["client_id"], redirect, challenge, scopes, self.s.now() + CODE_LIFE
        )
        params = {"code": code, "state": query.get("state", "")}
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(f"{redirect}{sep}{urlencode(params)}")

    def _redeem(self, fields: dict[str, Any]) -> _Code | web.Response:
        code = str(fields.get("code", ""))
        if not fields.get("client_secret"):
            return _oauth_error("Missing client_secret parameter.")
        if code not in self.login.codes:
            return _oauth_error("Invalid verification code format.")
        pending = self.login.codes[code]
        if pending is None:
            return _oauth_error("This authorization code has been used.", 36009)
        self.login.codes[code] = None  # good once, whatever happens next
        if self.s.now() >= pending.expires_at:
            return _oauth_error("This authorization code has expired.", 36007)
        if pending.redirect_uri != fields.get("redirect_uri") or pending.client_id != fields.get("client_id"):
            return _oauth_error(
                "Error validating verification code. Please make sure your redirect_uri is identical"
                " to the one you used in the OAuth dialog request",
                36008,
            )
        if pending.challenge and _s256(str(fields.get("code_verifier", ""))) != pending.challenge:
            return _oauth_error("Invalid code verifier.")
        return pending

    async def access_token(self, request: web.Request) -> web.Response:
        """Facebook's ``GET /oauth/access_token``: the code exchange, or fb_exchange_token."""
        fields = dict(request.query)
        if fields.get("grant_type") == "fb_exchange_token":
            if not fields.get("client_id") or not fields.get("client_secret"):
                return _oauth_error("Missing client_id or client_secret parameter.")
            short = str(fields.get("fb_exchange_token", ""))
            account = self._user(short)
            if account is None:
                return _expired_token()
            self.login.exchanges += 1
            body = self._issue(account, LONG_LIFE_S, self.login.granted[short])
        else:
            pending = self._redeem(fields)
            if isinstance(pending, web.Response):
                return pending
            body = self._issue(pending.account, SHORT_LIFE_S, pending.scopes)
        self.login.apps[body["access_token"]] = str(fields.get("client_id", ""))
        return json_reply(body)

    def _bearer(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.lower().startswith("bearer ") else request.query.get("access_token", "")

    async def accounts(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        account = self._user(token)
        if account is None:
            return _expired_token()
        if "pages_show_list" not in self.login.granted.get(token, ()):
            return json_reply({"data": []})  # without pages_show_list Graph lists no Page
        granted, app = self.login.granted.get(token, ()), self.login.apps.get(token, "")
        data = [self._page_entry(account, page, granted, app) for page in self.login.pages_of(account)]
        return json_reply({"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}})

    def _page_entry(
        self, account: str, page: dict[str, Any], granted: tuple[str, ...], app: str
    ) -> dict[str, Any]:
        """A new Page token (no expiry) as ``/me/accounts`` lists it: the Page and its token."""
        page_token = "EAAP" + secrets.token_urlsafe(32)
        self.s.tokens[page_token] = account
        self.login.page_tokens[page_token] = page
        self.login.page_issued[page_token] = self.s.now()
        self.login.granted[page_token] = granted
        self.login.apps[page_token] = app
        entry = {**page, "access_token": page_token, "tasks": ["CREATE_CONTENT", "MANAGE", "MODERATE"]}
        if self.login.platform != "instagram":
            entry.pop("instagram_business_account", None)
        return entry

    def mint(self, account: str) -> dict[str, Any]:
        """The explorer's "generate access token" (``/_fake/mint``): a Page token of the account's
        Page, or a 60-day Threads token, granted every permission publishing needs."""
        needs = capabilities_for(self.login.platform).credential
        granted = needs.needs if needs is not None else ()
        if self.login.platform == "threads":
            user_id = self.login.threads_users.get(account, DEMO_THREADS_USER)
            return {**self._issue(account, LONG_LIFE_S, granted), "user_id": user_id}
        page = self.login.pages_of(account)[0]
        return {**self._page_entry(account, page, granted, EXPLORER_APP), "token_type": "bearer"}

    async def permissions(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        account = self._user(token)
        if account is None:
            return _expired_token()
        granted = [{"permission": p, "status": "granted"} for p in self.login.granted.get(token, ())]
        declined = [
            {"permission": p, "status": "declined"} for p in sorted(self.login.declined.get(account, ()))
        ]
        return json_reply({"data": granted + declined})

    async def test_user(self, request: web.Request) -> web.Response:
        fields = await read_fields(request)
        account = str(fields.get("account", ""))
        if account not in self.s.accounts():
            return json_reply({"error": f"no sandbox account {account!r}"}, 404)
        if self.login.platform == "threads":
            self.login.threads_users[account] = str(fields.get("threads_user_id") or DEMO_THREADS_USER)
            return json_reply({"account": account, "threads_user_id": self.login.threads_users[account]})
        page = {
            "id": str(fields.get("page_id") or DEMO_PAGE),
            "name": f"{account} page",
            "instagram_business_account": {"id": str(fields.get("ig_user_id") or DEMO_IG)},
        }
        self.login.pages[account] = [page]
        return json_reply({"account": account, "pages": [page]})

    # ---- Threads -------------------------------------------------------------------------
    async def threads_token(self, request: web.Request) -> web.Response:
        fields = await read_fields(request)
        if fields.get("grant_type") != "authorization_code":
            return _oauth_error("Unsupported grant_type.")
        pending = self._redeem(fields)
        if isinstance(pending, web.Response):
            return pending
        body = self._issue(pending.account, SHORT_LIFE_S, pending.scopes)
        user_id = self.login.threads_users.get(pending.account, DEMO_THREADS_USER)
        return json_reply({"access_token": body["access_token"], "user_id": user_id})

    async def threads_exchange(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "th_exchange_token" or not query.get("client_secret"):
            return _oauth_error("grant_type=th_exchange_token and client_secret are required.")
        short = query.get("access_token", "")
        account = self._user(short)
        if account is None:
            return _expired_token()
        self.login.exchanges += 1
        return json_reply(self._issue(account, LONG_LIFE_S, self.login.granted[short]))

    async def threads_refresh(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "th_refresh_token":
            return _oauth_error("grant_type=th_refresh_token is required.")
        token = query.get("access_token", "")
        account = self._user(token)
        if account is None:
            return _expired_token()
        return json_reply(self._issue(account, LONG_LIFE_S, self.login.granted[token]))


def add_facebook_login(app: web.Application, state: FakeState, version: str, platform: str) -> MetaLogin:
    """Facebook Login's routes under ``/{version}``; call before the fake's Graph routes."""
    login = MetaLogin(platform)
    api = _Login(state, login)
    app.router.add_get(f"/{version}/dialog/oauth", api.dialog)
    app.router.add_get(f"/{version}/oauth/access_token", api.access_token)
    app.router.add_get(f"/{version}/me/accounts", api.accounts)
    app.router.add_get(f"/{version}/me/permissions", api.permissions)
    app.router.add_post("/_fake/test-user", api.test_user)
    app.router.add_post(MINT_PATH, mint_handler(state.accounts, api.mint))
    return login


def add_threads_login(app: web.Application, state: FakeState) -> MetaLogin:
    """Threads' login routes, unversioned as threads.net and graph.threads.net serve them."""
    login = MetaLogin("threads")
    api = _Login(state, login)
    app.router.add_get("/oauth/authorize", api.dialog)
    app.router.add_post("/oauth/access_token", api.threads_token)
    app.router.add_get("/access_token", api.threads_exchange)
    app.router.add_get("/refresh_access_token", api.threads_refresh)
    app.router.add_post("/_fake/test-user", api.test_user)
    app.router.add_post(MINT_PATH, mint_handler(state.accounts, api.mint))
    return login

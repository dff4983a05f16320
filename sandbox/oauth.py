"""A platform's authorization server, for the fakes of platforms with short-lived user tokens.

Routes (relative to the fake's mount, paths from ``shared.capabilities`` ``TokenRules``)::

    GET  <authorize_path>  response_type=code, client_id, redirect_uri, state, scope,
                           code_challenge (S256 only), [login_hint=NAME: who consents]
                           → 302 to redirect_uri?code=…&state=…  (the sandbox consents at once)
    POST <token_path>      grant_type=authorization_code (code, redirect_uri, code_verifier)
                           or refresh_token (refresh_token); form-encoded, as each platform takes it
    POST <revoke_path>     token=…: ends that grant, as a user disconnecting the app does
    POST /_fake/revoke     {"account": NAME}: every grant of the account ends (a password change)
    GET  /_fake/tokens     how many refreshes and grants each account has had (no token values)
    POST /_fake/mint       {"account": NAME}: a fresh grant, as the developer portal's button

Lifetimes default to the platform's documented ones; ``access_ttl_s`` (the sandbox's
``WARTA_SANDBOX_TOKEN_TTL_S``) shortens every access token. Rotation where the platform rotates
(X, TikTok): a refresh answers a new refresh token and the one sent stops working. An expired,
revoked or rotated-away refresh token answers the platform's own refusal (``invalid_grant``;
X says ``invalid_request``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sandbox.base import FakeState, json_reply, read_fields
from sandbox.developer_portal import MINT_PATH, mint_handler
from shared.capabilities import TokenRules, capabilities_for

REVOKE_PATHS = {
    "x": "/2/oauth2/revoke",
    "youtube": "/revoke",
    "tiktok": "/v2/oauth/revoke/",
    "linkedin": "/oauth/v2/revoke",
    "mastodon": "/oauth/revoke",
}
SCOPES = {
    "linkedin": "openid profile w_member_social",
    "mastodon": "read write:statuses write:media",
    "x": "tweet.read tweet.write users.read media.write offline.access",
    "youtube": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly",
    "tiktok": "user.info.basic,video.publish,video.upload",
}
CODE_LIFE = timedelta(minutes=10)


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


@dataclass
class _Access:
    account: str
    grant: str
    expires_at: datetime | None


@dataclass
class _Refresh:
    account: str
    grant: str
    client_id: str
    expires_at: datetime | None


@dataclass
class _Code:
    account: str
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    expires_at: datetime


@dataclass
class TokenAuthority:
    platform: str
    clock: Callable[[], datetime]
    access_ttl_s: float | None = None
    access: dict[str, _Access] = field(default_factory=dict)
    refresh: dict[str, _Refresh] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    dead_grants: set[str] = field(default_factory=set)
    refreshes: Counter[str] = field(default_factory=Counter)
    grants: Counter[str] = field(default_factory=Counter)
    scopes: dict[str, str] = field(default_factory=dict)  # grant → what the user consented to
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)  # registered apps by client_id

    @property
    def rules(self) -> TokenRules:
        rules = capabilities_for(self.platform).tokens
        assert rules is not None, self.platform
        return rules

    def access_life(self) -> float | None:
        """Seconds an access token lives; None where the platform's never expire (Mastodon),
        which the sandbox's shortened TTL leaves alone too."""
        if self.rules.access_s is None:
            return None
        return self.access_ttl_s if self.access_ttl_s is not None else float(self.rules.access_s)

    # ---- what the platform's API asks ------------------------------------------------------
    def issued(self, token: str) -> bool:
        return token in self.access

    def account_for(self, token: str) -> str | None:
        """The account of a live access token; None once it expired or was revoked."""
        issued = self.access.get(token)
        if issued is None:
            return None
        expired = issued.expires_at is not None and self.clock() >= issued.expires_at
        if issued.grant in self.dead_grants or expired:
            return None
        return issued.account

    # ---- issuing ---------------------------------------------------------------------------
    def _token(self, kind: str) -> str:
        raw = secrets.token_urlsafe(32)
        if self.platform == "tiktok":
            return f"{'act' if kind == 'access' else 'rft'}.{raw}!1234.va"
        if self.platform == "youtube":
            return f"ya29.{raw}" if kind == "access" else f"1//0{raw}"
        if self.platform == "linkedin":
            return f"AQ{'V' if kind == 'access' else 'X'}{raw}"
        return raw

    def _answer(self, account: str, grant: str, refresh_token: str | None) -> dict[str, Any]:
        now = self.clock()
        life = self.access_life()
        access = self._token("access")
        self.access[access] = _Access(account, grant, now + timedelta(seconds=life) if life else None)
        body: dict[str, Any] = {
            "access_token": access,
            "scope": self.scopes.get(grant, SCOPES[self.platform]),
        }
        if life is not None:
            body["expires_in"] = int(life)
        else:
            body["created_at"] = int(now.timestamp())  # Mastodon's Token entity: no expiry
        body["token_type"] = "bearer" if self.platform == "x" else "Bearer"
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        held = self.refresh.get(refresh_token or "")
        left = int((held.expires_at - now).total_seconds()) if held and held.expires_at else None
        if self.platform == "tiktok":
            body["open_id"] = f"open-{account}"
            if left is not None:
                body["refresh_expires_in"] = left
        if self.platform == "linkedin" and left is not None:
            body["refresh_token_expires_in"] = left  # what is left of the first consent's year
        return body

    def _new_refresh(self, account: str, grant: str, client_id: str, expires_at: datetime | None) -> str:
        token = self._token("refresh")
        self.refresh[token] = _Refresh(account, grant, client_id, expires_at)
        return token

    def mint(
        self, account: str, client_id: str = "sandbox-client", scope: str | None = None
    ) -> dict[str, Any]:
        """A fresh grant, as if the user had just consented (``warta sandbox token``) to
        ``scope`` (default: everything Warta asks for)."""
        grant = secrets.token_hex(8)
        self.grants[account] += 1
        self.scopes[grant] = scope or SCOPES[self.platform]
        if self.rules.access_s is None:
            return self._answer(account, grant, None)  # a token that never expires needs no refresh
        life = self.rules.refresh_s
        expires = self.clock() + timedelta(seconds=life) if life is not None else None
        return self._answer(account, grant, self._new_refresh(account, grant, client_id, expires))

    def register_app(self, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Mastodon's ``POST /api/v1/apps``: an app of this instance, with its client id and
        secret (docs.joinmastodon.org/methods/apps/#create, the Application entity)."""
        name = str(fields.get("client_name", ""))
        uris = fields.get("redirect_uris", "")
        uris = uris.split() if isinstance(uris, str) else [str(u) for u in uris]
        if not name:
            return 422, {"error": "Validation failed: Application name can't be blank"}
        if not uris or not all(u.startswith(("http://", "https://", "urn:")) for u in uris):
            return 422, {"error": "Validation failed: Redirect URI must be an absolute URI."}
        client_id, client_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        app: dict[str, Any] = {
            "id": str(100_000 + len(self.apps)),
            "name": name,
            "website": fields.get("website") or None,
            "scopes": str(fields.get("scopes", "read")).split(),
            "redirect_uri": "\n".join(uris),
            "redirect_uris": uris,
            "client_id": client_id,
            "client_secret": client_secret,
            "client_secret_expires_at": 0,
        }
        self.apps[client_id] = app
        return 200, app

    def known_client(self, client_id: str) -> bool:
        """Where apps register per server, only a registered one may ask (Doorkeeper's
        ``invalid_client``); elsewhere the portal registered it and any id is taken."""
        return not self.rules.registers_app or client_id in self.apps

    def authorize(self, query: dict[str, str], account: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(
            account,
            query["client_id"],
            query["redirect_uri"],
            query.get("code_challenge", ""),
            query.get("scope", ""),
            self.clock() + CODE_LIFE,
        )
        return code

    # ---- the token endpoint ----------------------------------------------------------------
    def _refusal(self, description: str) -> tuple[int, dict[str, Any]]:
        if self.platform == "x":
            return 400, {"error": "invalid_request", "error_description": description}
        body: dict[str, Any] = {"error": "invalid_grant", "error_description": description}
        if self.platform == "tiktok":
            body["log_id"] = secrets.token_hex(10)
        return 400, body

    def token(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        client_id = str(form.get("client_key") if self.platform == "tiktok" else form.get("client_id") or "")
        if not client_id:
            return 400, {"error": "invalid_request", "error_description": "client_id is missing"}
        if not self.known_client(client_id):
            return 401, {
                "error": "invalid_client",
                "error_description": "Client authentication failed due to unknown client.",
            }
        kind = form.get("grant_type")
        if kind == "authorization_code":
            return self._exchange(form, client_id)
        if kind == "refresh_token":
            return self._refresh(str(form.get("refresh_token", "")), client_id)
        return 400, {"error": "unsupported_grant_type", "error_description": f"grant_type {kind!r}"}

    def _exchange(self, form: dict[str, Any], client_id: str) -> tuple[int, dict[str, Any]]:
        pending = self.codes.pop(str(form.get("code", "")), None)  # a code is good for one use
        if pending is None or self.clock() >= pending.expires_at:
            return self._refusal("Invalid or expired authorization code.")
        if pending.client_id != client_id or pending.redirect_uri != form.get("redirect_uri"):
            return self._refusal("redirect_uri or client_id does not match the authorization request.")
        if pending.challenge and s256(str(form.get("code_verifier", ""))) != pending.challenge:
            return self._refusal("code_verifier does not match the code_challenge.")
        answer = self.mint(pending.account, client_id, pending.scope or None)
        return 200, answer

    def _refresh(self, token: str, client_id: str) -> tuple[int, dict[str, Any]]:
        held = self.refresh.get(token)
        if held is None or held.grant in self.dead_grants:
            return self._refusal("Token has been expired or revoked.")
        if held.client_id != client_id:
            return self._refusal("The refresh token was issued to another client.")
        if held.expires_at is not None and self.clock() >= held.expires_at:
            return self._refusal("Refresh token is expired.")
        self.refreshes[held.account] += 1
        if not self.rules.rotates:
            # Google answers no refresh token; LinkedIn answers the same one again.
            again = token if self.platform == "linkedin" else None
            return 200, self._answer(held.account, held.grant, again)
        # Rotation: the token sent stops working the moment its successor exists.
        del self.refresh[token]
        successor = self._new_refresh(held.account, held.grant, client_id, held.expires_at)
        return 200, self._answer(held.account, held.grant, successor)

    def revoke_token(self, token: str) -> None:
        held = self.access.get(token) or self.refresh.get(token)
        if held is not None:
            self.dead_grants.add(held.grant)

    def revoke_account(self, account: str) -> int:
        grants = {t.grant for t in self.refresh.values() if t.account == account}
        grants |= {t.grant for t in self.access.values() if t.account == account}
        self.dead_grants |= grants
        return len(grants)


@dataclass
class _OAuthApi:
    """The authorisation server's handlers over one platform's token authority."""

    authority: TokenAuthority
    accounts: Callable[[], list[str]]

    async def authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        redirect = query.get("redirect_uri", "")
        if query.get("response_type") != "code" or not redirect or not query.get("client_id"):
            return json_reply(
                {
                    "error": "invalid_request",
                    "error_description": "response_type=code, client_id and redirect_uri are required",
                },
                400,
            )
        pkce_given = query.get("code_challenge_method") == "S256" and query.get("code_challenge")
        if self.authority.rules.pkce and not pkce_given:
            return json_reply(
                {"error": "invalid_request", "error_description": "PKCE with S256 is required"}, 400
            )
        if not self.authority.known_client(query["client_id"]):
            return json_reply({"error": "invalid_client", "error_description": "unknown client"}, 401)
        known = self.accounts()
        account = query.get("account") or query.get("login_hint") or (known[0] if known else "")
        if account not in known:
            return json_reply(
                {"error": "access_denied", "error_description": f"no sandbox account {account!r}"}, 400
            )
        code = self.authority.authorize(query, account)
        params = {"code": code, "state": query.get("state", "")}
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(redirect + sep + urlencode(params))

    async def token(self, request: web.Request) -> web.Response:
        status, body = self.authority.token(await read_fields(request))
        return json_reply(body, status)

    async def revoke(self, request: web.Request) -> web.Response:
        fields = await read_fields(request)
        self.authority.revoke_token(str(fields.get("token", "")))
        return json_reply({} if self.authority.platform != "tiktok" else {"error": "", "log_id": ""})

    async def revoke_account(self, request: web.Request) -> web.Response:
        fields = await read_fields(request)
        return json_reply({"revoked_grants": self.authority.revoke_account(str(fields.get("account", "")))})

    async def counts(self, request: web.Request) -> web.Response:
        return json_reply(
            {"refreshes": dict(self.authority.refreshes), "grants": dict(self.authority.grants)}
        )

    async def register(self, request: web.Request) -> web.Response:
        status, body = self.authority.register_app(await read_fields(request))
        return json_reply(body, status)


def add_oauth_routes(
    app: web.Application, authority: TokenAuthority, accounts: Callable[[], list[str]]
) -> None:
    api = _OAuthApi(authority, accounts)
    rules = authority.rules
    if rules.registers_app:
        app.router.add_post("/api/v1/apps", api.register)
    app.router.add_get(rules.authorize_path, api.authorize)
    app.router.add_post(rules.token_path, api.token)
    app.router.add_post(REVOKE_PATHS[authority.platform], api.revoke)
    app.router.add_post("/_fake/revoke", api.revoke_account)
    app.router.add_get("/_fake/tokens", api.counts)
    app.router.add_post(MINT_PATH, mint_handler(accounts, authority.mint))


def add_authority(app: web.Application, state: FakeState, platform: str) -> TokenAuthority:
    """Give ``state`` its platform's authorization server (unless it has one) and its routes."""
    if state.authority is None:
        state.authority = TokenAuthority(platform, state.now, access_ttl_s=state.token_ttl_s)
    add_oauth_routes(app, state.authority, state.accounts)
    return state.authority

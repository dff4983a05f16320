"""What Graph tells about a Page token, for the Facebook and Instagram fakes, in Meta's shapes:

    GET /{version}/me?fields=id,name[,instagram_business_account{id,username}]
        with a Page token: the Page node (graph-api/reference/page), its linked Instagram
        professional account where asked (instagram-api/reference/ig-user)
    GET /{version}/debug_token?input_token=…&access_token=…
        graph-api/reference/debug_token: ``data`` with ``type`` "PAGE", ``is_valid``,
        ``scopes``, ``expires_at`` (0: never, as for a Page token derived from a long-lived user
        token), ``data_access_expires_at`` and ``profile_id`` (the Page). Meta asks for an app
        token (``{app-id}|{app-secret}``) or a token of the same app; an inspected token that no
        longer works answers ``is_valid: false`` with the error inside ``data``.

The Page tokens are the ones ``/me/accounts`` issued (``MetaLogin.page_tokens``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.base import FakeState, json_reply
from sandbox.graph import graph_error
from sandbox.meta_login import DATA_ACCESS_LIFE, MetaLogin


def _token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else request.query.get("access_token", "")


class TokenInfo:
    def __init__(self, state: FakeState, login: MetaLogin) -> None:
        self.s = state
        self.login = login

    def _page(self, token: str) -> dict[str, Any] | None:
        """The Page a live Page token speaks for; None when unknown or revoked."""
        if self.s.account_for(token) is None:
            return None
        return self.login.page_tokens.get(token)

    async def me(self, request: web.Request) -> web.Response:
        page = self._page(_token(request))
        if page is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        fields = request.query.get("fields", "id,name")
        body: dict[str, Any] = {"id": page["id"]}
        if "name" in fields:
            body["name"] = page.get("name", "")
        ig = page.get("instagram_business_account")
        if "instagram_business_account" in fields and ig and self.login.platform == "instagram":
            account = self.s.account_for(_token(request))
            body["instagram_business_account"] = {"id": ig["id"], "username": account}
        return json_reply(body)

    async def debug_token(self, request: web.Request) -> web.Response:
        caller = _token(request)
        if "|" not in caller and self.s.account_for(caller) is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        inspected = request.query.get("input_token", "")
        if not inspected:
            return graph_error("(#100) The parameter input_token is required", 100)
        page = self._page(inspected)
        if page is None:
            error = {
                "code": 190,
                "message": "Error validating access token: The session has been invalidated.",
            }
            return json_reply({"data": {"is_valid": False, "scopes": [], "error": error}})
        issued = self.login.page_issued[inspected]
        scopes = list(self.login.granted.get(inspected, ()))
        return json_reply(
            {
                "data": {
                    "app_id": self.login.apps.get(inspected, ""),
                    "type": "PAGE",
                    "application": "Warta",
                    "data_access_expires_at": int((issued + DATA_ACCESS_LIFE).timestamp()),
                    "expires_at": 0,
                    "is_valid": True,
                    "issued_at": int(issued.timestamp()),
                    "profile_id": page["id"],
                    "scopes": scopes,
                    "granular_scopes": [{"scope": s, "target_ids": [page["id"]]} for s in scopes],
                    "user_id": self.s.account_for(inspected),
                }
            }
        )


def add_token_info(app: web.Application, state: FakeState, login: MetaLogin, version: str) -> None:
    """``/me`` and ``/debug_token`` under ``/{version}``; before the fake's ``/{id}`` routes."""
    info = TokenInfo(state, login)
    app.router.add_get(f"/{version}/me", info.me)
    app.router.add_get(f"/{version}/debug_token", info.debug_token)

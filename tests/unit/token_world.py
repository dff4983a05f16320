"""A small world for the refresher's tests: the platforms' authorization servers in-process, a
clock the test moves, a vault on disk, and an adapter whose platform checks tokens as the real
one does (expired or revoked → 401).

X, Google, TikTok, LinkedIn and Mastodon are the sandbox's own ``TokenAuthority``; Meta's
long-lived tokens are ``MetaTokens``: Threads' 60-day token refreshed with ``th_refresh_token``
(the token is its own refresh token), and Facebook's and Instagram's Page tokens, which a
long-lived user token derives and which never expire."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sandbox.oauth import TokenAuthority
from services.publisher.adapters.port import (
    Adapter,
    AuthExpired,
    Engagement,
    Lookup,
    Published,
    PublishRequest,
    RateLimitInfo,
    Target,
    Unknown,
)
from services.publisher.credentials.policy import expires_at
from services.publisher.credentials.refresher import RefreshCall, Refresher
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.token_client import AppCredentials, Grant, answer, refresh_form
from shared.credentials.vault import CredentialVault

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Authority(Protocol):
    platform: str
    refreshes: Counter[str]

    def account_for(self, token: str) -> str | None: ...
    def token(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...
    def mint(self, account: str, client_id: str = ...) -> dict[str, Any]: ...
    def revoke_account(self, account: str) -> int: ...


@dataclass
class MetaTokens:
    """Meta's long-lived tokens: Threads' (60 days, ``th_refresh_token`` answers a new one once
    the old is a day old and unexpired: threads/get-started/long-lived-tokens) or a Page token
    (``life`` None: never expires, nothing to refresh: facebook-login/guides/access-tokens)."""

    platform: str
    clock: Clock
    life: timedelta | None
    issued: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # token → (account, at)
    revoked: set[str] = field(default_factory=set)
    refreshes: Counter[str] = field(default_factory=Counter)

    def account_for(self, token: str) -> str | None:
        account, at = self.issued.get(token, ("", START))
        if not account or account in self.revoked:
            return None
        return None if self.life is not None and self.clock() >= at + self.life else account

    def mint(self, account: str, client_id: str = "meta-app") -> dict[str, Any]:
        token = ("THAA" if self.platform == "threads" else "EAAP") + secrets.token_urlsafe(24)
        self.issued[token] = (account, self.clock())
        return {
            "access_token": token,
            **({"expires_in": int(self.life.total_seconds())} if self.life else {}),
        }

    def token(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        old = str(form.get("refresh_token", ""))
        account = self.account_for(old)
        if self.life is None or account is None:
            return 400, {"error": {"message": "Error validating access token", "code": 190}}
        if self.clock() < self.issued[old][1] + timedelta(hours=24):
            return 400, {"error": {"message": "the token is less than 24 hours old", "code": 10}}
        self.refreshes[account] += 1
        return 200, self.mint(account)

    def revoke_account(self, account: str) -> int:
        self.revoked.add(account)
        return 1


def authority_for(platform: str, clock: Clock) -> Authority:
    if platform == "threads":
        return MetaTokens(platform, clock, timedelta(seconds=5_183_944))
    if platform in ("facebook", "instagram"):
        return MetaTokens(platform, clock, None)
    return TokenAuthority(platform, clock)


def in_process(authorities: dict[str, Authority]) -> RefreshCall:
    """The token endpoint without HTTP: the same form and the same reading of the answer."""

    async def call(platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        form, _ = refresh_form(platform, app, refresh_token)
        status, body = authorities[platform].token(form)
        grant = answer(status, body)
        # Threads' answer replaces the token and its refresh token at once (token_client.refresh).
        return replace(grant, refresh_token=grant.access_token) if platform == "threads" else grant

    return call


def connected(account: str, platform: str, authority: Authority, now: datetime) -> CredentialRecord:
    grant = answer(200, authority.mint(account, client_id=f"{platform}-app"))
    refresh_token = grant.access_token if platform == "threads" else grant.refresh_token
    return CredentialRecord(
        account=account,
        access_token=grant.access_token,
        refresh_token=refresh_token,
        expires_at=expires_at(now, grant.expires_in),
        refresh_expires_at=expires_at(now, grant.refresh_expires_in),
        issued_at=now,
        platform=platform,
        token_url=f"https://auth.example/{platform}/token",
        extra={"client_id": f"{platform}-app", "client_secret": "app-secret"},
    )


@dataclass
class World:
    tmp: Path
    clock: Clock = field(default_factory=Clock)
    platforms: tuple[str, ...] = ("x", "youtube", "tiktok")

    def __post_init__(self) -> None:
        self.authorities = {p: authority_for(p, self.clock) for p in self.platforms}
        self.key = generate_key()
        self.vault = self.new_vault()
        self.vault.put(
            *(connected(f"{p}-demo", p, self.authorities[p], self.clock()) for p in self.platforms)
        )

    def new_vault(self) -> CredentialVault:
        """Another worker's view of the same vault file."""
        return CredentialVault(self.tmp / "credentials.vault", keyring([self.key]))

    def refresher(self, vault: CredentialVault | None = None) -> Refresher:
        return Refresher(vault or self.vault, in_process(self.authorities), self.clock)


class AuthorityAdapter(Adapter):
    """A platform that posts when the bearer token is live and answers 401 otherwise."""

    def __init__(self, authority: Authority) -> None:
        self.platform = authority.platform
        self._authority = authority
        self.posts: list[str] = []

    async def publish(self, target: Target, request: PublishRequest) -> Published:
        if self._authority.account_for(target.credentials.token) is None:
            raise AuthExpired("Unauthorized", code="unauthorized", http_status=401)
        self.posts.append(request.job_id)
        return Published(post_id=str(len(self.posts)), url=None)

    async def find_by_marker(self, target: Target, request: PublishRequest) -> Lookup:
        return Unknown("not needed here")

    async def reply(self, target: Target, request: PublishRequest) -> Published:
        return await self.publish(target, request)

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        if self._authority.account_for(target.credentials.token) is None:
            raise AuthExpired("Unauthorized", code="unauthorized", http_status=401)
        return Engagement(0, 0, 0)

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return None

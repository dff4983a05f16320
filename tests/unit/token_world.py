"""A small world for the refresher's tests: the platforms' authorization servers in-process, a
clock the test moves, a vault on disk, and an adapter whose platform checks tokens as the real
one does (expired or revoked → 401)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def in_process(authorities: dict[str, TokenAuthority]) -> RefreshCall:
    """The token endpoint without HTTP: the same form and the same reading of the answer."""

    async def call(platform: str, url: str, app: AppCredentials, refresh_token: str) -> Grant:
        form, _ = refresh_form(platform, app, refresh_token)
        status, body = authorities[platform].token(form)
        return answer(status, body)

    return call


def connected(account: str, platform: str, authority: TokenAuthority, now: datetime) -> CredentialRecord:
    grant = answer(200, authority.mint(account, client_id=f"{platform}-app"))
    return CredentialRecord(
        account=account,
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
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
        self.authorities = {p: TokenAuthority(p, self.clock) for p in self.platforms}
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

    def __init__(self, authority: TokenAuthority) -> None:
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

    async def engagement(self, target: Target, post_id: str) -> Engagement:
        if self._authority.account_for(target.credentials.token) is None:
            raise AuthExpired("Unauthorized", code="unauthorized", http_status=401)
        return Engagement(0, 0, 0)

    def rate_limit(self, target: Target) -> RateLimitInfo | None:
        return None

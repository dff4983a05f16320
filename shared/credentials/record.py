"""One account's credential as the vault stores it (encrypted) and the services read it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

Status = Literal["connected", "needs_reauth"]

# Keys of ``extra`` that are secrets of the app, not options of the channel: kept out of what
# adapters receive.
APP_SECRETS = frozenset({"client_secret"})


def expires_at(now: datetime, expires_in: float | None) -> datetime | None:
    """When a grant answered at ``now`` with ``expires_in`` seconds ends; None: it does not say."""
    return None if expires_in is None else now + timedelta(seconds=float(expires_in))


def _instant(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class CredentialRecord:
    """``account`` is the channel's secret name. ``version`` grows with every write, so a worker
    holding an older copy can tell that another refreshed meanwhile."""

    account: str
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None  # None: the platform gave no expiry (long-lived)
    refresh_expires_at: datetime | None = None
    issued_at: datetime | None = None
    scope: str = ""
    platform: str = ""
    token_url: str = ""  # the authorization server's token endpoint for this account
    extra: dict[str, str] = field(default_factory=dict)  # username, client_id, client_secret…
    status: Status = "connected"
    reason: str = ""  # why the account needs re-connecting
    version: int = 0

    def __repr__(self) -> str:  # keeps tokens out of logs and tracebacks
        return (
            f"CredentialRecord(account={self.account!r}, status={self.status!r}, "
            f"expires_at={self.expires_at}, version={self.version}, <tokens redacted>)"
        )

    @property
    def refreshable(self) -> bool:
        return self.refresh_token is not None and self.status == "connected"

    def same_credential(self, other: CredentialRecord | None) -> bool:
        """Whether ``other`` is still this credential, not one written since: every write moves
        the version, and a connect made on a host whose vault was behind, which may not, brings
        new tokens."""
        return other is not None and (
            other.version,
            other.access_token,
            other.refresh_token,
            other.status,
        ) == (self.version, self.access_token, self.refresh_token, self.status)

    def parked(self, reason: str) -> CredentialRecord:
        return replace(self, status="needs_reauth", reason=reason[:500], version=self.version + 1)

    def succeeding(self, old: CredentialRecord | None) -> CredentialRecord:
        """This new credential as the account's next write after ``old``: a new login learns
        only some of ``extra`` (what it reached, the app's id), so the rest of ``old``'s stays,
        and the version moves past ``old``'s so a worker holding it sees the change."""
        if old is None:
            return self
        return replace(self, extra=old.extra | self.extra, version=old.version + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "refresh_expires_at": self.refresh_expires_at.isoformat() if self.refresh_expires_at else None,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "scope": self.scope,
            "platform": self.platform,
            "token_url": self.token_url,
            "extra": dict(self.extra),
            "status": self.status,
            "reason": self.reason,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CredentialRecord:
        status: Status = "needs_reauth" if raw.get("status") == "needs_reauth" else "connected"
        refresh = raw.get("refresh_token")
        return cls(
            account=str(raw["account"]),
            access_token=str(raw["access_token"]),
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=_instant(raw.get("expires_at")),
            refresh_expires_at=_instant(raw.get("refresh_expires_at")),
            issued_at=_instant(raw.get("issued_at")),
            scope=str(raw.get("scope", "")),
            platform=str(raw.get("platform", "")),
            token_url=str(raw.get("token_url", "")),
            extra={str(k): str(v) for k, v in (raw.get("extra") or {}).items()},
            status=status,
            reason=str(raw.get("reason", "")),
            version=int(raw.get("version", 0)),
        )

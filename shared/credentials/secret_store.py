"""Platform credentials by secret name, as a publisher's worker and the inbox ask for them.

Two sources:

- the encrypted vault (``vault.py``), kept fresh by the publishers' refresher; each read takes
  the current access token, so a refresh by any worker on the machine is seen at the next job
  or poll. A parked account (``needs_reauth``) answers ``SecretsError`` with the reason: the
  worker records ``needs_reauth`` and calls nobody.
- a fixed mapping (tests, and a deployment that configured no key yet: the clear file).

Values never reach logs or topics: ``Credentials`` redacts itself, and errors name the account
and the reason only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.credentials import CredentialError, SecretsError
from shared.credentials.record import APP_SECRETS, CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.secrets_file import read_secrets_file


@dataclass(frozen=True)
class Credentials:
    """A channel's secret, resolved from the secrets store; never logged, never on a topic."""

    token: str
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # keeps secrets out of logs and tracebacks
        return "Credentials(<redacted>)"


def credentials_of(record: CredentialRecord) -> Credentials:
    extra = {k: v for k, v in record.extra.items() if k not in APP_SECRETS}
    return Credentials(token=record.access_token, extra=extra)


class SecretStore:
    def __init__(self, entries: dict[str, Credentials], vault: CredentialVault | None = None) -> None:
        self._entries = entries
        self._vault = vault

    @classmethod
    def from_vault(cls, vault: CredentialVault) -> SecretStore:
        return cls({}, vault)

    @classmethod
    def load(cls, path: Path) -> SecretStore:
        """The clear-text secrets file, for a deployment without a credentials key (legacy)."""
        entries = {
            name: Credentials(token=fields["token"], extra={k: v for k, v in fields.items() if k != "token"})
            for name, fields in read_secrets_file(path).items()
        }
        return cls(entries)

    def get(self, name: str | None) -> Credentials:
        if name is not None and self._vault is not None:
            try:
                record = self._vault.get(name)
            except CredentialError as exc:
                raise SecretsError(str(exc)) from None
            if record is not None:
                if record.status == "needs_reauth":
                    raise SecretsError(f"account {name!r} needs re-connecting: {record.reason}")
                return credentials_of(record)
        if name is None or name not in self._entries:
            raise SecretsError(f"no secret named {name!r}")
        return self._entries[name]

"""Platform credentials by secret name, as the publisher's worker asks for them.

Two sources:

- the encrypted vault (``services/publisher/credentials``), kept fresh by the refresher; the
  worker reads the current access token at each publish, so a refresh by any worker on the
  machine is seen at the next job. A parked account (``needs_reauth``) answers ``SecretsError``
  with the reason: the worker records ``needs_reauth`` and calls nobody.
- a fixed mapping (tests, and a deployment that configured no key yet).

Values never reach logs or topics: ``Credentials`` redacts itself, and errors name the account
and the reason only.
"""

from __future__ import annotations

from pathlib import Path

from services.publisher.adapters.port import Credentials
from services.publisher.credentials import CredentialError, VaultError
from services.publisher.credentials.clear_import import read_clear_file
from services.publisher.credentials.record import APP_SECRETS, CredentialRecord
from services.publisher.credentials.vault import CredentialVault


class SecretsError(ValueError):
    """A channel's secret is missing, unreadable, or its account needs re-connecting."""


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
        if not path.exists():
            return cls({})
        try:
            raw = read_clear_file(path)
        except VaultError as exc:
            raise SecretsError(str(exc)) from None
        entries: dict[str, Credentials] = {}
        for name, value in raw.items():
            if not isinstance(value, dict) or not isinstance(value.get("token"), str):
                raise SecretsError(f"secret {name!r} must be an object with a string 'token'")
            extra = {k: str(v) for k, v in value.items() if k != "token"}
            entries[name] = Credentials(token=value["token"], extra=extra)
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

"""Opens a service's credential store from its settings: the vault (with any old clear file
moved into it) when a key is configured, else the clear secrets file. The publishers and the
inbox open it the same way, so both read the same tokens."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from shared.credentials.clear_import import import_clear_file
from shared.credentials.keys import keyring, load_keys
from shared.credentials.secret_store import SecretStore
from shared.credentials.vault import CredentialVault

log = logging.getLogger("warta.credentials")


class VaultSettings(Protocol):
    """What opening the vault reads from a service's settings (the publisher's, the inbox's)."""

    @property
    def secrets_file(self) -> Path: ...
    @property
    def credentials_file(self) -> Path: ...
    @property
    def credentials_key(self) -> SecretStr | None: ...
    @property
    def credentials_key_file(self) -> Path | None: ...


def open_vault(
    settings: VaultSettings, imported: list[str] | None = None, *, clear_fallback: bool = True
) -> CredentialVault | None:
    """The vault, with any old clear secrets file moved into it; None when no key is set.
    ``imported`` receives the accounts moved in now: the caller announces them ``reconnected``
    (a channel parked for want of a credential goes out again). A caller that refuses to go on
    without a key (``clear_fallback=False``) says so itself; no clear file is read then."""
    env_key = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    keys = load_keys(env_key, settings.credentials_key_file)
    if not keys:
        if not clear_fallback:
            return None
        log.warning(
            "no credentials key configured: reading %s in clear (set WARTA_CREDENTIALS_KEY_FILE)",
            settings.secrets_file,
        )
        return None
    vault = CredentialVault(settings.credentials_file, keyring(keys))
    moved = import_clear_file(vault, settings.secrets_file)
    if moved:
        log.info("moved %d credentials from %s into the encrypted vault", len(moved), settings.secrets_file)
    if imported is not None:
        imported.extend(moved)
    return vault


def secret_store(settings: VaultSettings, vault: CredentialVault | None) -> SecretStore:
    return SecretStore.from_vault(vault) if vault is not None else SecretStore.load(settings.secrets_file)

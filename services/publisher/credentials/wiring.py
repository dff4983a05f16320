"""Builds one publisher's credential side from its settings: vault, secret store, refresher."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from services.publisher.credentials.clear_import import import_clear_file
from services.publisher.credentials.endpoints import token_url_for
from services.publisher.credentials.keys import keyring, load_keys
from services.publisher.credentials.refresher import RefreshCall, Refresher
from services.publisher.credentials.vault import CredentialVault
from services.publisher.secrets import SecretStore
from shared.channels import Channel

log = logging.getLogger("warta.publisher.credentials")


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


def open_vault(settings: VaultSettings) -> CredentialVault | None:
    """The vault, with any old clear secrets file moved into it; None when no key is set."""
    env_key = settings.credentials_key.get_secret_value() if settings.credentials_key else None
    keys = load_keys(env_key, settings.credentials_key_file)
    if not keys:
        log.warning(
            "no credentials key configured: reading %s in clear (set WARTA_CREDENTIALS_KEY_FILE)",
            settings.secrets_file,
        )
        return None
    vault = CredentialVault(settings.credentials_file, keyring(keys))
    imported = import_clear_file(vault, settings.secrets_file)
    if imported:
        log.info("moved %d credentials from %s into the encrypted vault", imported, settings.secrets_file)
    return vault


def secret_store(settings: VaultSettings, vault: CredentialVault | None) -> SecretStore:
    return SecretStore.from_vault(vault) if vault is not None else SecretStore.load(settings.secrets_file)


def account_of(channel: Channel) -> str:
    return channel.secret or channel.id


def build_refresher(
    vault: CredentialVault,
    channels: list[Channel],
    call: RefreshCall,
    clock: Callable[[], datetime],
    on_result: Callable[[str, str], None] | None = None,
) -> Refresher:
    return Refresher(
        vault,
        call,
        clock,
        token_urls={account_of(c): token_url_for(c) for c in channels},
        platform_of={account_of(c): c.platform for c in channels},
        on_result=on_result,
    )

"""A one-time import of the old clear-text secrets file into the vault.

Each entry ``{"token": …, "refresh_token"?: …, "expires_at"?: …, other keys → extra}`` becomes
a record unless the vault already has that account (the vault is newer). The clear file is then
overwritten with zeros and removed, so no credential stays readable in clear.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.secrets_file import read_secrets_file

_RECORD_KEYS = {"token", "refresh_token", "expires_at", "token_url", "platform", "scope"}


def record_from_clear(name: str, fields: Mapping[str, str]) -> CredentialRecord:
    """One entry of a clear secrets file (as ``read_secrets_file`` gives it) as a vault record."""
    expires = fields.get("expires_at")
    return CredentialRecord(
        account=name,
        access_token=fields["token"],
        refresh_token=fields.get("refresh_token"),
        expires_at=datetime.fromisoformat(expires) if expires else None,
        token_url=fields.get("token_url", ""),
        platform=fields.get("platform", ""),
        scope=fields.get("scope", ""),
        extra={k: v for k, v in fields.items() if k not in _RECORD_KEYS},
    )


def add_missing(vault: CredentialVault, entries: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Put each entry the vault lacks; returns their accounts. A stored record is newer
    (refreshed, connected, parked) and stays as it is. The caller holds the vault's import lock."""
    existing = vault.load()
    new = [record_from_clear(name, fields) for name, fields in entries.items() if name not in existing]
    if new:
        vault.put(*new)
    return [record.account for record in new]


def replace_from_file(vault: CredentialVault, clear: Path) -> list[str]:
    """``warta credentials import``: every entry of ``clear`` replaces the account's record (the
    operator hands in new credentials, a parked account's included), then the file is shredded.
    Returns the accounts stored, for the ``reconnected`` announcement."""
    with vault.import_lock():
        entries = read_secrets_file(clear)
        existing = vault.load()
        records = []
        for name, fields in entries.items():
            record = record_from_clear(name, fields)
            old = existing.get(name)
            records.append(replace(record, version=old.version + 1) if old is not None else record)
        if records:
            vault.put(*records)
        _shred(clear)
        return [record.account for record in records]


def import_clear_file(vault: CredentialVault, clear: Path) -> list[str]:
    """Move ``clear``'s credentials into ``vault``; returns the accounts that were new.

    Every publisher of the host (one per platform) starts with this: the import lock lets one of
    them move the file while the others wait, then find it gone.
    """
    with vault.import_lock():
        if not clear.exists():
            return []
        added = add_missing(vault, read_secrets_file(clear))
        _shred(clear)
        return added


def _shred(path: Path) -> None:
    # Overwriting first keeps the tokens out of the freed blocks on simple filesystems; the
    # unlink is what matters on copy-on-write ones.
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()

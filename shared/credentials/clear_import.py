"""A one-time import of the old clear-text secrets file into the vault.

Each entry ``{"token": …, "refresh_token"?: …, "expires_at"?: …, other keys → extra}`` becomes
a record unless the vault already has that account (the vault is newer). The clear file is then
overwritten with zeros and removed, so no credential stays readable in clear.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import orjson

from shared.credentials import VaultError
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault

_RECORD_KEYS = {"token", "refresh_token", "expires_at", "token_url", "platform", "scope"}


def record_from_clear(name: str, value: object) -> CredentialRecord:
    """One entry of a clear secrets file as a vault record."""
    if not isinstance(value, dict) or not isinstance(value.get("token"), str):
        raise VaultError(f"secret {name!r} must be an object with a string 'token'")
    expires = value.get("expires_at")
    refresh = value.get("refresh_token")
    return CredentialRecord(
        account=name,
        access_token=value["token"],
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
        token_url=str(value.get("token_url", "")),
        platform=str(value.get("platform", "")),
        scope=str(value.get("scope", "")),
        extra={k: str(v) for k, v in value.items() if k not in _RECORD_KEYS},
    )


def import_clear_file(vault: CredentialVault, clear: Path) -> int:
    """Move ``clear``'s credentials into ``vault``; returns how many were new.

    Every publisher of the host (one per platform) starts with this: the import lock lets one of
    them move the file while the others wait, then find it gone.
    """
    with vault.import_lock():
        return _import(vault, clear)


def read_clear_file(path: Path) -> dict[str, object]:
    """The clear secrets file's entries (name → object); ``VaultError`` when it is not one."""
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise VaultError(f"cannot read secrets file {path}: {type(exc).__name__}") from None
    if not isinstance(raw, dict):
        raise VaultError(f"secrets file {path} must hold a JSON object")
    return raw


def _import(vault: CredentialVault, clear: Path) -> int:
    if not clear.exists():
        return 0
    raw = read_clear_file(clear)
    existing = vault.load()
    new = [record_from_clear(name, value) for name, value in raw.items() if name not in existing]
    if new:
        vault.put(*new)
    _shred(clear)
    return len(new)


def _shred(path: Path) -> None:
    # Overwriting first keeps the tokens out of the freed blocks on simple filesystems; the
    # unlink is what matters on copy-on-write ones.
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()

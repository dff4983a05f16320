"""What `channels check` and the connect commands share: the vault they need (a key is required:
credentials are never written in clear) and the verdict on a credential's permissions."""

from __future__ import annotations

from typing import Any

from services.publisher.settings import PublisherSettings
from shared.credentials.keys import LOCAL_KEY_FILE
from shared.credentials.opening import open_vault
from shared.credentials.vault import CredentialVault

NO_KEY = "no credentials key configured: set WARTA_CREDENTIALS_KEY_FILE (or WARTA_CREDENTIALS_KEY)"


def keyed_vault(settings: PublisherSettings, refusal: type[Exception]) -> CredentialVault:
    """The host's vault, or ``refusal`` (the caller's own error type) when no key is configured;
    where a local run's key file lies beside the vault, the refusal names it."""
    vault = open_vault(settings, clear_fallback=False)
    if vault is None:
        local_key = settings.credentials_file.with_name(LOCAL_KEY_FILE)
        hint = f"; the local run's key: export WARTA_CREDENTIALS_KEY_FILE={local_key}"
        raise refusal(NO_KEY + (hint if local_key.is_file() else ""))
    return vault


def permissions_verdict(row: dict[str, Any], lacking: list[str], *, hint: str = "") -> dict[str, Any]:
    """``row`` (reached, permissions, expiry) judged: usable, or which needs publishing lacks."""
    if lacking:
        return {
            **row,
            "usable": False,
            "status": "insufficient_permissions",
            "missing": lacking,
            "reason": f"lacks {', '.join(lacking)} that publishing needs{hint}",
        }
    return {**row, "usable": True, "status": "ok"}

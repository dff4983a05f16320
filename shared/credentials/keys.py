"""The operator's encryption keys: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``).

Keys come from ``WARTA_CREDENTIALS_KEY`` (one key, or several separated by commas) or from the
file named by ``WARTA_CREDENTIALS_KEY_FILE`` (one key per line). The first key encrypts; every
key decrypts, so a rotation adds the new key first, re-encrypts (``warta credentials
rotate-key``), then drops the old one.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from shared.credentials import KeyringError

# The key file beside a local run's vault (``warta dev`` makes it under var/).
LOCAL_KEY_FILE = "credentials.key"


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


def keyring(keys: list[str]) -> MultiFernet:
    if not keys:
        raise KeyringError(
            "no credentials key configured (WARTA_CREDENTIALS_KEY or WARTA_CREDENTIALS_KEY_FILE)"
        )
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            # The key itself is never echoed: only which one is malformed.
            raise KeyringError(f"credentials key #{index + 1} is not a url-safe base64 32-byte key") from None
    return MultiFernet(fernets)


def load_keys(env_value: str | None, key_file: Path | None) -> list[str]:
    """The configured keys, newest first; empty when none is configured."""
    if env_value:
        return parse_keys(env_value)
    if key_file is not None:
        try:
            return parse_keys(key_file.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyringError(f"cannot read credentials key file {key_file}: {type(exc).__name__}") from None
    return []

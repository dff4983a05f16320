"""The clear-text secrets file: JSON, secret name → ``{"token": ..., other fields}``.

A deployment without a credentials key keeps its platform tokens there, and the local run and the
tests write it. The publisher and the inbox read it behind ``shared.credentials``' ``SecretStore``
(next to the encrypted vault). Errors name the file and the secret, never a value.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from shared.credentials import SecretsError as SecretsError  # one error tree: the credentials'


def read_secrets_file(path: Path) -> dict[str, dict[str, str]]:
    """Each secret's fields, ``token`` always among them; a file that does not exist holds none."""
    if not path.exists():
        return {}
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SecretsError(f"cannot read secrets file {path}: {type(exc).__name__}") from None
    if not isinstance(raw, dict):
        raise SecretsError(f"secrets file {path} must hold a JSON object")
    secrets: dict[str, dict[str, str]] = {}
    for name, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("token"), str):
            raise SecretsError(f"secret {name!r} must be an object with a string 'token'")
        secrets[name] = {k: str(v) for k, v in value.items()}
    return secrets

"""The clear-text secrets file: JSON, secret name → ``{"token": ..., other fields}``.

A deployment without a credentials key keeps its platform tokens there, and the local run and the
tests write it. The publisher and the inbox read it behind ``shared.credentials``' ``SecretStore``
(next to the encrypted vault). Errors name the file and the secret, never a value.
"""

from __future__ import annotations

from pathlib import Path

from shared.credentials import SecretsError as SecretsError  # one error tree: the credentials'
from shared.private_file import read_json_object


def read_secrets_file(path: Path) -> dict[str, dict[str, str]]:
    """Each secret's fields, ``token`` always among them; a file that does not exist holds none."""
    raw = read_json_object(path, "secrets file", SecretsError)
    secrets: dict[str, dict[str, str]] = {}
    for name, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("token"), str):
            raise SecretsError(f"secret {name!r} must be an object with a string 'token'")
        secrets[name] = {k: str(v) for k, v in value.items()}
    return secrets

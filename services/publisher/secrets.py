"""Platform credentials by secret name, from a JSON file that only the publisher reads.

Format (``WARTA_SECRETS_FILE``, default ``var/secrets.json``)::

    {"mastodon-demo": {"token": "…", "username": "…"}, "wordpress-demo": {"token": "user:app-password"}}

Values never reach logs or topics: ``Credentials`` redacts itself.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from services.publisher.adapters.port import Credentials


class SecretsError(ValueError):
    """The secrets file is unreadable or a channel's secret is missing from it."""


class SecretStore:
    def __init__(self, entries: dict[str, Credentials]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> SecretStore:
        if not path.exists():
            return cls({})
        try:
            raw = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise SecretsError(f"cannot read secrets file {path}: {type(exc).__name__}") from None
        if not isinstance(raw, dict):
            raise SecretsError(f"secrets file {path} must hold a JSON object")
        entries: dict[str, Credentials] = {}
        for name, value in raw.items():
            if not isinstance(value, dict) or not isinstance(value.get("token"), str):
                raise SecretsError(f"secret {name!r} must be an object with a string 'token'")
            extra = {k: str(v) for k, v in value.items() if k != "token"}
            entries[name] = Credentials(token=value["token"], extra=extra)
        return cls(entries)

    def get(self, name: str | None) -> Credentials:
        if name is None or name not in self._entries:
            raise SecretsError(f"no secret named {name!r}")
        return self._entries[name]

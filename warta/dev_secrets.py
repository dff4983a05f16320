"""The sandbox accounts' tokens of a local system (``var/sandbox-accounts.json``)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from shared.private_file import write_private


def sandbox_token(platform: str) -> str:
    """A random token in the platform's own shape, so clients that parse it accept it: a Telegram
    bot token is ``<bot id>:<secret>`` (core.telegram.org/bots/api, "Authorizing your bot")."""
    if platform == "telegram":
        bot_id = 1_000_000_000 + secrets.randbelow(9_000_000_000)
        secret = ("AA" + secrets.token_urlsafe(33))[:35]
        return f"{bot_id}:{secret}"
    return secrets.token_urlsafe(24)


def ensure_secrets(path: Path, channel_secrets: list[tuple[str, str]]) -> None:
    """Random sandbox tokens for the local channels (secret name, platform); the sandbox accepts
    exactly these. WordPress application passwords go with a user name, as WordPress wants."""
    data: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name, platform in channel_secrets:
        if name not in data:
            data[name] = {"token": sandbox_token(platform)}
            if platform == "wordpress":
                data[name]["username"] = "warta"
            changed = True
    if changed or not path.exists():
        write_private(path, json.dumps(data, indent=2))

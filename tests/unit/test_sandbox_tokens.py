"""Sandbox tokens come in each platform's own shape, so the platforms' clients accept them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from warta.devrun import ensure_secrets, sandbox_token

# core.telegram.org/bots/api, "Authorizing your bot": ``123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11``.
TELEGRAM_TOKEN = re.compile(r"[1-9][0-9]{5,}:[A-Za-z0-9_-]{35}")


def test_a_telegram_bot_token_is_a_bot_id_a_colon_and_a_35_character_secret() -> None:
    tokens = {sandbox_token("telegram") for _ in range(50)}
    assert len(tokens) == 50
    assert all(TELEGRAM_TOKEN.fullmatch(token) for token in tokens), tokens


def test_the_local_secrets_file_gets_a_telegram_shaped_token(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    ensure_secrets(path, [("telegram-demo", "telegram"), ("mastodon-demo", "mastodon")])
    data = json.loads(path.read_text())
    assert TELEGRAM_TOKEN.fullmatch(data["telegram-demo"]["token"])
    assert ":" not in data["mastodon-demo"]["token"]

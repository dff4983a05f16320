"""Connecting the platforms whose credential is pasted (Telegram, Bluesky, WordPress, WhatsApp)
or generated (the webhook) against the sandbox: each is checked with the platform's own call
before it is stored, a credential lacking what publishing needs is refused and not stored, and
``channels check`` reports the account, its permissions against the needs, and no expiry."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer

from sandbox.base import FakeState
from sandbox.sandbox import STATES, build_sandbox
from sandbox.telegram import TelegramState
from sandbox.whatsapp import WhatsAppState
from sandbox.wordpress import WordPressState
from services.publisher.credentials.commands import _channel, check
from services.publisher.credentials.local_setup import open_vault_of
from services.publisher.credentials.paste_commands import connect_pasted, generate_webhook_secret
from services.publisher.settings import PublisherSettings
from shared.credentials.keys import generate_key
from shared.credentials.pasted import PasteRefused

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {
    "telegram-demo": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
    "bluesky-demo": "abcd-efgh-ijkl-mnop",
    "wordpress-demo": "Wxyz Abcd Efgh Ijkl Mnop Qrst",
    "whatsapp-demo": "EAAG-system-user-token",
}
OPTIONS = {
    "telegram": {"chat_id": "@warta_demo"},
    "whatsapp": {"phone_number_id": "106540352242922"},
}


@dataclass
class Env:
    settings: PublisherSettings
    states: dict[str, FakeState]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    app = build_sandbox(TOKENS)
    async with TestServer(app) as server:
        channels = [
            {
                "id": f"{p}-demo",
                "platform": p,
                "account": f"{p}-demo",
                "base_url": str(server.make_url(f"/{p}")),
                "secret": f"{p}-demo",
                "options": OPTIONS.get(p, {}),
            }
            for p in ("telegram", "bluesky", "wordpress", "whatsapp", "webhook")
        ]
        (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}))
        settings = PublisherSettings(
            channels_file=tmp_path / "channels.yaml",
            credentials_file=tmp_path / "credentials.vault",
            credentials_key=generate_key(),
            secrets_file=tmp_path / "secrets.json",
        )
        yield Env(settings, app[STATES])


async def _connect(env: Env, channel: str, secret: str, username: str = "") -> str:
    record, verified = await connect_pasted(env.settings, _channel(env.settings, channel), secret, username)
    assert record.expires_at is None
    assert record.refresh_token is None
    return verified.reached


def _stored(env: Env, account: str) -> bool:
    return open_vault_of(env.settings).fresh(account) is not None


async def test_each_pasted_credential_is_checked_by_its_platform_then_stored(env: Env) -> None:
    assert await _connect(env, "telegram-demo", TOKENS["telegram-demo"]) == "@telegram_demo_bot"
    assert await _connect(env, "bluesky-demo", TOKENS["bluesky-demo"]) == "bluesky-demo.bsky.social"
    assert await _connect(env, "wordpress-demo", TOKENS["wordpress-demo"], "editor") == "wordpress-demo"
    assert await _connect(env, "whatsapp-demo", TOKENS["whatsapp-demo"]) == "+62 811-224-2922"
    vault = open_vault_of(env.settings)
    bluesky = vault.fresh("bluesky-demo")
    assert bluesky is not None
    assert bluesky.extra["did"].startswith("did:plc:")
    wordpress = vault.fresh("wordpress-demo")
    assert wordpress is not None
    assert wordpress.extra["username"] == "editor"
    rows = {row["channel"]: row for row in await check(env.settings)}
    telegram = rows["telegram-demo"]
    assert (telegram["status"], telegram["reached"]) == ("ok", "@telegram_demo_bot")
    assert telegram["needs"] == ["administrator", "can_post_messages"]
    assert {"administrator", "can_post_messages"} <= set(telegram["permissions"])
    assert telegram["expires_at"] is None
    assert set(rows["wordpress-demo"]["needs"]) <= set(rows["wordpress-demo"]["permissions"])
    assert rows["whatsapp-demo"]["status"] == "ok"
    assert rows["bluesky-demo"]["status"] == "ok"
    assert rows["webhook-demo"]["status"] == "missing"


@pytest.mark.parametrize(
    ("channel", "secret", "username", "words"),
    [
        ("telegram-demo", "123456789:wrong", "", "refused the bot token"),
        ("telegram-demo", "not a bot token", "", "looks like"),
        ("bluesky-demo", "wrong-app-password", "", "Invalid identifier or password"),
        ("wordpress-demo", "Wrong Pass Word", "editor", "invalid application password"),
        ("wordpress-demo", TOKENS["wordpress-demo"], "", "user name"),
        ("whatsapp-demo", "EAAG-revoked", "", "Invalid OAuth access token"),
    ],
)
async def test_a_credential_the_platform_refuses_is_not_stored(
    env: Env, channel: str, secret: str, username: str, words: str
) -> None:
    with pytest.raises(PasteRefused, match=words) as refused:
        await _connect(env, channel, secret, username)
    assert secret not in str(refused.value) or not secret  # the message never carries the secret
    assert not _stored(env, channel)


async def test_a_credential_without_what_publishing_needs_is_refused_naming_it(env: Env) -> None:
    telegram = env.states["telegram"]
    assert isinstance(telegram, TelegramState)
    telegram.bot_status["@warta_demo"] = "member"  # added to the channel, but not as an admin
    with pytest.raises(PasteRefused, match="lacks administrator, can_post_messages"):
        await _connect(env, "telegram-demo", TOKENS["telegram-demo"])
    telegram.bot_status["@warta_demo"] = "left"
    with pytest.raises(PasteRefused, match="not a member of @warta_demo"):
        await _connect(env, "telegram-demo", TOKENS["telegram-demo"])
    wordpress = env.states["wordpress"]
    assert isinstance(wordpress, WordPressState)
    wordpress.roles["wordpress-demo"] = "contributor"
    with pytest.raises(PasteRefused, match="lacks publish_posts, upload_files"):
        await _connect(env, "wordpress-demo", TOKENS["wordpress-demo"], "editor")
    whatsapp = env.states["whatsapp"]
    assert isinstance(whatsapp, WhatsAppState)
    whatsapp.phone_owners["106540352242922"] = "another-business"
    with pytest.raises(PasteRefused, match="cannot reach phone number 106540352242922"):
        await _connect(env, "whatsapp-demo", TOKENS["whatsapp-demo"])
    assert not any(_stored(env, f"{p}-demo") for p in ("telegram", "wordpress", "whatsapp"))


async def test_check_reports_a_bot_demoted_after_connecting(env: Env) -> None:
    await _connect(env, "telegram-demo", TOKENS["telegram-demo"])
    telegram = env.states["telegram"]
    assert isinstance(telegram, TelegramState)
    telegram.bot_status["@warta_demo"] = "administrator-readonly"
    rows = {row["channel"]: row for row in await check(env.settings)}
    row = rows["telegram-demo"]
    assert (row["usable"], row["status"], row["missing"]) == (
        False,
        "insufficient_permissions",
        ["can_post_messages"],
    )


async def test_the_webhook_secret_is_generated_and_a_new_connect_replaces_it(env: Env) -> None:
    vault = open_vault_of(env.settings)
    channel = _channel(env.settings, "webhook-demo")
    first, secret = generate_webhook_secret(vault, channel)
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert first.access_token == secret
    second, again = generate_webhook_secret(vault, channel)
    assert again != secret
    assert second.version == first.version + 1
    rows = {row["channel"]: row for row in await check(env.settings)}
    assert rows["webhook-demo"]["status"] == "stored"


async def _cli(env: Env, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    settings = env.settings
    assert settings.credentials_key is not None
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "warta.cli",
        "channels",
        "connect",
        *args,
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # no broker: stored, the scheduler not told
            "WARTA_CHANNELS_FILE": str(settings.channels_file),
            "WARTA_CREDENTIALS_FILE": str(settings.credentials_file),
            "WARTA_CREDENTIALS_KEY": settings.credentials_key.get_secret_value(),
            "WARTA_SECRETS_FILE": str(settings.secrets_file),
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_cli_reads_the_token_from_stdin_and_never_prints_it(env: Env) -> None:
    code, out, err = await _cli(env, "telegram-demo", stdin=TOKENS["telegram-demo"].encode() + b"\n")
    assert code == 3, err  # stored, but no broker to tell the scheduler
    assert "connected telegram-demo as @telegram_demo_bot" in out
    assert TOKENS["telegram-demo"] not in out + err
    code, out, err = await _cli(env, "wordpress-demo", "--username", "editor", stdin=b"Wrong Pass\n")
    assert code == 2
    assert "Wrong Pass" not in out + err
    assert "invalid application password" in err
    code, out, _ = await _cli(env, "webhook-demo")
    assert code == 3
    record = open_vault_of(env.settings).fresh("webhook-demo")
    assert record is not None
    assert record.access_token in out

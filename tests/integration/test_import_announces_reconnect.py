"""A credential put into the vault other than by ``connect`` also lifts the channel's park:
``warta credentials import FILE`` replaces the records (a parked one included), shreds the file
and writes one ``reconnected`` command naming the account's channels, on the real broker; a
clear file a service moves into the vault at start names its accounts for the same command."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from services.publisher.settings import PublisherSettings
from shared.credentials.keys import generate_key, keyring
from shared.credentials.opening import open_vault
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.events import ControlAction, ControlIssued
from shared.kafka import delete_topics, ensure_topics
from shared.topics import TopicRegistry
from tests.integration.ingest_app import read_events

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _files(tmp_path: Path) -> Path:
    channels = [
        {"id": "telegram-main", "platform": "telegram", "secret": "tg", "options": {"chat_id": "@a"}},
        {"id": "telegram-second", "platform": "telegram", "secret": "tg", "options": {"chat_id": "@b"}},
        {"id": "mastodon-demo", "platform": "mastodon", "secret": "masto"},
    ]
    (tmp_path / "channels.yaml").write_text(yaml.safe_dump({"channels": channels}))
    clear = tmp_path / "handed-in.json"
    clear.write_bytes(orjson.dumps({"tg": {"token": "123:new-bot-token"}}))
    return clear


async def test_an_import_replaces_a_parked_credential_and_announces_reconnected(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    clear = _files(tmp_path)
    key = generate_key()
    vault = CredentialVault(tmp_path / "credentials.vault", keyring([key]))
    vault.put(CredentialRecord(account="tg", access_token="123:revoked").parked("getMe 401"))
    control = [s for s in topics.specs() if s.name == topics.content_control]
    await ensure_topics(kafka_bootstrap, control)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "warta.cli",
            "credentials",
            "import",
            str(clear),
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "WARTA_TOPIC_PREFIX": topics.prefix,
                "WARTA_CHANNELS_FILE": str(tmp_path / "channels.yaml"),
                "WARTA_CREDENTIALS_FILE": str(tmp_path / "credentials.vault"),
                "WARTA_CREDENTIALS_KEY": key,
                "WARTA_SECRETS_FILE": str(tmp_path / "secrets.json"),
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
        assert "imported 1 credential(s) into the vault (tg)" in out.decode()
        assert "new-bot-token" not in (out + err).decode()
        events = await read_events(kafka_bootstrap, topics.content_control)
    finally:
        await delete_topics(kafka_bootstrap, topics.prefix)
    (event,) = events
    assert isinstance(event, ControlIssued)
    assert event.action is ControlAction.RECONNECTED
    assert event.channels == ("telegram-main", "telegram-second")
    assert not clear.exists()
    record = vault.fresh("tg")
    assert record is not None
    assert (record.status, record.access_token) == ("connected", "123:new-bot-token")


def test_a_clear_file_moved_in_at_start_names_its_accounts(tmp_path: Path) -> None:
    _files(tmp_path)
    (tmp_path / "secrets.json").write_bytes(orjson.dumps({"masto": {"token": "m-token"}}))
    settings = PublisherSettings(
        channels_file=tmp_path / "channels.yaml",
        credentials_file=tmp_path / "credentials.vault",
        credentials_key=generate_key(),
        secrets_file=tmp_path / "secrets.json",
    )
    imported: list[str] = []
    assert open_vault(settings, imported) is not None
    assert imported == ["masto"]  # the service announces these once its producer runs

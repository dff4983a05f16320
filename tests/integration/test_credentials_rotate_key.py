"""``warta credentials rotate-key`` re-encrypts the credentials topic too: once the operator drops
the old key, every host opens the topic's records with the new key alone."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from shared.credentials.credential_topic import CredentialFollower
from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault
from shared.kafka import delete_topics
from warta.cli_credentials import cmd_rotate_key

pytestmark = pytest.mark.integration


def test_rotate_key_reseals_the_topics_records_with_the_new_key(
    kafka_bootstrap: str, tmp_path: Path, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = generate_key(), generate_key()
    vault_file = tmp_path / "credentials.vault"
    CredentialVault(vault_file, keyring([old])).put(CredentialRecord(account="x-demo", access_token="x-tok"))
    (tmp_path / "new.key").write_text(new + "\n")
    prefix = f"t{run_id}."
    for name, value in {
        "WARTA_CREDENTIALS_FILE": str(vault_file),
        "WARTA_CREDENTIALS_KEY": old,
        "WARTA_SECRETS_FILE": str(tmp_path / "secrets.json"),
        "WARTA_TOPIC_PREFIX": prefix,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }.items():
        monkeypatch.setenv(name, value)
    try:
        assert cmd_rotate_key(argparse.Namespace(new_key_file=str(tmp_path / "new.key"))) == 0
        other_host = CredentialVault(tmp_path / "other" / "credentials.vault", keyring([new]))
        follower = CredentialFollower(kafka_bootstrap, f"{prefix}credentials", other_host)

        async def follow() -> None:
            await follower.start()
            await follower.stop()

        asyncio.run(follow())
        record = other_host.fresh("x-demo")
        assert record is not None
        assert record.access_token == "x-tok"
        assert follower.unreadable == 0
    finally:
        asyncio.run(delete_topics(kafka_bootstrap, prefix))

"""The clear-text secrets file, read in one place for the publisher's store (and so the inbox's tokens)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.inbox.app import LiveTokens
from shared.channels import load_channels
from shared.credentials.secret_store import SecretStore
from shared.secrets_file import SecretsError, read_secrets_file

CHANNELS = Path(__file__).resolve().parents[2] / "deploy" / "channels.local.yaml"


def test_a_missing_file_holds_no_secret(tmp_path: Path) -> None:
    assert read_secrets_file(tmp_path / "absent.json") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "cannot read secrets file"),
        ("[]", "must hold a JSON object"),
        ('{"a": {"token": 1}}', "secret 'a' must be an object with a string 'token'"),
        ('{"a": "t"}', "secret 'a' must be an object with a string 'token'"),
    ],
)
def test_a_bad_file_is_refused_by_name_never_by_value(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(text)
    with pytest.raises(SecretsError, match=says):
        read_secrets_file(path)
    with pytest.raises(SecretsError, match=says):
        SecretStore.load(path)


def test_the_publisher_and_the_inbox_read_the_same_tokens(tmp_path: Path) -> None:
    channels = load_channels(CHANNELS)
    named = [c.secret for c in channels.channels if c.secret]
    assert len(named) >= 2
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({named[0]: {"token": "t1", "username": "editor"}}))
    store = SecretStore.load(path)
    assert store.get(named[0]).token == "t1"
    assert store.get(named[0]).extra == {"username": "editor"}
    # The inbox reads the store at each use; a channel whose secret is absent has no token (its
    # reads answer 401).
    tokens = LiveTokens(channels, store)
    assert tokens[named[0]] == "t1"
    assert named[1] not in tokens

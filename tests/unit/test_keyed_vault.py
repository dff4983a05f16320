"""The operator's commands that need the vault (``channels check``, ``channels connect``) refuse
without a key, and say so once: no warning about reading a clear file they will not read, and
the local run's key file named when one lies beside the vault."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.publisher.credentials.check_rows import NO_KEY, keyed_vault
from services.publisher.settings import PublisherSettings
from shared.credentials.keys import LOCAL_KEY_FILE, generate_key


class Refused(Exception):
    pass


def _settings(tmp_path: Path, **overrides: object) -> PublisherSettings:
    fields: dict[str, object] = {
        "credentials_file": tmp_path / "credentials.vault",
        "secrets_file": tmp_path / "secrets.json",
        "credentials_key": None,
        "credentials_key_file": None,
        **overrides,
    }
    return PublisherSettings.model_validate(fields)


def test_without_a_key_the_refusal_is_the_only_word(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(Refused) as refused:
        keyed_vault(_settings(tmp_path), Refused)
    assert str(refused.value) == NO_KEY
    assert "in clear" not in caplog.text


def test_the_local_runs_key_beside_the_vault_is_named(tmp_path: Path) -> None:
    key_file = tmp_path / LOCAL_KEY_FILE
    key_file.write_text(generate_key())
    with pytest.raises(Refused) as refused:
        keyed_vault(_settings(tmp_path), Refused)
    assert str(refused.value).startswith(NO_KEY)
    assert f"export WARTA_CREDENTIALS_KEY_FILE={key_file}" in str(refused.value)


def test_with_its_key_the_vault_opens(tmp_path: Path) -> None:
    vault = keyed_vault(_settings(tmp_path, credentials_key=generate_key()), Refused)
    assert vault.get("nobody") is None

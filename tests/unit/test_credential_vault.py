"""The credential vault: encrypted at rest, the clear file imported once, keys rotated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.credentials import KeyringError, SecretsError, VaultError
from shared.credentials.clear_import import import_clear_file, replace_from_file
from shared.credentials.keys import generate_key, keyring, load_keys
from shared.credentials.record import CredentialRecord
from shared.credentials.secret_store import SecretStore
from shared.credentials.vault import CredentialVault

SECRET = "sk-very-secret-token-value-0123456789"
REFRESH = "rt-very-secret-refresh-9876543210"


def _vault(tmp_path: Path, *keys: str) -> CredentialVault:
    return CredentialVault(tmp_path / "credentials.vault", keyring(list(keys)))


def _clear_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.json"
    path.write_text(
        json.dumps(
            {
                "x-demo": {
                    "token": SECRET,
                    "refresh_token": REFRESH,
                    "client_id": "app",
                    "client_secret": "app-client-secret-5551234",
                },
                "mastodon-demo": {"token": "masto-" + SECRET, "username": "editor"},
            }
        )
    )
    return path


def _all_bytes_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_the_clear_file_is_imported_once_then_gone_and_nothing_under_var_reads_in_clear(
    tmp_path: Path,
) -> None:
    vault = _vault(tmp_path, generate_key())
    assert sorted(import_clear_file(vault, _clear_file(tmp_path))) == ["mastodon-demo", "x-demo"]
    assert not (tmp_path / "secrets.json").exists()
    stored = _all_bytes_under(tmp_path)
    for needle in (SECRET, REFRESH, "masto-", "app-client-secret-5551234"):
        assert needle.encode() not in stored
    record = vault.get("x-demo")
    assert record is not None
    assert record.access_token == SECRET
    assert record.refresh_token == REFRESH
    assert SECRET not in repr(record)
    assert REFRESH not in repr(record)


def test_a_second_import_never_overwrites_a_newer_vault_record(tmp_path: Path) -> None:
    vault = _vault(tmp_path, generate_key())
    import_clear_file(vault, _clear_file(tmp_path))
    record = vault.get("x-demo")
    assert record is not None
    vault.put(CredentialRecord(account="x-demo", access_token="newer", version=record.version + 1))
    assert import_clear_file(vault, _clear_file(tmp_path)) == []  # both accounts are known already
    newer = vault.fresh("x-demo")
    assert newer is not None
    assert newer.access_token == "newer"


def test_an_operators_import_replaces_a_parked_record_and_names_it(tmp_path: Path) -> None:
    vault = _vault(tmp_path, generate_key())
    vault.put(CredentialRecord(account="x-demo", access_token="revoked", version=3).parked("revoked"))
    assert sorted(replace_from_file(vault, _clear_file(tmp_path))) == ["mastodon-demo", "x-demo"]
    assert not (tmp_path / "secrets.json").exists()
    record = vault.fresh("x-demo")
    assert record is not None
    assert (record.status, record.access_token, record.version) == (
        "connected",
        SECRET,
        5,
    )  # after the parked one (4)


def test_the_publisher_reads_the_vault_and_hides_app_secrets_from_adapters(tmp_path: Path) -> None:
    vault = _vault(tmp_path, generate_key())
    import_clear_file(vault, _clear_file(tmp_path))
    credentials = SecretStore.from_vault(vault).get("x-demo")
    assert credentials.token == SECRET
    assert "client_secret" not in credentials.extra
    assert credentials.extra["client_id"] == "app"


def test_a_parked_account_answers_its_reason_and_no_token(tmp_path: Path) -> None:
    vault = _vault(tmp_path, generate_key())
    vault.put(
        CredentialRecord(account="tt", access_token=SECRET, refresh_token=REFRESH).parked(
            "invalid_grant: revoked"
        )
    )
    with pytest.raises(SecretsError, match=r"needs re-connecting: invalid_grant") as caught:
        SecretStore.from_vault(vault).get("tt")
    assert SECRET not in str(caught.value)


def test_a_record_copied_under_another_account_is_refused(tmp_path: Path) -> None:
    vault = _vault(tmp_path, generate_key())
    vault.put(CredentialRecord(account="a", access_token=SECRET))
    raw = json.loads(vault.path.read_text())
    raw["records"]["b"] = raw["records"]["a"]
    vault.path.write_text(json.dumps(raw))
    with pytest.raises(VaultError, match="another account"):
        vault.load()


def test_key_rotation_re_encrypts_and_the_old_key_can_then_be_dropped(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    vault = _vault(tmp_path, old)
    vault.put(CredentialRecord(account="a", access_token=SECRET, expires_at=datetime(2026, 1, 1, tzinfo=UTC)))
    before = vault.path.read_bytes()
    assert vault.rotate(keyring([new, old])) == 1
    assert vault.path.read_bytes() != before
    only_new = _vault(tmp_path, new).get("a")
    assert only_new is not None
    assert only_new.access_token == SECRET
    with pytest.raises(KeyringError, match="no configured key opens"):
        _vault(tmp_path, old).load()


def test_keys_come_from_the_environment_first_then_the_file_and_errors_never_echo_a_key(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(generate_key() + "\n")
    assert load_keys(None, key_file) == [key_file.read_text().strip()]
    env = generate_key()
    assert load_keys(f"{env}, {generate_key()}", key_file)[0] == env
    assert load_keys(None, None) == []
    with pytest.raises(KeyringError) as caught:
        keyring(["not-a-key-but-a-secret"])
    assert "not-a-key-but-a-secret" not in str(caught.value)
    with pytest.raises(KeyringError, match="no credentials key"):
        keyring([])


def test_only_one_holder_of_an_accounts_refresh_lock_at_a_time(tmp_path: Path) -> None:
    first = _vault(tmp_path, generate_key())
    second = CredentialVault(first.path, keyring([generate_key()]))
    with first.refresh_lock("x-demo") as held:
        assert held
        with second.refresh_lock("x-demo") as other:
            assert not other
        with second.refresh_lock("tiktok-demo") as unrelated:
            assert unrelated
    with second.refresh_lock("x-demo") as after:
        assert after


def test_publishers_starting_together_import_the_clear_file_once(tmp_path: Path) -> None:
    import multiprocessing

    key = generate_key()
    clear = _clear_file(tmp_path)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        counts = pool.starmap(_import_in_process, [(str(tmp_path), key, str(clear))] * 4)
    assert sorted(counts) == [0, 0, 0, 2]
    assert not clear.exists()
    assert set(_vault(tmp_path, key).load()) == {"x-demo", "mastodon-demo"}


def _import_in_process(tmp: str, key: str, clear: str) -> int:
    return len(import_clear_file(_vault(Path(tmp), key), Path(clear)))


_extras = st.dictionaries(
    st.sampled_from(["client_id", "page_id", "reached", "username", "did"]), st.text(max_size=8)
)


@settings(max_examples=40, deadline=None)
@given(old_extra=_extras, new_extra=_extras, old_version=st.integers(0, 10**6))
def test_a_reconnect_keeps_what_it_did_not_learn_and_moves_past_the_old_version(
    tmp_path_factory: pytest.TempPathFactory,
    old_extra: dict[str, str],
    new_extra: dict[str, str],
    old_version: int,
) -> None:
    vault = _vault(tmp_path_factory.mktemp("vault"), generate_key())
    old = CredentialRecord("x-demo", "old-" + SECRET, extra=old_extra, version=old_version)
    vault.put(old)
    held = vault.fresh("x-demo")
    vault.put(CredentialRecord("x-demo", SECRET, extra=new_extra).succeeding(held))
    after = vault.fresh("x-demo")
    assert held is not None
    assert after is not None
    assert after.access_token == SECRET
    assert after.version > held.version
    assert after.extra == {k: new_extra.get(k, old_extra.get(k)) for k in old_extra.keys() | new_extra.keys()}
    assert CredentialRecord("x-demo", SECRET, extra=new_extra).succeeding(None).version == 0

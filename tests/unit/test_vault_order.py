"""The vault orders an account's entries by the credentials topic's offsets: several processes
write one vault file, and one that is behind in the topic must never put an older record back."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.credentials.keys import generate_key, keyring
from shared.credentials.record import CredentialRecord
from shared.credentials.vault import CredentialVault, replaces

KEY = generate_key()


def _vault(path: Path) -> CredentialVault:
    return CredentialVault(path / "credentials.vault", keyring([KEY]))


def _record(token: str, version: int = 0) -> CredentialRecord:
    return CredentialRecord(
        account="tiktok-demo", access_token=token, refresh_token="rt-" + token, version=version
    )


@pytest.mark.parametrize(
    ("incoming", "held", "expected"),
    [
        (7, 3, True),  # a later topic record replaces
        (3, 7, False),  # an earlier one, from a follower that is behind, is refused
        (5, 5, False),  # the same record again, or one a local write already replaced
        (0, None, True),  # an entry from before offsets were kept orders nothing
        (None, 7, True),  # a write with no topic behind it: as before, it replaces
        (None, None, True),
    ],
)
def test_the_ordering_rule(incoming: int | None, held: int | None, expected: bool) -> None:
    assert replaces(incoming, held) is expected


def test_an_older_record_never_replaces_a_newer_one(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert vault.put(_record("newer"), offsets={"tiktok-demo": 8}) == ["tiktok-demo"]
    # A connect made on a host whose vault was behind carries a lower version: the offset decides.
    assert vault.put(_record("older", version=9), offsets={"tiktok-demo": 4}) == []
    kept = _vault(tmp_path).fresh("tiktok-demo")
    assert kept is not None
    assert kept.access_token == "newer"
    assert _vault(tmp_path).offset("tiktok-demo") == 8
    assert vault.put(_record("newest"), offsets={"tiktok-demo": 9}) == ["tiktok-demo"]
    assert vault.get("tiktok-demo") == _record("newest")
    assert vault.offset("tiktok-demo") == 9


def test_a_local_write_not_yet_on_the_topic_outranks_what_it_replaced(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_record("on-topic"), offsets={"tiktok-demo": 8})
    # A command storing in the vault before the topic, or a refresh the broker did not take.
    assert vault.put(_record("local")) == ["tiktok-demo"]
    assert vault.offset("tiktok-demo") == 8
    # A follower behind brings the record the local write replaced, or an older one: refused.
    assert vault.put(_record("on-topic"), offsets={"tiktok-demo": 8}) == []
    assert vault.put(_record("older"), offsets={"tiktok-demo": 5}) == []
    assert vault.get("tiktok-demo") == _record("local")
    # The local write on the topic at last, then put again with its offset.
    assert vault.put(_record("local"), offsets={"tiktok-demo": 9}) == ["tiktok-demo"]
    assert vault.offset("tiktok-demo") == 9


def test_entries_without_an_offset_keep_the_old_behaviour(tmp_path: Path) -> None:
    vault = _vault(tmp_path)  # no topic configured: every write replaces, as it always did
    vault.put(_record("first"))
    vault.put(_record("second", version=1))
    vault.put(_record("back", version=0))
    assert vault.get("tiktok-demo") == _record("back")
    assert vault.offset("tiktok-demo") is None


def test_a_vault_written_before_offsets_were_kept_still_reads(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_record("legacy"))
    raw = orjson.loads(vault.path.read_bytes())
    del raw["offsets"]
    vault.path.write_bytes(orjson.dumps(raw))
    fresh = _vault(tmp_path)
    assert fresh.get("tiktok-demo") == _record("legacy")
    assert fresh.offset("tiktok-demo") is None
    assert fresh.put(_record("from-topic"), offsets={"tiktok-demo": 0}) == ["tiktok-demo"]


def test_rotating_the_key_keeps_the_offsets(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_record("kept"), offsets={"tiktok-demo": 8})
    vault.rotate(keyring([generate_key(), KEY]))
    assert vault.offset("tiktok-demo") == 8
    assert vault.put(_record("older"), offsets={"tiktok-demo": 3}) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12))
def test_any_order_of_arrival_leaves_the_latest_record(
    tmp_path_factory: pytest.TempPathFactory, offsets: list[int]
) -> None:
    vault = _vault(tmp_path_factory.mktemp("vault"))
    for offset in offsets:  # followers and local writes, interleaved in any order
        vault.put(_record(f"at-{offset}"), offsets={"tiktok-demo": offset})
    assert vault.get("tiktok-demo") == _record(f"at-{max(offsets)}")
    assert vault.offset("tiktok-demo") == max(offsets)


def test_one_account_twice_in_one_put_keeps_the_last(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.put(_record("first"), _record("last"), offsets={"tiktok-demo": 4})
    assert vault.get("tiktok-demo") == _record("last")

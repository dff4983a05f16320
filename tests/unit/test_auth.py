"""API keys and the authorization rules: each role against each action, four eyes, channels."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from services.console.settings import ConsoleSettings
from services.ingest.settings import IngestSettings
from shared.http_auth import (
    ALL_CHANNELS,
    Action,
    KeyRecord,
    KeyStore,
    KeyStoreError,
    Principal,
    Role,
    authenticate,
    authorize,
    digest_key,
    generate_dev_keys,
)
from shared.http_errors import Forbidden, Unauthenticated
from warta.devrun import LocalSystem

KEYS = {role: f"wk_test_{role.value}_key_0123456789" for role in Role}
PEOPLE = {Role.EDITOR: "rina", Role.APPROVER: "yuyun", Role.OPERATOR: "opa", Role.ADMIN: "adi"}


def store(pepper: bytes = b"") -> KeyStore:
    records = [
        KeyRecord(
            digest=digest_key(KEYS[r], pepper), person=PEOPLE[r], role=r, channels=frozenset({ALL_CHANNELS})
        )
        for r in Role
    ]
    records.append(
        KeyRecord(
            digest=digest_key("wk_limited", pepper),
            person="sari",
            role=Role.APPROVER,
            channels=frozenset({"x-demo", "mastodon-demo"}),
        )
    )
    return KeyStore(records=tuple(records), pepper=pepper)


def principal(role: Role) -> Principal:
    return authenticate(store(), f"Bearer {KEYS[role]}")


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_each_key_authenticates_as_its_person_and_role(role: Role) -> None:
    p = principal(role)
    assert (p.person, p.role, p.channels) == (PEOPLE[role], role, frozenset({"*"}))
    assert p.key_id == digest_key(KEYS[role])[:12]


@pytest.mark.parametrize(
    "header", [f"Bearer {KEYS[Role.EDITOR]}", f"bearer   {KEYS[Role.EDITOR]} ", KEYS[Role.EDITOR]]
)
def test_header_forms(header: str) -> None:
    assert authenticate(store(), header).person == "rina"


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        pytest.param(None, "missing_key", id="no-header"),
        pytest.param("", "missing_key", id="empty"),
        pytest.param("Bearer ", "missing_key", id="bearer-without-key"),
        pytest.param("Bearer wk_not_a_key", "unknown_key", id="unknown"),
        pytest.param(KEYS[Role.EDITOR][:-1], "unknown_key", id="truncated"),
    ],
)
def test_missing_or_unknown_key_is_401(header: str | None, rule: str) -> None:
    with pytest.raises(Unauthenticated) as info:
        authenticate(store(), header)
    assert info.value.status == 401
    assert [e.rule for e in info.value.errors] == [rule]
    if rule == "unknown_key":
        assert header is not None
        assert header.split()[-1] not in str(info.value)  # the key is never echoed


def test_the_pepper_is_part_of_the_digest() -> None:
    peppered = store(pepper=b"pepper")
    assert authenticate(peppered, KEYS[Role.ADMIN]).person == "adi"
    unpeppered_records = store().records
    with pytest.raises(Unauthenticated):
        authenticate(KeyStore(records=unpeppered_records, pepper=b"pepper"), KEYS[Role.ADMIN])


def test_keys_and_digests_stay_out_of_reprs() -> None:
    s = store(pepper=b"secret-pepper")
    text = repr(s) + repr(s.records) + repr(principal(Role.ADMIN))
    assert digest_key(KEYS[Role.ADMIN], b"secret-pepper") not in text
    assert "secret-pepper" not in text
    assert KEYS[Role.ADMIN] not in text


# --- authorization: each role x each action -----------------------------------------------------

ALLOWED = {
    Action.SUBMIT_APPROVED: {Role.APPROVER, Role.ADMIN},
    Action.SUBMIT_DRAFT: {Role.EDITOR, Role.APPROVER, Role.ADMIN},
    Action.APPROVE_DRAFT: {Role.APPROVER, Role.ADMIN},
    Action.WITHDRAW: {Role.APPROVER, Role.OPERATOR, Role.ADMIN},
    Action.PAUSE: {Role.OPERATOR, Role.ADMIN},
    Action.RESUME: {Role.OPERATOR, Role.ADMIN},
    Action.READ: set(Role),
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(role: Role, action: Action) -> None:
    p = principal(role)
    # Four-eyes inputs that any allowed role satisfies: the caller approved, someone else wrote it.
    kwargs: dict[str, str] = {}
    if action is Action.SUBMIT_APPROVED:
        kwargs = {"author": "someone-else", "approved_by": p.person}
    elif action is Action.APPROVE_DRAFT:
        kwargs = {"author": "someone-else"}
    if role in ALLOWED[action]:
        authorize(p, action, channels=["x-demo"], **kwargs)
        return
    with pytest.raises(Forbidden) as info:
        authorize(p, action, channels=["x-demo"], **kwargs)
    assert info.value.status == 403
    [error] = info.value.errors
    assert error.rule == "role"
    assert error.message.startswith(f"{p.person} holds the {role.value} role; only ")


def test_role_message_is_precise() -> None:
    with pytest.raises(
        Forbidden, match="rina holds the editor role; only admin or operator may pause channels"
    ):
        authorize(principal(Role.EDITOR), Action.PAUSE)


def test_actions_may_be_named_by_string() -> None:
    authorize(principal(Role.OPERATOR), "withdraw")
    with pytest.raises(ValueError, match="'publish_everything'"):
        authorize(principal(Role.ADMIN), "publish_everything")


# --- four eyes ----------------------------------------------------------------------------------


def test_approver_who_is_the_author_is_refused() -> None:
    with pytest.raises(Forbidden) as info:
        authorize(principal(Role.APPROVER), Action.SUBMIT_APPROVED, author="yuyun", approved_by="yuyun")
    [error] = info.value.errors
    assert (error.field, error.rule) == ("author", "four_eyes")
    assert "four eyes" in error.message
    assert "yuyun is the author" in error.message


def test_approver_key_must_belong_to_approval_approved_by() -> None:
    with pytest.raises(Forbidden) as info:
        authorize(principal(Role.APPROVER), Action.SUBMIT_APPROVED, author="rina", approved_by="budi")
    [error] = info.value.errors
    assert (error.field, error.rule) == ("approval.approved_by", "approver_mismatch")
    assert error.message == (
        "this key belongs to yuyun but approval.approved_by is budi: "
        "a pre-approved item must be sent with its approver's own key"
    )


def test_admin_is_bound_by_four_eyes_too() -> None:
    with pytest.raises(Forbidden, match="four eyes"):
        authorize(principal(Role.ADMIN), Action.SUBMIT_APPROVED, author="adi", approved_by="adi")


def test_draft_author_cannot_approve_their_own_draft() -> None:
    with pytest.raises(Forbidden) as info:
        authorize(principal(Role.APPROVER), Action.APPROVE_DRAFT, author="yuyun")
    [error] = info.value.errors
    assert error.rule == "four_eyes"
    assert error.message.startswith("four eyes: yuyun wrote this draft")


@pytest.mark.parametrize("author", ["YUYUN", "Yuyun", "yuYun"])
def test_the_author_written_in_another_case_is_the_same_person(author: str) -> None:
    # Person ids may be written in either case (Identifier); the person is the same.
    with pytest.raises(Forbidden) as info:
        authorize(principal(Role.APPROVER), Action.SUBMIT_APPROVED, author=author, approved_by="yuyun")
    assert [(e.field, e.rule) for e in info.value.errors] == [("author", "four_eyes")]
    with pytest.raises(Forbidden, match="four eyes: yuyun wrote this draft"):
        authorize(principal(Role.APPROVER), Action.APPROVE_DRAFT, author=author)


def test_the_approver_written_in_another_case_is_the_key_s_person() -> None:
    authorize(principal(Role.APPROVER), Action.SUBMIT_APPROVED, author="rina", approved_by="YUYUN")


def test_every_reason_is_reported_at_once() -> None:
    with pytest.raises(Forbidden) as info:
        authorize(principal(Role.EDITOR), Action.SUBMIT_APPROVED, author="rina", approved_by="yuyun")
    assert [e.rule for e in info.value.errors] == ["role", "approver_mismatch", "four_eyes"]


# --- channels -----------------------------------------------------------------------------------


def test_key_limited_to_channels() -> None:
    sari = authenticate(store(), "Bearer wk_limited")
    authorize(sari, Action.SUBMIT_APPROVED, channels=["x-demo"], author="rina", approved_by="sari")
    with pytest.raises(Forbidden) as info:
        authorize(
            sari,
            Action.SUBMIT_APPROVED,
            channels=["x-demo", "instagram-demo", "telegram-demo", "instagram-demo"],
            author="rina",
            approved_by="sari",
        )
    assert [(e.channel, e.rule) for e in info.value.errors] == [
        ("instagram-demo", "channel_forbidden"),
        ("telegram-demo", "channel_forbidden"),
    ]
    assert info.value.errors[0].message == "sari's key may not act on channel instagram-demo"


# --- the store file and dev keys ------------------------------------------------------------------


def test_generate_dev_keys(tmp_path: Path) -> None:
    keys_file = tmp_path / "var" / "keys.json"
    dev_file = tmp_path / "var" / "dev-keys.json"
    generate_dev_keys(keys_file, dev_file)

    plain = json.loads(dev_file.read_text())
    assert {role: entry["person"] for role, entry in plain.items()} == {
        "editor": "rina",
        "approver": "yuyun",
        "operator": "opa",
        "admin": "adi",
    }
    stored = json.loads(keys_file.read_text())
    assert {e["person"] for e in stored["keys"]} == {"rina", "yuyun", "opa", "adi"}
    for entry in stored["keys"]:
        assert entry["channels"] == ["*"]
        assert entry["key_sha256"] == hashlib.sha256(plain[entry["role"]]["key"].encode()).hexdigest()
    assert not any(entry["key"] in keys_file.read_text() for entry in plain.values())
    assert stat.S_IMODE(dev_file.stat().st_mode) == 0o600

    loaded = KeyStore.load(keys_file)
    for role, entry in plain.items():
        p = authenticate(loaded, f"Bearer {entry['key']}")
        assert (p.role.value, p.person) == (role, entry["person"])


def test_generated_keys_differ_each_time(tmp_path: Path) -> None:
    generate_dev_keys(tmp_path / "a.json", tmp_path / "a-dev.json")
    generate_dev_keys(tmp_path / "b.json", tmp_path / "b-dev.json")
    a = json.loads((tmp_path / "a-dev.json").read_text())
    b = json.loads((tmp_path / "b-dev.json").read_text())
    assert {e["key"] for e in a.values()}.isdisjoint(e["key"] for e in b.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param([], "expected", id="not-an-object"),
        pytest.param({"keys": [1]}, r"keys\[0\] must be an object", id="entry-not-object"),
        pytest.param(
            {"keys": [{"key_sha256": "ab", "person": "x", "role": "editor", "channels": ["*"]}]},
            "64-hex",
            id="short-digest",
        ),
        pytest.param(
            {"keys": [{"key_sha256": "a" * 64, "person": "x", "role": "boss", "channels": ["*"]}]},
            "role must be one of",
            id="unknown-role",
        ),
        pytest.param(
            {"keys": [{"key_sha256": "a" * 64, "person": "x", "role": "editor", "channels": "*"}]},
            "channels must be a list",
            id="channels-not-list",
        ),
    ],
)
def test_invalid_store_files(data: object, message: str) -> None:
    with pytest.raises(KeyStoreError, match=message):
        KeyStore.from_json(data)


def test_unreadable_store_file(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="cannot read key store"):
        KeyStore.load(tmp_path / "missing.json")


# --- header bytes that are not a key ------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer wk_\udcff\udcfe", id="invalid-utf8-as-aiohttp-passes-it"),
        pytest.param("Bearer wk_ключ", id="cyrillic"),
        pytest.param("Bearer wk_caf\u00e9", id="latin-1"),
    ],
)
def test_a_key_that_is_not_ascii_is_401(header: str) -> None:
    with pytest.raises(Unauthenticated) as info:
        authenticate(store(), header)
    assert [e.rule for e in info.value.errors] == ["malformed_key"]


# --- the pepper, from the settings to the hash ----------------------------------------------------


def test_the_pepper_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARTA_KEY_PEPPER", "s3cr3t-p3pp3r")
    settings = IngestSettings()
    assert settings.api_key_pepper() == b"s3cr3t-p3pp3r"
    assert "s3cr3t" not in repr(settings)
    assert ConsoleSettings().api_key_pepper() == b"s3cr3t-p3pp3r"
    monkeypatch.delenv("WARTA_KEY_PEPPER")
    assert IngestSettings().api_key_pepper() == b""


def test_local_keys_are_hashed_with_the_pepper_the_services_get(tmp_path: Path) -> None:
    system = LocalSystem(bootstrap="127.0.0.1:1", var=tmp_path, extra_env={"WARTA_KEY_PEPPER": "pepper"})
    system.prepare()
    plain = json.loads(system.dev_keys_file.read_text())
    peppered = KeyStore.load(tmp_path / "keys.json", b"pepper")
    assert authenticate(peppered, plain["admin"]["key"]).person == "adi"
    with pytest.raises(Unauthenticated):
        authenticate(KeyStore.load(tmp_path / "keys.json"), plain["admin"]["key"])
    assert stat.S_IMODE(system.sandbox_accounts_file.stat().st_mode) == 0o600

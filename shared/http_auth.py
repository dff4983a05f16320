"""Who may do what: API keys, their people and roles, and the pure authorization rules.

A key is 256 random bits, so its stored form is a plain SHA-256 of an optional pepper followed by
the key: no dictionary can reverse it and a slow hash would only slow every request. The pepper
(kept outside the store file, e.g. in the environment) means a leaked store alone cannot even
confirm a guessed key. A lookup finds the presented key's digest in a dict: its timing depends
on that digest only, which an attacker cannot steer towards a stored one (it would take a
preimage), so no constant-time scan over every stored digest is needed.

Keys never appear in a repr, a log line or an exception message; a ``Principal`` carries only
``key_id``, a short prefix of the digest, to tell keys apart in audit records and rate limits.

The rules (design.md, "four eyes")::

    action            roles                      and also
    submit_approved   approver, admin            person == approval.approved_by != author
    submit_draft      editor, approver, admin
    approve_draft     approver, admin            person != the draft's author
    withdraw          approver, operator, admin
    pause / resume    operator, admin
    read              every role

and every channel acted on must be among the key's channels (``"*"`` = all). Person ids are
compared case-folded (``shared.event_fields.same_person``): ``YUYUN`` is ``yuyun``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from shared.event_fields import same_person
from shared.http_errors import FieldError, Forbidden, Unauthenticated, field_error
from shared.private_file import write_private

ALL_CHANNELS = "*"


class Role(StrEnum):
    EDITOR = "editor"
    APPROVER = "approver"
    OPERATOR = "operator"
    ADMIN = "admin"


class Action(StrEnum):
    SUBMIT_APPROVED = "submit_approved"
    SUBMIT_DRAFT = "submit_draft"
    APPROVE_DRAFT = "approve_draft"
    WITHDRAW = "withdraw"
    PAUSE = "pause"
    RESUME = "resume"
    READ = "read"


ALLOWED_ROLES: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.SUBMIT_APPROVED: frozenset({Role.APPROVER, Role.ADMIN}),
        Action.SUBMIT_DRAFT: frozenset({Role.EDITOR, Role.APPROVER, Role.ADMIN}),
        Action.APPROVE_DRAFT: frozenset({Role.APPROVER, Role.ADMIN}),
        Action.WITHDRAW: frozenset({Role.APPROVER, Role.OPERATOR, Role.ADMIN}),
        Action.PAUSE: frozenset({Role.OPERATOR, Role.ADMIN}),
        Action.RESUME: frozenset({Role.OPERATOR, Role.ADMIN}),
        Action.READ: frozenset(Role),
    }
)

_ACTION_WORDS: Mapping[Action, str] = MappingProxyType(
    {
        Action.SUBMIT_APPROVED: "submit approved content",
        Action.SUBMIT_DRAFT: "submit drafts",
        Action.APPROVE_DRAFT: "approve drafts",
        Action.WITHDRAW: "withdraw content",
        Action.PAUSE: "pause channels",
        Action.RESUME: "resume channels",
        Action.READ: "read",
    }
)


@dataclass(frozen=True)
class Principal:
    """The caller behind a key."""

    person: str
    role: Role
    channels: frozenset[str]
    key_id: str  # a prefix of the key's digest, never the key

    def may_target(self, channel: str) -> bool:
        return ALL_CHANNELS in self.channels or channel in self.channels


@dataclass(frozen=True)
class KeyRecord:
    digest: str = field(repr=False)
    person: str
    role: Role
    channels: frozenset[str]

    def principal(self) -> Principal:
        return Principal(person=self.person, role=self.role, channels=self.channels, key_id=self.digest[:12])


class KeyStoreError(ValueError):
    """The key store file is missing, unreadable or breaks its format."""


def digest_key(key: str, pepper: bytes = b"") -> str:
    return hashlib.sha256(pepper + key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyStore:
    """The hashed keys; file format ``{"keys": [{"key_sha256", "person", "role", "channels"}]}``."""

    records: tuple[KeyRecord, ...]
    pepper: bytes = field(default=b"", repr=False)
    # A dict by digest: the lookup compares SHA-256 digests of a high-entropy key, so its timing
    # tells nothing about any key, and it costs the same with four keys or four thousand.
    _by_digest: dict[str, KeyRecord] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_digest", {r.digest: r for r in self.records})

    @classmethod
    def from_json(cls, data: object, pepper: bytes = b"") -> KeyStore:
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise KeyStoreError('expected {"keys": [...]}')
        records = []
        for i, entry in enumerate(data["keys"]):
            if not isinstance(entry, dict):
                raise KeyStoreError(f"keys[{i}] must be an object")
            digest, person, raw_channels = entry.get("key_sha256"), entry.get("person"), entry.get("channels")
            try:
                role = Role(str(entry.get("role")))
            except ValueError:
                raise KeyStoreError(f"keys[{i}].role must be one of {', '.join(Role)}") from None
            if not (isinstance(digest, str) and len(digest) == 64 and isinstance(person, str) and person):
                raise KeyStoreError(f"keys[{i}] needs a 64-hex key_sha256 and a person")
            if not (isinstance(raw_channels, list) and all(isinstance(c, str) for c in raw_channels)):
                raise KeyStoreError(f'keys[{i}].channels must be a list of channel ids (["*"] = all)')
            channels = frozenset(raw_channels)
            records.append(KeyRecord(digest=digest.lower(), person=person, role=role, channels=channels))
        return cls(records=tuple(records), pepper=pepper)

    @classmethod
    def load(cls, path: str | Path, pepper: bytes = b"") -> KeyStore:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"cannot read key store {path}: {exc}") from exc
        return cls.from_json(data, pepper)

    def to_json(self) -> dict[str, list[dict[str, object]]]:
        return {
            "keys": [
                {
                    "key_sha256": r.digest,
                    "person": r.person,
                    "role": r.role.value,
                    "channels": sorted(r.channels),
                }
                for r in self.records
            ]
        }

    def find(self, key: str) -> KeyRecord | None:
        return self._by_digest.get(digest_key(key, self.pepper))


def _key_from_header(header_value: str | None) -> str | None:
    """Accepts ``Bearer <key>`` (Authorization) or the bare key (X-API-Key)."""
    if header_value is None:
        return None
    value = header_value.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def authenticate(store: KeyStore, header_value: str | None) -> Principal:
    """The principal behind the request's key; ``Unauthenticated`` (401) if none or unknown."""
    key = _key_from_header(header_value)
    if key is None:
        raise Unauthenticated([field_error(None, None, "missing_key")])
    if not key.isascii():
        # Keys are ASCII (``new_key``). aiohttp hands header bytes that are not UTF-8 over as lone
        # surrogates, which cannot even be hashed: such a header is a bad key, not a crash.
        raise Unauthenticated([field_error(None, None, "malformed_key")])
    record = store.find(key)
    if record is None:
        raise Unauthenticated([field_error(None, None, "unknown_key")])
    return record.principal()


def authorize(
    principal: Principal,
    action: Action | str,
    *,
    channels: Iterable[str] = (),
    author: str | None = None,
    approved_by: str | None = None,
) -> None:
    """Raise ``Forbidden`` (403) listing every reason ``principal`` may not do ``action``.

    ``author`` is the item's (or draft's) author; ``approved_by`` the request's
    ``approval.approved_by`` (submit_approved only); ``channels`` the channels acted on.
    """
    action = Action(action)  # a name that is no action is a programming error: ValueError
    errors: list[FieldError] = []
    allowed = ALLOWED_ROLES[action]
    if principal.role not in allowed:
        roles = " or ".join(sorted(r.value for r in allowed))
        words = _ACTION_WORDS[action]
        person, role = principal.person, principal.role.value
        errors.append(field_error(None, None, "role", person=person, role=role, allowed=roles, action=words))
    if action is Action.SUBMIT_APPROVED:
        errors += _pre_approved(principal, author, approved_by)
    if action is Action.APPROVE_DRAFT and same_person(principal.person, author):
        errors.append(field_error(None, None, "four_eyes.draft", person=principal.person))
    for channel in dict.fromkeys(channels):
        if not principal.may_target(channel):
            errors.append(
                field_error(channel, None, "channel_forbidden", person=principal.person, channel=channel)
            )
    if errors:
        raise Forbidden(errors)


def _pre_approved(principal: Principal, author: str | None, approved_by: str | None) -> list[FieldError]:
    errors = []
    if approved_by is not None and not same_person(principal.person, approved_by):
        at, person = "approval.approved_by", principal.person
        errors.append(field_error(None, at, "approver_mismatch", person=person, approved_by=approved_by))
    if same_person(principal.person, author):
        errors.append(field_error(None, "author", "four_eyes.author", person=principal.person))
    return errors


# --- local development -------------------------------------------------------------------------

DEV_PEOPLE: Mapping[Role, str] = MappingProxyType(
    {Role.EDITOR: "rina", Role.APPROVER: "yuyun", Role.OPERATOR: "opa", Role.ADMIN: "adi"}
)


def new_key() -> str:
    return "wk_" + secrets.token_urlsafe(32)


def generate_dev_keys(
    path_keys_store: str | Path, path_dev_keys: str | Path, pepper: bytes = b""
) -> KeyStore:
    """One fresh key per role: the hashed store, and the plaintext keys for the local run only.

    ``path_dev_keys`` gets ``{"editor": {"person": "rina", "key": "..."}, ...}`` with mode 0600.
    """
    plain: dict[str, dict[str, str]] = {}
    records = []
    for role, person in DEV_PEOPLE.items():
        key = new_key()
        plain[role.value] = {"person": person, "key": key}
        records.append(
            KeyRecord(
                digest=digest_key(key, pepper), person=person, role=role, channels=frozenset({ALL_CHANNELS})
            )
        )
    store = KeyStore(records=tuple(records), pepper=pepper)
    write_private(Path(path_keys_store), json.dumps(store.to_json(), indent=2) + "\n")
    write_private(Path(path_dev_keys), json.dumps(plain, indent=2) + "\n")
    return store

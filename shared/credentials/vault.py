"""The encrypted credential file, shared by every publisher worker on the machine and the inbox.

Layout: one JSON object ``{"format": "warta-vault/1", "records": {account: fernet-token},
"offsets": {account: int}}``; each record is encrypted on its own, with its account inside the
ciphertext, so a record copied under another account's name is refused. Writes are
read-modify-write under an exclusive ``flock`` on ``<vault>.lock``, to a 0600 temporary file,
fsynced, then renamed over the vault (shared/private_file.py): a crash leaves the old vault or the
new one, never half of one.

Several processes write one vault (each follower of the credentials topic, and the local writes),
so an entry keeps the offset of the topic record it reflects (``"offsets"``; an offset is no
secret, and a vault written before them reads as entries without one): an account's records all
lie in one partition, whose offsets order them totally, and ``put`` refuses to replace an entry
with one of an offset no higher (``replaces``). A follower that is behind would otherwise put an
older record back, and a refresher reading it then would spend a rotated-away refresh token. A
record's ``version`` cannot order them: a connect made on a host whose vault is behind may carry a
lower one. A local write not (yet) on the topic keeps the offset of the entry it replaced: it is
newer than that record, so a follower behind cannot undo it before the write reaches the topic and
is put again with its own offset.

Refreshing is guarded by a second, per-account ``flock`` (``refresh_lock``): only its holder
calls the token endpoint, so two workers never spend one rotating refresh token. The kernel
drops a killed worker's locks, so a kill mid-refresh never leaves the account locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson
from cryptography.fernet import InvalidToken, MultiFernet

from shared.credentials import KeyringError, VaultError
from shared.credentials.record import CredentialRecord
from shared.private_file import write_private

FORMAT = "warta-vault/1"


def replaces(incoming: int | None, held: int | None) -> bool:
    """Whether an entry reflecting the topic record at offset ``incoming`` may replace one at least
    as new as the record at ``held`` (the same record again changes nothing). None orders nothing,
    as before offsets were kept: a write not on the topic, a vault without a topic, an old entry."""
    return incoming is None or held is None or incoming > held


class CredentialVault:
    def __init__(self, path: Path, keys: MultiFernet) -> None:
        self.path = path
        self._keys = keys
        self._cache: dict[str, CredentialRecord] = {}
        self._offsets: dict[str, int] = {}
        self._seen: tuple[int, int] | None = None

    @property
    def keys(self) -> MultiFernet:
        """The operator's keyring this vault is sealed with (other secrets of the same trust, such
        as a console's pending connects, are sealed with it too)."""
        return self._keys

    # ---- reading ---------------------------------------------------------------------------
    def _read_raw(self) -> dict[str, str]:
        return self._read_file()[0]

    def _read_file(self) -> tuple[dict[str, str], dict[str, int]]:
        """The sealed records and the topic offsets they reflect, by account."""
        if not self.path.exists():
            return {}, {}
        try:
            raw = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise VaultError(f"cannot read credential vault {self.path}: {type(exc).__name__}") from None
        if (
            not isinstance(raw, dict)
            or raw.get("format") != FORMAT
            or not isinstance(raw.get("records"), dict)
        ):
            raise VaultError(f"{self.path} is not a Warta credential vault ({FORMAT})")
        offsets = raw.get("offsets")
        return (
            {str(k): str(v) for k, v in raw["records"].items()},
            {str(k): v for k, v in offsets.items() if type(v) is int} if isinstance(offsets, dict) else {},
        )

    def seal(self, record: CredentialRecord) -> bytes:
        """The record encrypted with the first key, as the vault and the credentials topic hold it."""
        return self._encrypt(record).encode("ascii")

    def unseal(self, account: str, sealed: bytes) -> CredentialRecord:
        """The record ``sealed`` holds; refused when it belongs to another account or no key opens it."""
        try:
            return self._decrypt(account, sealed.decode("ascii"))
        except UnicodeDecodeError:
            raise VaultError(f"the record stored under {account!r} is not a sealed credential") from None

    def _decrypt(self, account: str, token: str) -> CredentialRecord:
        try:
            plain = self._keys.decrypt(token.encode("ascii"))
        except InvalidToken:
            raise KeyringError(f"no configured key opens the credential of {account!r}") from None
        record = CredentialRecord.from_json(orjson.loads(plain))
        if record.account != account:
            raise VaultError(f"the record stored under {account!r} belongs to another account")
        return record

    def _encrypt(self, record: CredentialRecord) -> str:
        return self._keys.encrypt(orjson.dumps(record.to_json())).decode("ascii")

    def load(self) -> dict[str, CredentialRecord]:
        """Every record, decrypted, straight from the file."""
        return {account: self._decrypt(account, token) for account, token in self._read_raw().items()}

    def current(self) -> dict[str, CredentialRecord]:
        """Every record; re-read only when another process replaced the file (a refresh)."""
        try:
            stat = self.path.stat()
            seen: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            seen = None
        if seen != self._seen or seen is None:
            raw, self._offsets = self._read_file()
            self._cache = {account: self._decrypt(account, token) for account, token in raw.items()}
            self._seen = seen
        return self._cache

    def offset(self, account: str) -> int | None:
        """The offset on the credentials topic of the newest record the account's entry is at
        least as new as (the record it reflects, or the one a local write replaced)."""
        self.current()
        return self._offsets.get(account)

    def get(self, account: str) -> CredentialRecord | None:
        return self.current().get(account)

    def fresh(self, account: str) -> CredentialRecord | None:
        """The record as the file holds it now, bypassing the cache (under a refresh lock)."""
        token = self._read_raw().get(account)
        return None if token is None else self._decrypt(account, token)

    # ---- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _flock(self, suffix: str) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + suffix), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the lock

    def _write_lock(self) -> contextlib.AbstractContextManager[None]:
        return self._flock(".lock")

    def import_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held while the old clear file is moved in; writes take their own lock inside it."""
        return self._flock(".import.lock")

    def put(self, *records: CredentialRecord, offsets: Mapping[str, int] | None = None) -> list[str]:
        """Store ``records`` durably (fsynced, atomically renamed) before returning; ``offsets``:
        the credentials topic's offset of each account's record, where it is on the topic. An
        entry at least as new as that topic record is kept (``replaces``). Returns the accounts
        stored."""
        offsets = offsets or {}
        stored: list[str] = []
        with self._write_lock():
            raw, held = self._read_file()
            # One account twice: the last is the one ``offsets`` (one per account) speaks of.
            for record in {r.account: r for r in records}.values():
                incoming = offsets.get(record.account)
                if not replaces(incoming, held.get(record.account) if record.account in raw else None):
                    continue
                raw[record.account] = self._encrypt(record)
                if incoming is not None:
                    held[record.account] = incoming
                stored.append(record.account)
            if stored:
                self._write(raw, held)
        return stored

    def _write(self, raw: dict[str, str], offsets: dict[str, int]) -> None:
        content = {"format": FORMAT, "records": raw, "offsets": offsets}
        write_private(self.path, orjson.dumps(content).decode("ascii"))
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut
        finally:
            os.close(dir_fd)

    def rotate(self, keys: MultiFernet) -> int:
        """Re-encrypt every record with the first of ``keys``; any of them may open the old."""
        with self._write_lock():
            raw, offsets = self._read_file()
            try:
                rotated = {a: keys.rotate(t.encode("ascii")).decode("ascii") for a, t in raw.items()}
            except InvalidToken:
                raise KeyringError(
                    "no key of the new keyring opens the vault: keep the old key in it"
                ) from None
            self._write(rotated, offsets)
            self._keys = keys
            self._seen = None
            return len(rotated)

    # ---- one refresher per account ---------------------------------------------------------
    @contextlib.contextmanager
    def refresh_lock(self, account: str) -> Iterator[bool]:
        """Yields True for the one process that may refresh ``account`` now, False to others."""
        locks = self.path.parent / (self.path.name + ".refresh")
        locks.mkdir(mode=0o700, exist_ok=True)
        name = hashlib.sha256(account.encode()).hexdigest()[:32]
        fd = os.open(locks / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

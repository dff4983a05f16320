"""The connects an admin started and the platform has not sent back yet, shared by every console
instance: the platform's callback may reach any instance behind the one public address.

Each connect is a record on the compacted ``console.connects`` topic, keyed by the SHA-256 of its
``state`` (the state itself never leaves the console in clear) and sealed with the credential
vault's keys (Fernet), since it holds the PKCE verifier and the app's secret. Taking one is a
claim: the instance writes a ``taken`` record under the same key, then reads the key's partition
up to its own claim; the first claim after the connect's record wins, everywhere, and only the
winner gets the connect (then a tombstone removes it). A second use, a state never issued, an
unreadable record, or a connect older than ``PENDING_LIFE`` finds nothing.

The callback is public (the platform sends the person's browser there), so a state is judged
before the topic is touched: ``mint_state`` seals a random nonce and its time with the same keys,
and a state they do not open, or older than ``PENDING_LIFE``, is refused at once. Forged states
cost a decryption, never a write and a read of the partition.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition
from cryptography.fernet import InvalidToken, MultiFernet

from shared.credentials.connect_flow import Pending
from shared.credentials.token_client import AppCredentials
from shared.kafka import replay
from shared.kafka_connection import KafkaAddress

PENDING_LIFE = timedelta(minutes=10)
MAX_PENDING = 200  # connects one instance may start per PENDING_LIFE


def digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _encode(pending: Pending) -> dict[str, Any]:
    return {
        "kind": "started",
        "digest": digest(pending.state),
        "channel_id": pending.channel_id,
        "state": pending.state,
        "verifier": pending.verifier,
        "redirect_uri": pending.redirect_uri,
        "client_id": pending.app.client_id,
        "client_secret": pending.app.client_secret,
        "started_at": pending.started_at.isoformat(),
        "by": pending.by,
    }


def _decode(raw: dict[str, Any]) -> Pending:
    return Pending(
        channel_id=str(raw["channel_id"]),
        state=str(raw["state"]),
        verifier=str(raw["verifier"]),
        redirect_uri=str(raw["redirect_uri"]),
        app=AppCredentials(str(raw["client_id"]), raw.get("client_secret")),
        started_at=datetime.fromisoformat(str(raw["started_at"])),
        by=str(raw["by"]),
    )


def mint_state(keys: MultiFernet, now: datetime) -> str:
    """A new connect's ``state``: a random nonce sealed with ``keys`` at ``now`` (URL-safe)."""
    return keys.encrypt_at_time(secrets.token_bytes(16), int(now.timestamp())).decode("ascii")


def issued_here(keys: MultiFernet, state: str, now: datetime) -> bool:
    """Whether ``state`` was minted with ``keys`` within ``PENDING_LIFE`` of ``now``."""
    try:
        keys.decrypt_at_time(state.encode(), int(PENDING_LIFE.total_seconds()), int(now.timestamp()))
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


class TooManyPending(Exception):
    """This instance started ``MAX_PENDING`` connects within ``PENDING_LIFE``."""


@dataclass(frozen=True)
class ConnectsTopic:
    """Where the connects are kept, and the keyring they are sealed with (the vault's)."""

    kafka: KafkaAddress
    topic: str
    producer: AIOKafkaProducer
    keys: MultiFernet


class SharedPendingConnects:
    def __init__(self) -> None:
        self._started: deque[datetime] = deque()  # this instance's recent starts: a flood guard

    async def add(self, where: ConnectsTopic, pending: Pending, now: datetime) -> None:
        while self._started and now - self._started[0] >= PENDING_LIFE:
            self._started.popleft()
        if len(self._started) >= MAX_PENDING:
            raise TooManyPending
        await _send(where, digest(pending.state), _encode(pending))
        self._started.append(now)

    async def take(self, where: ConnectsTopic, state: str, now: datetime) -> Pending | None:
        """The connect ``state`` belongs to, once across every instance; None otherwise."""
        if not issued_here(where.keys, state, now):
            return None
        key = digest(state)
        claim = secrets.token_hex(16)
        partition, offset = await _send(where, key, {"kind": "taken", "digest": key, "claim": claim})
        tp = TopicPartition(where.topic, partition)
        started: dict[str, Any] | None = None
        winner: str | None = None
        async for message in replay(where.kafka, [tp], until={tp: offset + 1}):
            raw = _open(where, message.key, message.value, key)
            if raw is None:
                continue
            if raw["kind"] == "started":
                started, winner = raw, None
            elif raw["kind"] == "taken" and started is not None and winner is None:
                winner = str(raw.get("claim"))
        if started is None:
            # Used already (its record removed) or lost: the claim itself is forgotten too.
            await where.producer.send_and_wait(where.topic, None, key=key.encode())
            return None
        if winner != claim:
            return None
        await where.producer.send_and_wait(where.topic, None, key=key.encode())  # used: forgotten
        try:
            pending = _decode(started)
        except (KeyError, ValueError, TypeError):
            return None
        return pending if now - pending.started_at < PENDING_LIFE and pending.state == state else None


async def _send(where: ConnectsTopic, key: str, body: dict[str, Any]) -> tuple[int, int]:
    sealed = where.keys.encrypt(orjson.dumps(body))
    meta = await where.producer.send_and_wait(where.topic, sealed, key=key.encode())
    return meta.partition, meta.offset


def _open(where: ConnectsTopic, key: bytes | None, value: bytes | None, wanted: str) -> dict[str, Any] | None:
    if key is None or value is None or key.decode("ascii", "replace") != wanted:
        return None
    try:
        raw = orjson.loads(where.keys.decrypt(value))
    except (InvalidToken, orjson.JSONDecodeError):
        return None  # not sealed with our keys: not a connect any console started
    # The digest inside the ciphertext: a record copied under another key is not taken.
    return raw if isinstance(raw, dict) and raw.get("digest") == wanted else None

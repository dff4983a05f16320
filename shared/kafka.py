"""Thin adapters over aiokafka shared by the services: producer, topic creation, replay, dead letters.

How a client reaches the brokers (bootstrap servers, TLS, SASL) is decided once, by
``client_args``: every producer, consumer and admin client in Warta is built from it, so a
secured cluster cannot be reached in clear by one forgotten client.

Errors::

    KafkaUnavailable     the broker did not answer in time (ingest turns it into 503 + Retry-After)
    KafkaMisconfigured   the connection settings cannot work: contradictory (found when settings are
                         read) or refused by the broker (bad password, untrusted certificate, clear
                         text to a TLS listener; found by the first client a service starts)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAlreadyExistsError,
    UnsupportedSaslMechanismError,
)
from pydantic import BaseModel

from shared.codec import encode
from shared.events import DeadLettered
from shared.ids import new_event_id
from shared.topics import TopicSpec

log = logging.getLogger(__name__)


class KafkaUnavailable(RuntimeError):
    """The broker could not be reached or did not acknowledge in time."""

    retriable = True


class KafkaMisconfigured(ValueError):
    """Connection settings that cannot work, e.g. SASL without a user, or a CA file that is missing."""


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True)
class KafkaConnection:
    """Where the brokers are and how a client proves who it is to them.

    ``PLAINTEXT`` is for the broker on loopback; production uses ``SASL_SSL`` with SCRAM, so
    traffic is encrypted, the broker's certificate is checked against ``ssl_cafile`` (the
    system's CAs when unset), and only holders of a password can write approvals.
    """

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    ssl_cafile: str | None = None
    # A client certificate, for brokers that also require mutual TLS.
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    # Never in repr, so neither a log line nor an error message can carry it (design.md, guarantee 7).
    sasl_password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise KafkaMisconfigured(
                f"security protocol {self.security_protocol} needs a SASL user name and password"
            )
        if not self.security_protocol.startswith("SASL") and (self.sasl_username or self.sasl_password):
            raise KafkaMisconfigured(
                f"a SASL user is set but security protocol {self.security_protocol} would not send it;"
                " use SASL_SSL"
            )
        uses_tls = self.security_protocol.endswith("SSL")
        if not uses_tls and (self.ssl_cafile or self.ssl_certfile):
            raise KafkaMisconfigured(
                f"TLS files are set but security protocol {self.security_protocol} does not use TLS"
            )
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise KafkaMisconfigured("a client certificate needs both its certificate and its key file")

    @property
    def description(self) -> str:
        """For log lines and errors: where and how, never the password."""
        user = f" as {self.sasl_username} ({self.sasl_mechanism})" if self.sasl_username else ""
        return f"{self.bootstrap} over {self.security_protocol}{user}"


# A plain bootstrap string means PLAINTEXT: the local broker, tests and benchmarks.
KafkaAddress = KafkaConnection | str


def connection(kafka: KafkaAddress) -> KafkaConnection:
    return kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)


def client_args(kafka: KafkaAddress) -> dict[str, Any]:
    """The connection keyword arguments of an aiokafka producer, consumer or admin client."""
    conn = connection(kafka)
    args: dict[str, Any] = {
        "bootstrap_servers": conn.bootstrap,
        "security_protocol": conn.security_protocol,
    }
    if conn.security_protocol.endswith("SSL"):
        args["ssl_context"] = _ssl_context(conn.ssl_cafile, conn.ssl_certfile, conn.ssl_keyfile)
    if conn.security_protocol.startswith("SASL"):
        args["sasl_mechanism"] = conn.sasl_mechanism
        args["sasl_plain_username"] = conn.sasl_username
        args["sasl_plain_password"] = conn.sasl_password
    return args


@lru_cache(maxsize=8)
def _ssl_context(cafile: str | None, certfile: str | None, keyfile: str | None) -> ssl.SSLContext:
    # The default context verifies the broker's certificate and host name; one context serves
    # every connection of the process.
    try:
        context = ssl.create_default_context(cafile=cafile)
        if certfile:
            context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise KafkaMisconfigured(f"cannot load the Kafka TLS files: {exc}") from exc
    return context


async def start_client(client: Any, kafka: KafkaAddress, timeout: float | None) -> None:
    """Start an aiokafka client. When the broker refuses these settings, raise ``KafkaMisconfigured``
    with the reason: aiokafka only says "Unable to bootstrap", which reads like an outage and
    would be retried for minutes, while a wrong password never heals by waiting."""
    try:
        await asyncio.wait_for(client.start(), timeout)
    except KafkaConnectionError as exc:
        conn = connection(kafka)
        reason = await refusal(conn, timeout or 10.0)
        if reason is None:
            raise
        raise KafkaMisconfigured(f"Kafka at {conn.description} refused this client: {reason}") from exc


async def refusal(conn: KafkaConnection, timeout: float = 10.0) -> str | None:
    """Why the first bootstrap broker refuses a client with these settings; None when it does not
    (it accepts them, or it is down or busy, which waiting may cure)."""
    host, port = _first_broker(conn.bootstrap)
    args = client_args(conn)
    del args["bootstrap_servers"]
    try:
        probe = await asyncio.wait_for(
            create_conn(host, port, request_timeout_ms=int(timeout * 1000), **args), timeout
        )
    except (
        SaslAuthenticationFailed,
        AuthenticationFailedError,
        UnsupportedSaslMechanismError,
        IllegalSaslStateError,
    ) as exc:
        return f"SASL authentication failed ({exc})"
    except ssl.SSLCertVerificationError as exc:
        return f"its TLS certificate is not trusted ({exc.verify_message}); is WARTA_KAFKA_SSL_CAFILE its CA?"
    except ssl.SSLError as exc:
        return f"the TLS handshake failed ({exc.reason}); does the listener speak TLS?"
    except (KafkaError, OSError, TimeoutError):
        return await _protocol_mismatch(conn, host, port, timeout)
    probe.close()
    return None


async def _protocol_mismatch(conn: KafkaConnection, host: str, port: int, timeout: float) -> str | None:
    if conn.security_protocol.endswith("SSL"):
        if await _speaks_plaintext(host, port, timeout):
            return (
                f"the listener speaks clear text and this client expects TLS ({conn.security_protocol});"
                " is WARTA_KAFKA_SECURITY_PROTOCOL meant for another cluster?"
            )
    elif await _speaks_tls(host, port, timeout):
        return (
            f"the listener speaks TLS and this client connects in clear ({conn.security_protocol});"
            " set WARTA_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
        )
    return None


async def _speaks_plaintext(host: str, port: int, timeout: float) -> bool:
    # No credentials on this probe: it only asks the API versions, which a clear-text listener answers.
    try:
        probe = await asyncio.wait_for(
            create_conn(host, port, request_timeout_ms=int(timeout * 1000)), timeout
        )
    except (KafkaError, OSError, TimeoutError):
        return False
    probe.close()
    return True


def _first_broker(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return host.strip("[]"), int(port)


async def _speaks_tls(host: str, port: int, timeout: float) -> bool:
    # Only asks whether a TLS handshake completes; nothing is sent, so no certificate check is needed.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=context), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return True


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_producer(kafka: KafkaAddress, client_id: str, *, linger_ms: int = 2) -> AIOKafkaProducer:
    # acks=all + idempotence: 202 from ingest means every in-sync replica has the event,
    # and a producer retry can't write it twice (design.md, guarantee 1).
    return AIOKafkaProducer(
        **client_args(kafka),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        request_timeout_ms=15000,
    )


async def send_event(
    producer: AIOKafkaProducer,
    topic: str,
    key: str,
    event: BaseModel,
    *,
    partition: int | None = None,
    timeout: float = 20.0,
) -> None:
    """Send and wait for the broker's acknowledgement."""
    try:
        await asyncio.wait_for(
            producer.send_and_wait(topic, encode(event), key=key.encode(), partition=partition), timeout
        )
    except (KafkaError, TimeoutError) as exc:
        raise KafkaUnavailable(f"could not write to {topic}: {exc!r}") from exc


# How long a service waits for the broker to acknowledge its own writes before giving up. The
# idempotent producer retries inside this window; past it the service exits and its supervisor
# restarts it, and it rebuilds its state from Kafka — never carrying on with writes in limbo.
ACK_DEADLINE_S = 60.0


async def acknowledged(
    futures: Iterable[Awaitable[object]], what: str, timeout: float = ACK_DEADLINE_S
) -> None:
    """Wait for the broker to acknowledge sends already queued; ``KafkaUnavailable`` past ``timeout``."""
    try:
        await asyncio.wait_for(asyncio.gather(*futures), timeout)
    except (KafkaError, TimeoutError) as exc:
        raise KafkaUnavailable(f"{what}: no acknowledgement within {timeout:.0f} s ({exc!r})") from exc


async def ensure_topics(
    kafka: KafkaAddress, specs: Iterable[TopicSpec], timeout: float = 30.0, patience: float = 180.0
) -> list[str]:
    """Create the topics that don't exist yet; returns the names created. Safe to re-run, and
    to run from several services at once. A busy broker can time a creation out while still
    doing it, so this asks again (only for what is still missing) until ``patience`` runs out."""
    wanted = {s.name: s for s in specs}
    created: list[str] = []
    deadline = asyncio.get_running_loop().time() + patience
    delay = 1.0
    while True:
        try:
            created += await _create_missing(kafka, wanted, timeout)
            return created
        except (KafkaError, TimeoutError, OSError) as exc:
            if asyncio.get_running_loop().time() + delay > deadline:
                raise KafkaUnavailable(f"could not create topics: {exc!r}") from exc
            log.warning("creating topics failed (%r); retrying in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)


async def _create_missing(kafka: KafkaAddress, wanted: dict[str, TopicSpec], timeout: float) -> list[str]:
    admin = AIOKafkaAdminClient(**client_args(kafka), request_timeout_ms=int(timeout * 1000))
    await start_client(admin, kafka, timeout)
    try:
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if not missing:
            return []
        # One request for all of them: a broker holding thousands of topics creates them far
        # faster in a batch than one round trip each.
        response = await admin.create_topics(
            [NewTopic(s.name, s.partitions, s.replication, topic_configs=dict(s.configs)) for s in missing]
        )
        created = []
        for name, code, *_ in getattr(response, "topic_errors", ()):
            if code == 0:
                created.append(name)
            elif code != TopicAlreadyExistsError.errno:  # another service created it meanwhile
                raise KafkaError(f"creating {name} failed with error code {code}")
        return created
    finally:
        await admin.close()


async def delete_topics(kafka: KafkaAddress, prefix: str, timeout: float = 30.0) -> int:
    """Delete every topic named with ``prefix`` (test and benchmark systems clean up after
    themselves, so one broker can serve a whole test session)."""
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    admin = AIOKafkaAdminClient(**client_args(kafka), request_timeout_ms=int(timeout * 1000))
    await start_client(admin, kafka, timeout)
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
        return len(names)
    finally:
        await admin.close()


async def missing_topics(kafka: KafkaAddress, names: Iterable[str], timeout: float = 5.0) -> list[str]:
    admin = AIOKafkaAdminClient(**client_args(kafka), request_timeout_ms=int(timeout * 1000))
    await start_client(admin, kafka, timeout)
    try:
        existing = set(await asyncio.wait_for(admin.list_topics(), timeout))
        return [n for n in names if n not in existing]
    finally:
        await admin.close()


async def replay(
    kafka: KafkaAddress, partitions: Iterable[TopicPartition], *, batch_ms: int = 200
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Read the given partitions from the beginning to their current end, then stop.

    Used to rebuild state from compacted changelogs before a worker acts on a partition.
    """
    tps = list(partitions)
    if not tps:
        return
    consumer = AIOKafkaConsumer(
        **client_args(kafka), enable_auto_commit=False, isolation_level="read_committed"
    )
    await start_client(consumer, kafka, None)
    try:
        # A topic another process has just created may not be in this client's metadata yet;
        # assigning it before then leaves end_offsets waiting forever.
        await wait_for_topics(consumer, {tp.topic for tp in tps})
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        for tp in list(pending):
            if await consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=batch_ms)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()


async def wait_for_topics(consumer: AIOKafkaConsumer, topics: set[str], timeout: float = 60.0) -> None:
    """Wait until the client's metadata knows every topic (created elsewhere moments ago)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        missing = [t for t in topics if not consumer.partitions_for_topic(t)]
        if not missing:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise KafkaUnavailable(f"topics never appeared in the broker's metadata: {', '.join(missing)}")
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.2)


def dead_letter(
    record: ConsumerRecord[bytes, bytes], reason: str, *, job_id: str | None = None
) -> DeadLettered:
    raw = record.value.decode("utf-8", "replace")[:100_000] if record.value is not None else None
    return DeadLettered(
        event_id=new_event_id(),
        occurred_at=utcnow(),
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        reason=reason[:4000],
        job_id=job_id,
        raw=raw,
    )

"""How a Warta client reaches the brokers: bootstrap servers, TLS and SASL, decided in one place.

Every aiokafka producer, consumer and admin client in Warta is built from ``client_args``, so a
secured cluster cannot be reached in clear by one forgotten client. ``start_client`` starts a
client and, when the broker refuses it, says why.

Errors::

    KafkaMisconfigured   the connection settings cannot work: contradictory (found when settings are
                         read) or refused by the broker (bad password, untrusted certificate, clear
                         text to a TLS listener, or TLS to a clear-text one; found by the first
                         client a service starts, so it stops at once instead of retrying)
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from shared.json_values import digits


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
    first = _first_broker(conn.bootstrap)
    if first is None:
        return None
    host, port = first
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


def _first_broker(bootstrap: str) -> tuple[str, int] | None:
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    return (host.strip("[]"), int(port)) if host and digits(port) else None


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

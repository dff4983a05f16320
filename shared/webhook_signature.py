"""The one webhook signature Warta sends: the Standard Webhooks scheme (standardwebhooks.com).

Both the partner-webhook channel (publisher) and the console's lifecycle webhooks sign with it, so
a receiver verifies either with an off-the-shelf Standard Webhooks library::

    webhook-id:        <message id; the same on every retry of one message, so receivers dedupe on it>
    webhook-timestamp: <unix seconds>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>

The key is the secret's bytes: a ``whsec_<base64>`` secret (the form the scheme recommends)
stands for its decoded bytes; any other secret (those configured before this scheme) for its
UTF-8 bytes, which a receiver hands to the library as bytes (``Webhook(secret.encode())``).
Receivers refuse a timestamp more than five minutes from their clock, which bounds replays.

Errors::

    WebhookSecretError   a ``whsec_`` secret whose rest is not base64, or an empty secret
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300.0


class WebhookSecretError(ValueError):
    """The secret is empty, or starts with ``whsec_`` and the rest is not base64."""


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret stands for (see the module docstring)."""
    if secret.startswith(SECRET_PREFIX):
        encoded = secret[len(SECRET_PREFIX) :]
        try:
            # Unpadded base64 is accepted, as the reference library does.
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WebhookSecretError("a whsec_ secret must be base64 after the prefix") from exc
    else:
        key = secret.encode()
    if not key:
        raise WebhookSecretError("a webhook secret must not be empty")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``."""
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a signed delivery carries."""
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret_key(secret), message_id, timestamp, body),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: float = TOLERANCE_S
) -> bool:
    """What a receiver does: a recent timestamp and one matching ``v1`` signature.

    ``headers`` must look names up case-insensitively (aiohttp's and multidict's do).
    """
    message_id = headers.get(ID_HEADER, "")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    try:
        # A timestamp of more digits than any date we will see would overflow the float below.
        timestamp = int(stamp) if len(stamp) <= 12 else None
        key = secret_key(secret)
    except ValueError:
        return False
    if not message_id or timestamp is None or abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(key, message_id, timestamp, body)
    # The header may carry several space-separated signatures (a secret being rotated).
    return any(
        hmac.compare_digest(expected.encode(), candidate.encode())
        for candidate in headers.get(SIGNATURE_HEADER, "").split()
    )

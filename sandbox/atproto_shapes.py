"""AT Protocol value shapes the Bluesky fake hands out: session JWTs and CIDs, made as a PDS makes them.

- Session tokens (atproto.com/specs/xrpc "Authentication"; the reference PDS,
  ``packages/pds/src/auth-verifier.ts``): HS256 JWTs. The access token's header is
  ``{"typ": "at+jwt"}`` and its claims ``scope: com.atproto.access``, ``sub`` (the DID), ``aud``
  (the service DID), ``iat``, ``exp``; the refresh token is ``typ: refresh+jwt`` with
  ``scope: com.atproto.refresh`` and a ``jti``. Clients read ``exp`` to refresh in time, so an
  opaque string breaks them.
- CIDs (atproto.com/specs/data-model "Link and CID Formats"): CIDv1, sha-256 multihash, codec
  ``raw`` (0x55) for blobs and ``dag-cbor`` (0x71) for records, written base32 lower-case with
  the ``b`` multibase prefix.
- TIDs (atproto.com/specs/tid): 13 characters of base32-sortable, the record keys of posts and
  the revisions of a repository. The fake encodes its id counter (sandbox/ids.py) where a PDS
  encodes a microsecond clock, so its TIDs sort in the order they were made, across restarts too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import orjson

RAW_CODEC = 0x55
DAG_CBOR_CODEC = 0x71


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def session_jwt(
    key: bytes, *, did: str, audience: str, refresh: bool, issued: datetime, expires: datetime
) -> str:
    header = {"typ": "refresh+jwt" if refresh else "at+jwt", "alg": "HS256"}
    claims: dict[str, object] = {
        "scope": "com.atproto.refresh" if refresh else "com.atproto.access",
        "sub": did,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    if refresh:
        claims["jti"] = _b64url(secrets.token_bytes(32))
    signing_input = f"{_b64url(orjson.dumps(header))}.{_b64url(orjson.dumps(claims))}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
TID_LENGTH = 13


def tid(n: int) -> str:
    """``n`` (0 <= n < 2**63, the TID's top bit is 0) as a TID."""
    if not 0 <= n < 2**63:
        raise ValueError(f"a TID holds 0 <= n < 2**63, not {n}")
    chars = []
    for _ in range(TID_LENGTH):
        n, digit = divmod(n, 32)
        chars.append(_BASE32_SORTABLE[digit])
    return "".join(reversed(chars))


def cid_for(data: bytes, codec: int = RAW_CODEC) -> str:
    """A CIDv1 string: version 1, the codec, multihash sha2-256 (0x12) of 32 bytes (0x20)."""
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")

"""Warta's webhook signature is the Standard Webhooks scheme, judged by its reference library."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.console.webhooks import WebhookConfigError, load_subscribers
from shared.webhook_signature import (
    WebhookSecretError,
    secret_key,
    signature,
    signed_headers,
    verify,
)

BODY = b'{"type":"published","job_id":"c1:instagram"}'
WHSEC = "whsec_" + base64.b64encode(b"sixteen byte key").decode()


def now() -> int:
    # Read when each test runs: the reference library refuses a timestamp five minutes old, and a
    # module-level value ages while the rest of the suite runs.
    return int(datetime.now(UTC).timestamp())


@pytest.mark.parametrize(
    ("secret", "receiver_key"),
    [
        (WHSEC, WHSEC),  # the recommended form: the library takes the secret string as is
        ("a-plain-shared-secret", b"a-plain-shared-secret"),  # an older secret: its UTF-8 bytes
    ],
)
def test_the_reference_library_verifies_what_we_sign(secret: str, receiver_key: str | bytes) -> None:
    headers = signed_headers(secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now(), BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    Webhook(receiver_key).verify(BODY, headers, json_parse=False)  # raises if it disagrees
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver_key).verify(BODY + b" ", headers, json_parse=False)


def test_we_verify_what_the_reference_library_signs() -> None:
    at = now()
    when = datetime.fromtimestamp(at, UTC)
    theirs = Webhook(WHSEC).sign("msg_1", when, BODY.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(at), "webhook-signature": theirs}
    assert verify(WHSEC, headers, BODY, now=at)
    assert theirs == signature(secret_key(WHSEC), "msg_1", at, BODY)


def test_the_scheme_documents_example() -> None:
    # The worked example of the Standard Webhooks specification (spec/standard-webhooks.md).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(secret_key(secret), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def _headers(**change: str) -> dict[str, str]:
    return {**signed_headers("k" * 20, "dlv-1", 1_800_000_000, BODY), **change}


@pytest.mark.parametrize(
    ("headers", "body", "secret", "now", "accepted"),
    [
        (_headers(), BODY, "k" * 20, 1_800_000_010, True),
        (_headers(), BODY + b" ", "k" * 20, 1_800_000_010, False),  # tampered body
        (_headers(), BODY, "x" * 20, 1_800_000_010, False),  # another secret
        (_headers(), BODY, "k" * 20, 1_800_000_000 + 3600, False),  # replayed an hour later
        (_headers(**{"webhook-id": "dlv-2"}), BODY, "k" * 20, 1_800_000_010, False),  # id swapped
        (_headers(**{"webhook-timestamp": "garbage"}), BODY, "k" * 20, 1_800_000_000, False),
        (_headers(**{"webhook-timestamp": "9" * 400}), BODY, "k" * 20, 1_800_000_000, False),
        (_headers(**{"webhook-signature": "garbage"}), BODY, "k" * 20, 1_800_000_000, False),
        ({}, BODY, "k" * 20, 1_800_000_000, False),
    ],
)
def test_what_a_receiver_accepts(
    headers: dict[str, str], body: bytes, secret: str, now: float, accepted: bool
) -> None:
    assert verify(secret, headers, body, now=now) is accepted


def test_a_rotated_secret_verifies_against_any_listed_signature() -> None:
    headers = _headers()
    old = signed_headers("o" * 20, "dlv-1", 1_800_000_000, BODY)["webhook-signature"]
    headers["webhook-signature"] = f"{old} {headers['webhook-signature']}"
    assert verify("k" * 20, headers, BODY, now=1_800_000_000)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", ""])
def test_an_unusable_secret_is_refused(secret: str) -> None:
    with pytest.raises(WebhookSecretError):
        secret_key(secret)


def test_a_subscribers_file_with_a_malformed_whsec_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n  - {name: a, url: 'https://a.example/hook', secret: 'whsec_not base64!'}\n"
    )
    with pytest.raises(WebhookConfigError, match="base64"):
        load_subscribers(path)

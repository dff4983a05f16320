"""Reconciling by re-sending under an idempotency key: safe only inside the key's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.publisher.adapters.key_window import KeyWindow
from services.publisher.adapters.port import Credentials, NotSupported, PublishRequest, Target
from shared.events import Content

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TARGET = Target(channel="c", account="a", base_url="https://example.test/", credentials=Credentials("t"))
OTHER = Target(channel="d", account="b", base_url="https://example.test", credentials=Credentials("t"))


def request(first_attempt_at: datetime | None = None) -> PublishRequest:
    return PublishRequest("job", 1, Content(text="hello"), "m1", first_attempt_at=first_attempt_at)


LATE = timedelta(seconds=1)
HALF = timedelta(minutes=30)


@pytest.mark.parametrize(
    ("noted", "first_attempt_at", "now", "code"),
    [
        (None, None, T0, "idempotency_window_unknown"),  # nothing tells when it was first sent
        (T0, None, T0 + HOUR, None),  # noted here, and the window's last moment
        (T0, None, T0 + HOUR + LATE, "idempotency_window_passed"),
        (None, T0, T0 + HOUR, None),  # after a restart, the publisher's first attempt bounds it
        (T0 + HALF, T0, T0 + HOUR + LATE, "idempotency_window_passed"),  # the earlier one counts
        (T0, T0 + HALF, T0 + HOUR + LATE, "idempotency_window_passed"),
    ],
)
def test_a_resend_is_safe_only_within_the_window(
    noted: datetime | None, first_attempt_at: datetime | None, now: datetime, code: str | None
) -> None:
    keys = KeyWindow("mastodon", "Mastodon keeps a key 1 h")
    if noted is not None:
        keys.sent(TARGET, "m1", noted)
        keys.sent(TARGET, "m1", noted + HALF)  # a later send never moves the first one
    if code is None:
        keys.check_resend(TARGET, request(first_attempt_at), now, HOUR)
        return
    with pytest.raises(NotSupported) as raised:
        keys.check_resend(TARGET, request(first_attempt_at), now, HOUR)
    assert raised.value.code == code
    assert raised.value.message.startswith("mastodon: ")


def test_what_one_account_sent_says_nothing_of_another() -> None:
    keys = KeyWindow("webhook", "receivers keep a key a day")
    keys.sent(TARGET, "m1", T0)
    with pytest.raises(NotSupported) as raised:
        keys.check_resend(OTHER, request(), T0, HOUR)
    assert raised.value.code == "idempotency_window_unknown"

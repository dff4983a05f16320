"""Numbers no calendar holds, in the places platforms put times and waits.

A rate-limit reset, a flood wait, a message's date: each is turned into an instant or a delay,
and ``datetime`` raises ``OverflowError``, ``OSError`` or ``ValueError`` for one out of its range.
Raised after a post was made, that would turn a published job into a dead letter. Each adapter
must read such a reply as it reads any other (a header it cannot use is ignored; a wait is held
to ``platform_throttles.MAX_WAIT``) or refuse it with a classified ``AdapterError``.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from services.publisher.adapters.bluesky import BlueskyAdapter
from services.publisher.adapters.facebook import FacebookAdapter
from services.publisher.adapters.telegram import TelegramAdapter
from services.publisher.adapters.x import XAdapter
from shared.json_values import epoch_time
from tests.fidelity.test_tolerant_reading import request, run, target
from tests.fidelity.test_tolerant_reading_apis import (
    BSKY_CREATED,
    BSKY_SESSION,
    TG_ERROR,
    TG_MESSAGE,
    X_CREATED,
)

pytestmark = pytest.mark.fidelity

HUGE = [10**20, -(10**20), 2**63 - 1, 1e300, -1e300, 253402300800]  # the last: year 10000


@pytest.mark.parametrize("number", HUGE)
def test_epoch_time_is_none_outside_the_calendar(number: float) -> None:
    assert epoch_time(number) is None
    assert epoch_time(str(number)) is None
    assert epoch_time(number, per_second=1000) is None or abs(number) < 1e17


@pytest.mark.parametrize("number", HUGE)
def test_x_reads_a_created_post_whose_rate_headers_name_no_instant(number: float) -> None:
    headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(number)}
    run(
        {"/2/tweets": (201, X_CREATED, headers)}, lambda s, base: XAdapter(s).publish(target(base), request())
    )


@pytest.mark.parametrize("number", HUGE)
def test_bluesky_reads_a_created_record_whose_rate_headers_name_no_instant(number: float) -> None:
    headers = {"RateLimit-Limit": "5000", "RateLimit-Remaining": "1", "RateLimit-Reset": str(number)}
    run(
        {"createSession": BSKY_SESSION, "createRecord": (200, BSKY_CREATED, headers)},
        lambda s, base: BlueskyAdapter(s).publish(target(base, did="did:plc:abc123"), request()),
    )


@pytest.mark.parametrize("number", HUGE)
def test_telegram_reads_a_sent_message_dated_outside_the_calendar(number: float) -> None:
    body = {**TG_MESSAGE, "result": {**cast(dict[str, Any], TG_MESSAGE["result"]), "date": number}}
    run(
        {"/sendMessage": body},
        lambda s, base: TelegramAdapter(s).publish(target(base, chat_id="@warta_demo"), request()),
    )


@pytest.mark.parametrize("number", HUGE)
def test_telegram_holds_a_flood_wait_of_any_size(number: float) -> None:
    body = {**TG_ERROR, "parameters": {"retry_after": number}}
    run(
        {"/sendMessage": (429, body, {})},
        lambda s, base: TelegramAdapter(s).publish(target(base, chat_id="@warta_demo"), request()),
    )


@pytest.mark.parametrize("number", HUGE)
def test_graph_holds_a_usage_header_s_regain_time_of_any_size(number: float) -> None:
    usage = '{"1010": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": %s}]}'
    headers = {"X-Business-Use-Case-Usage": usage % int(number)}
    throttled = {"error": {"message": "(#32) Page request limit reached", "code": 32}}
    run(
        {"/feed": (400, throttled, headers)},
        lambda s, base: FacebookAdapter(s).publish(target(base), request()),
    )

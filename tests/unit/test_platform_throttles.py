"""What a platform's answer says about waiting, read the same way by the publisher and the inbox."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.publisher.adapters.graph import graph_error
from services.publisher.adapters.port import RateLimited, Temporary
from shared.json_values import as_int, digits, whole
from shared.outbound_http import Reply
from shared.platform_throttles import MAX_WAIT, graph_code, retry_after, throttled, youtube_reason

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "body", "waits"),
    [
        (400, {"error": {"code": 17}}, True),
        (400, {"error": {"code": "32"}}, True),
        (400, {"error": {"code": 80002, "is_transient": False}}, True),  # Instagram's BUC limit
        (400, {"error": {"code": 80001}}, True),
        (400, {"error": {"code": 190}}, False),
        (400, {"error": {"code": True}}, False),
        (400, {"error": "code 4"}, False),
        (403, {"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}]}}, True),
        (403, {"error": {"code": 403, "errors": [{"reason": "dailyLimitExceeded"}]}}, True),
        (403, {"error": {"code": 403, "errors": ["quotaExceeded"]}}, False),
        (429, None, True),
        (502, "<html>", True),
        (404, [], False),
    ],
)
def test_a_throttle_is_read_from_the_decoded_body(status: int, body: object, waits: bool) -> None:
    assert throttled(status, body) is waits


def test_codes_and_reasons_of_any_shape_read_as_none() -> None:
    assert graph_code({"error": {"code": "\u00b2"}}) is None
    assert graph_code({"error": {"code": 4.5}}) is None
    assert youtube_reason({"error": {"errors": [{"reason": 7}]}}) is None
    assert youtube_reason({"error": {"errors": "x"}}) is None


def test_the_publisher_parks_an_instagram_usage_limit_as_a_wait_not_a_failure() -> None:
    body = b'{"error":{"message":"Application request limit reached","code":80002,"is_transient":false}}'
    found = graph_error("instagram", Reply(400, {}, body), NOW)  # type: ignore[arg-type]
    assert isinstance(found, RateLimited)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Fri, 04 Dec 2026 03:02:00 GMT", 120.0),
        ("Fri, 04 Dec 2026 02:00:00 GMT", 0.0),  # a date already past: no wait
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_WAIT),
        ("9" * 400, MAX_WAIT),
        ("\u00b2", None),  # str.isdigit takes it; int() and float() do not
        ("-5", None),
        ("1e400", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_is_either_rfc_form_held_within_a_week(header: str, seconds: float | None) -> None:
    assert retry_after({"Retry-After": header}, NOW) == seconds


@given(st.text(max_size=60))
def test_no_retry_after_header_raises_or_leaves_the_range(header: str) -> None:
    wait = retry_after({"Retry-After": header}, NOW)
    assert wait is None or 0.0 <= wait <= MAX_WAIT


@given(st.floats(allow_nan=True, allow_infinity=True) | st.none())
def test_a_platform_wait_of_any_size_stays_a_datetime_away(seconds: float | None) -> None:
    held = Temporary("x", retry_after=seconds).retry_after
    if seconds is None or math.isnan(seconds):
        assert held is None
    else:
        assert held is not None
        assert 0.0 <= held <= MAX_WAIT
        assert NOW + timedelta(seconds=held) >= NOW  # a retry's time, with no OverflowError


@given(st.text(max_size=12))
def test_whole_numbers_are_ascii_digits_only(text: str) -> None:
    if digits(text):
        assert int(text) >= 0
    value = as_int(text)
    assert value is None or value == int(text.strip())


@given(st.text(alphabet="0123456789²٣ -", max_size=30) | st.just("9" * 4400))
def test_a_query_s_whole_number_never_raises(text: str) -> None:
    value = whole(text)
    assert value is None or (str(value) == text.lstrip("0") or value == 0)

"""Dates at the edges of time: year 1 and year 9999 are refused as field errors (422 at the API,
``InvalidEvent`` on a topic), never an OverflowError; not_before and deadline keep within the
scheduling horizon of now."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import make_mocked_request

from services.console.http_api import _day
from services.ingest.request_params import parse_cursor, parse_query_instant
from services.ingest.validation import validate_submission
from shared.codec import InvalidEvent, decode, encode
from shared.events import EARLIEST_INSTANT, LATEST_INSTANT, ContentApproved
from shared.horizon import DEFAULT_HORIZON
from shared.http_errors import ValidationFailed
from tests.unit.test_validation import CHANNELS, NOW, valid_body

YEAR_9999_WEST = "9999-12-31T23:00:00-01:00"  # past datetime.max once converted to UTC
YEAR_9999_UTC = "9999-12-31T23:00:00+00:00"
YEAR_1_EAST = "0001-01-01T00:00:00+01:00"  # before datetime.min once converted to UTC


def errors_of(body: dict[str, Any], **kw: Any) -> set[tuple[str | None, str]]:
    with pytest.raises(ValidationFailed) as info:
        validate_submission(body, CHANNELS, NOW, **kw)
    for e in info.value.errors:
        assert e.message
    return {(e.field, e.rule) for e in info.value.errors}


def with_times(**times: Any) -> dict[str, Any]:
    body = copy.deepcopy(valid_body())
    for name, value in times.items():
        if name == "approved_at":
            body["approval"]["approved_at"] = value
        else:
            body[name] = value
    return body


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        pytest.param({"not_before": YEAR_9999_UTC}, {("not_before", "out_of_range")}, id="nb-9999"),
        pytest.param(
            {"not_before": YEAR_9999_WEST, "deadline": None},
            {("not_before", "out_of_range")},
            id="nb-9999-west",
        ),
        pytest.param({"deadline": YEAR_9999_WEST}, {("deadline", "out_of_range")}, id="deadline-9999-west"),
        pytest.param({"deadline": YEAR_9999_UTC}, {("deadline", "out_of_range")}, id="deadline-9999"),
        pytest.param(
            {"deadline": "2100-01-01T00:00:00+07:00"}, {("deadline", "beyond_horizon")}, id="deadline-2100"
        ),
        pytest.param({"not_before": YEAR_1_EAST}, {("not_before", "out_of_range")}, id="nb-year-1-east"),
        pytest.param(
            {"approved_at": YEAR_1_EAST}, {("approval.approved_at", "out_of_range")}, id="approved-year-1"
        ),
        pytest.param(
            {"not_before": "1969-12-31T23:59:59+00:00"}, {("not_before", "out_of_range")}, id="nb-before-1970"
        ),
        pytest.param(
            {"not_before": (NOW + DEFAULT_HORIZON + timedelta(minutes=1)).isoformat(), "deadline": None},
            {("not_before", "beyond_horizon")},
            id="nb-just-past-the-horizon",
        ),
        pytest.param(
            {"not_before": (NOW - DEFAULT_HORIZON - timedelta(minutes=1)).isoformat()},
            {("not_before", "beyond_horizon")},
            id="nb-too-long-ago",
        ),
    ],
)
def test_dates_out_of_bounds_are_field_errors(times: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert errors_of(with_times(**times)) == expected


def test_dates_within_the_horizon_pass() -> None:
    body = with_times(
        not_before=(NOW + DEFAULT_HORIZON - timedelta(days=2)).isoformat(),
        deadline=(NOW + DEFAULT_HORIZON).isoformat(),
    )
    assert validate_submission(body, CHANNELS, NOW).request.deadline is not None


def test_the_horizon_is_a_parameter() -> None:
    body = with_times(not_before=(NOW + timedelta(days=40)).isoformat(), deadline=None)
    validate_submission(body, CHANNELS, NOW)
    assert errors_of(body, horizon=timedelta(days=30)) == {("not_before", "beyond_horizon")}


def test_a_draft_with_year_9999_is_refused_too() -> None:
    body = with_times(deadline=YEAR_9999_WEST)
    del body["approval"]
    assert errors_of(body, require_approval=False) == {("deadline", "out_of_range")}


# --- the event contract ---------------------------------------------------------------------------


def approved(**fields: Any) -> dict[str, Any]:
    submission = validate_submission(valid_body(), CHANNELS, NOW)
    event = submission.approved_event(content_id="c1", event_id="e1", occurred_at=NOW, submitted_by="yuyun")
    return {**orjson.loads(encode(event)), **fields}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("not_before", YEAR_9999_WEST),
        ("not_before", YEAR_9999_UTC),
        ("deadline", YEAR_9999_WEST),
        ("not_before", YEAR_1_EAST),
        ("occurred_at", "0001-01-01T00:00:00+00:00"),
        ("deadline", LATEST_INSTANT.isoformat()),
    ],
)
def test_a_record_with_such_a_date_is_an_invalid_event(field: str, value: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        decode(orjson.dumps(approved(**{field: value})))
    assert field in str(info.value)
    assert "2200-01-01" in str(info.value)


def test_the_range_is_wide_enough_for_any_real_schedule() -> None:
    event = decode(orjson.dumps(approved(not_before="2199-12-31T23:59:59+00:00")))
    assert isinstance(event, ContentApproved)
    assert EARLIEST_INSTANT < NOW < LATEST_INSTANT - timedelta(days=365 * 170)


# --- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (YEAR_1_EAST, "out_of_range"),
        (YEAR_9999_WEST, "out_of_range"),
        ("2026-11-27T08:00:00", "offset_required"),
        ("yesterday", "type"),
    ],
)
def test_query_instants(value: str, rule: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_query_instant("from", value)
    assert [(e.field, e.rule) for e in info.value.errors] == [("from", rule)]


def test_a_query_instant_with_an_unescaped_plus() -> None:
    assert parse_query_instant("to", "2026-11-27T08:00:00 08:00") == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["²", "١٢", "-1", "1.5", "", "abc", "9" * 5000])
def test_a_cursor_is_ascii_digits(value: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_cursor(value)
    assert [(e.field, e.rule) for e in info.value.errors] == [("cursor", "type")]


def test_a_cursor() -> None:
    assert parse_cursor("150") == 150


# --- the console's day --------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_the_consoles_day_keeps_to_the_instants_range(day: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        _day(make_mocked_request("GET", f"/v1/plan?channel=x-demo&day={day}"))
    assert [(e.field, e.rule) for e in info.value.errors] == [("day", "out_of_range")]


def test_the_consoles_last_day() -> None:
    assert _day(make_mocked_request("GET", "/v1/plan?day=2199-12-31")) == date(2199, 12, 31)

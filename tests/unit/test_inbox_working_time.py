"""Indonesian working time: office hours, holidays and cuti bersama, counted in WIB/WITA/WIT."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.inbox.errors import BadCalendar
from services.inbox.working_calendar import load_working_hours
from services.inbox.working_time import (
    NoWorkingDay,
    WorkingHours,
    add_working_days,
    add_working_time,
    is_working_time,
    working_time_between,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "calendar.yaml"
HOURS = load_working_hours(DEPLOY, time(8), time(16))
WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
ZONES = {"WIB": WIB, "WITA": WITA, "WIT": WIT}
FIXED = {
    "WIB": timezone(timedelta(hours=7)),
    "WITA": timezone(timedelta(hours=8)),
    "WIT": timezone(timedelta(hours=9)),
}


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


# -- the calendar file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "off"),
    [
        (date(2026, 6, 1), True),  # Hari Lahir Pancasila
        (date(2026, 3, 20), True),  # cuti bersama Idul Fitri
        (date(2026, 3, 24), True),  # cuti bersama Idul Fitri
        (date(2026, 12, 24), True),  # cuti bersama Natal
        (date(2027, 3, 26), True),  # Wafat Isa Almasih 2027
        (date(2027, 5, 6), True),  # Kenaikan Isa Almasih 2027
        (date(2026, 2, 25), False),  # a Ramadan Wednesday: the office works
        (date(2026, 7, 1), False),  # school holidays: the office works
    ],
)
def test_the_deployed_calendar_marks_holidays_and_cuti_bersama_as_days_off(day: date, off: bool) -> None:
    assert (day in HOURS.days_off) is off


def test_an_unreadable_calendar_is_refused_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "calendar.yaml"
    bad.write_text("periods: [{name: x, start: not-a-date, end: 2026-01-01, day_off: true}]\n")
    with pytest.raises(BadCalendar, match=r"calendar\.yaml"):
        load_working_hours(bad, time(8), time(16))


# -- tables of known dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "n", "due"),
    [
        # Friday before the Pancasila Monday: Tue, Wed, Thu → Thursday at closing time.
        (wib(2026, 5, 29, 10, 0), 3, wib(2026, 6, 4, 16, 0)),
        # After hours on that Friday: the day still counts as day 0.
        (wib(2026, 5, 29, 22, 0), 3, wib(2026, 6, 4, 16, 0)),
        # Before Nyepi and Lebaran 2026: 18-24 March are off (holidays, weekend, cuti bersama).
        (wib(2026, 3, 17, 14, 0), 3, wib(2026, 3, 27, 16, 0)),
        # A Saturday complaint: Monday is the first working day.
        (wib(2026, 12, 5, 9, 0), 1, wib(2026, 12, 7, 16, 0)),
        # Christmas 2026: 24 and 25 off, 28 the first working day.
        (wib(2026, 12, 23, 9, 0), 1, wib(2026, 12, 28, 16, 0)),
        # 28-31 December, then 1 January off and a weekend: Monday 4 January is the fifth.
        (wib(2026, 12, 23, 9, 0), 5, wib(2027, 1, 4, 16, 0)),
    ],
)
def test_deadlines_in_working_days(recorded: datetime, n: int, due: datetime) -> None:
    assert add_working_days(HOURS, recorded, n, WIB) == due


@pytest.mark.parametrize(
    ("at_utc", "expected"),
    [
        # Friday 4 December 2026, 08:30 UTC = 15:30 WIB, 16:30 WITA, 17:30 WIT.
        (datetime(2026, 12, 4, 8, 30, tzinfo=UTC), {"WIB": True, "WITA": False, "WIT": False}),
        # 00:30 UTC = 07:30 WIB, 08:30 WITA, 09:30 WIT.
        (datetime(2026, 12, 4, 0, 30, tzinfo=UTC), {"WIB": False, "WITA": True, "WIT": True}),
        # Saturday: nobody works.
        (datetime(2026, 12, 5, 3, 0, tzinfo=UTC), {"WIB": False, "WITA": False, "WIT": False}),
        # 16:00 sharp WIB is closing time, not office time.
        (datetime(2026, 12, 4, 9, 0, tzinfo=UTC), {"WIB": False, "WITA": False, "WIT": False}),
    ],
)
def test_working_time_is_the_channel_s_local_time(at_utc: datetime, expected: dict[str, bool]) -> None:
    assert {name: is_working_time(HOURS, at_utc, zone) for name, zone in ZONES.items()} == expected


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (wib(2026, 12, 4, 15, 0), wib(2026, 12, 7, 9, 0), 2),  # over a weekend
        (wib(2026, 12, 23, 15, 0), wib(2026, 12, 28, 9, 0), 2),  # over Christmas and cuti bersama
        (wib(2026, 12, 4, 18, 0), wib(2026, 12, 4, 23, 0), 0),  # a Friday evening
        (wib(2026, 12, 7, 9, 0), wib(2026, 12, 7, 8, 0), 0),  # the end before the start
    ],
)
def test_working_hours_between_known_instants(start: datetime, end: datetime, hours: int) -> None:
    assert working_time_between(HOURS, start, end, WIB) == timedelta(hours=hours)


def test_a_calendar_without_working_days_is_refused_not_looped() -> None:
    with pytest.raises(NoWorkingDay):
        add_working_days(WorkingHours(weekdays=frozenset()), wib(2026, 1, 5, 9), 1, WIB)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        is_working_time(HOURS, datetime(2026, 12, 4, 9), WIB)


# -- properties -------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2028, 11, 30), timezones=st.just(UTC)
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200))
zone_names = st.sampled_from(sorted(ZONES))


@settings(max_examples=150, deadline=None)
@given(at=instants, span=spans, zone=zone_names)
def test_adding_working_time_then_measuring_it_round_trips(at: datetime, span: timedelta, zone: str) -> None:
    later = add_working_time(HOURS, at, span, ZONES[zone])
    assert later >= at
    assert working_time_between(HOURS, at, later, ZONES[zone]) == span


@settings(max_examples=150, deadline=None)
@given(a=instants, b=instants, span=spans, zone=zone_names)
def test_working_time_is_monotone(a: datetime, b: datetime, span: timedelta, zone: str) -> None:
    a, b = min(a, b), max(a, b)
    z = ZONES[zone]
    assert add_working_time(HOURS, a, span, z) <= add_working_time(HOURS, b, span, z)
    start = a - timedelta(days=3)
    assert working_time_between(HOURS, start, a, z) <= working_time_between(HOURS, start, b, z)
    assert working_time_between(HOURS, a, b, z) <= b - a


@settings(max_examples=150, deadline=None)
@given(at=instants, zone=zone_names)
def test_weekends_and_days_off_never_count(at: datetime, zone: str) -> None:
    z = ZONES[zone]
    day = at.astimezone(z).date()
    whole = working_time_between(
        HOURS, datetime.combine(day, time(0), z), datetime.combine(day + timedelta(days=1), time(0), z), z
    )
    if day.weekday() >= 5 or day in HOURS.days_off:
        assert whole == timedelta(0)
        assert not is_working_time(HOURS, at, z)
    else:
        assert whole == timedelta(hours=8)


@settings(max_examples=100, deadline=None)
@given(at=instants, n=st.integers(min_value=1, max_value=15), zone=zone_names)
def test_a_deadline_of_n_working_days_closes_the_n_th_working_day(at: datetime, n: int, zone: str) -> None:
    z = ZONES[zone]
    due = add_working_days(HOURS, at, n, z).astimezone(z)
    assert due.time() == time(16)
    assert HOURS.is_working_day(due.date())
    first = at.astimezone(z).date()
    between = [first + timedelta(days=i) for i in range(1, (due.date() - first).days + 1)]
    assert sum(HOURS.is_working_day(d) for d in between) == n


@settings(max_examples=100, deadline=None)
@given(a=instants, b=instants, zone=zone_names)
def test_indonesian_zones_keep_no_daylight_saving(a: datetime, b: datetime, zone: str) -> None:
    # The IANA zones and their fixed offsets give the same answers: no instant is skipped or doubled.
    assert working_time_between(HOURS, a, b, ZONES[zone]) == working_time_between(HOURS, a, b, FIXED[zone])
    assert is_working_time(HOURS, a, ZONES[zone]) == is_working_time(HOURS, a, FIXED[zone])

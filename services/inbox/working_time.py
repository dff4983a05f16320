"""Indonesian working time: which instants are office hours, and deadlines counted in them (pure).

Public-service deadlines in Indonesia are counted in working days (*hari kerja*): SP4N-LAPOR!
forwards a complaint within 3, answers within 5 and closes 10 after the answer (PermenPANRB
62/2018). A working day is a weekday (Monday-Friday, Perpres 21/2023 on ASN working days) that is
neither a national holiday nor a *cuti bersama* day of the year's SKB (``deploy/calendar.yaml``,
the entries marked ``day_off``). Days and hours are the channel's local ones (WIB Asia/Jakarta,
WITA Asia/Makassar, WIT Asia/Jayapura): a comment written at 16:30 WIB is after hours in Jakarta
and inside them in Jayapura (18:30 WIT is not: both are after hours).

- ``is_working_time(hours, at, zone)``: whether ``at`` falls inside a working day's office hours.
- ``working_time_between(hours, start, end, zone)``: the office hours elapsed from ``start`` to
  ``end`` (zero when ``end`` is not after ``start``); weekends, days off and nights never count.
- ``add_working_time(hours, at, span, zone)``: the instant when ``span`` office hours have passed
  since ``at``, so ``working_time_between(at, add_working_time(at, span)) == span``.
- ``add_working_days(hours, at, n, zone)``: the end of office hours on the ``n``-th working day
  after ``at``'s local day (*H+n hari kerja*): a complaint recorded on Friday before a holiday
  Monday is due by the close of Thursday with n = 3, whatever hour it came on Friday.

Indonesia keeps no daylight saving, so local office hours are a fixed stretch of UTC in every
zone used here; any IANA zone works, the hours are taken as wall-clock times of each local day.
Results are UTC instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# Perpres 21/2023 sets 37.5 hours a week for ASN; each agency fixes its own daily hours, so the
# window is a setting. 08:00-16:00 is the common office day of regional governments.
DEFAULT_START = time(8, 0)
DEFAULT_END = time(16, 0)
WEEKDAYS = frozenset(range(5))  # Monday = 0 … Friday = 4
# No calendar has a year without a working day; a search past this many days means one does.
_SEARCH_DAYS = 3660


class NoWorkingDay(ValueError):
    """The calendar leaves no working day within ten years (every weekday a day off, or an empty
    office-hours window): no deadline can be counted in it."""


@dataclass(frozen=True)
class WorkingHours:
    """Office hours: the weekdays worked, the daily window, the days off (holidays, cuti bersama)."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    start: time = DEFAULT_START
    end: time = DEFAULT_END
    weekdays: frozenset[int] = WEEKDAYS

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"office hours end ({self.end}) must be after they start ({self.start})")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.days_off

    def window(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """The office hours of the local ``day`` (whether or not it is a working day)."""
        return datetime.combine(day, self.start, zone), datetime.combine(day, self.end, zone)


def days_off_of(periods: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Every day of each (first, last) inclusive period."""
    days: set[date] = set()
    for first, last in periods:
        days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return frozenset(days)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("working time is counted between aware instants, not naive ones")
    return at.astimezone(UTC)


def _working_windows(hours: WorkingHours, first: date, zone: tzinfo) -> Iterator[tuple[datetime, datetime]]:
    """The office hours of every working day from the local day ``first`` on."""
    for i in range(_SEARCH_DAYS):
        day = first + timedelta(days=i)
        if hours.is_working_day(day):
            yield hours.window(day, zone)
    raise NoWorkingDay(f"no working day in the {_SEARCH_DAYS} days from {first}")


def is_working_time(hours: WorkingHours, at: datetime, zone: tzinfo) -> bool:
    local = _utc(at).astimezone(zone)
    if not hours.is_working_day(local.date()):
        return False
    opens, closes = hours.window(local.date(), zone)
    return opens <= local < closes


def working_time_between(hours: WorkingHours, start: datetime, end: datetime, zone: tzinfo) -> timedelta:
    start, end = _utc(start), _utc(end)
    total = timedelta(0)
    if end <= start:
        return total
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    while day <= last:
        if hours.is_working_day(day):
            opens, closes = hours.window(day, zone)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def add_working_time(hours: WorkingHours, at: datetime, span: timedelta, zone: tzinfo) -> datetime:
    at = _utc(at)
    if span < timedelta(0):
        raise ValueError("a span of working time is not negative")
    if span == timedelta(0):
        return at
    left = span
    for opens, closes in _working_windows(hours, at.astimezone(zone).date(), zone):
        lo = max(opens, at)
        if closes <= lo:
            continue
        if left <= closes - lo:
            return (lo + left).astimezone(UTC)
        left -= closes - lo
    raise AssertionError("unreachable: _working_windows raises when it runs out")  # pragma: no cover


def add_working_days(hours: WorkingHours, at: datetime, n: int, zone: tzinfo) -> datetime:
    if n < 1:
        raise ValueError("a deadline is at least one working day away")
    first = _utc(at).astimezone(zone).date() + timedelta(days=1)
    for count, (_, closes) in enumerate(_working_windows(hours, first, zone), start=1):
        if count == n:
            return closes.astimezone(UTC)
    raise AssertionError("unreachable: _working_windows raises when it runs out")  # pragma: no cover

"""The public calendar: which audience regime an instant falls in (Ramadan, a holiday, or none).

Audiences change with the calendar (slot-world.md, "Seasons and the public calendar"): in Ramadan
the day turns around, on holidays people are home. A channel's engagement model keeps one model
per regime (model.py), so a month of Ramadan does not blur the ordinary weeks' hours and the next
Ramadan starts from what the last one taught. The dates are public: production reads them from
``deploy/calendar.yaml`` (``load_calendar``), the bench from the world's ``calendar``.

Period names are free text; ``regime_of`` maps them to the few regimes that have their own
model. Names it does not know (an election silence, say) are kept but change no audience model.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from services.scheduler.policy.rules import InvalidRequest, to_us

RAMADAN = "ramadan"
HOLIDAY = "holiday"
SCHOOL_HOLIDAY = "school_holiday"
REGIMES = (RAMADAN, HOLIDAY, SCHOOL_HOLIDAY)
# Public holidays people spend at home: one regime, as each lasts a day or two and recurs once a
# year, too rarely to learn each apart.
_HOLIDAY_NAMES = (
    "idul_fitri", "idul_adha", "natal", "tahun_baru", "holiday", "libur_nasional", "cuti_bersama",
    "imlek", "nyepi", "waisak", "isra_miraj", "maulid", "kenaikan", "wafat", "tahun_baru_islam",
    "kemerdekaan", "hari_buruh", "pancasila",
)  # fmt: skip


def regime_of(name: str) -> str | None:
    """The regime a calendar period's name belongs to, or None when it has no audience model."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key.startswith(RAMADAN):
        return RAMADAN
    if key.startswith(("libur_sekolah", "school")):
        return SCHOOL_HOLIDAY
    if any(key.startswith(h) for h in _HOLIDAY_NAMES):
        return HOLIDAY
    return None


@dataclass(frozen=True)
class Period:
    name: str
    start_us: int  # inclusive
    end_us: int  # exclusive
    regime: str | None


class Calendar:
    """Periods of the public calendar; where two overlap the shorter wins (a holiday in Ramadan)."""

    def __init__(self, periods: Iterable[Period] = ()) -> None:
        self.periods = sorted((p for p in periods if p.regime is not None), key=lambda p: p.start_us)
        self.all_periods = sorted(periods, key=lambda p: p.start_us)
        self._starts = [p.start_us for p in self.periods]

    @classmethod
    def from_periods(cls, periods: Iterable[tuple[str, datetime, datetime]]) -> Calendar:
        out = []
        for name, start, end in periods:
            lo, hi = to_us(start, "calendar start"), to_us(end, "calendar end")
            if hi <= lo:
                raise InvalidRequest(f"calendar period {name!r} ends before it starts")
            out.append(Period(name, lo, hi, regime_of(name)))
        return cls(out)

    def __bool__(self) -> bool:
        return bool(self.periods)

    def regime_at(self, us: int) -> str | None:
        """The regime of the instant (microseconds since the epoch), None for ordinary days."""
        i = bisect.bisect_right(self._starts, us)
        best: Period | None = None
        for p in self.periods[max(0, i - 8) : i]:  # periods are few and short; 8 back covers overlaps
            if p.start_us <= us < p.end_us and (
                best is None or p.end_us - p.start_us < best.end_us - best.start_us
            ):
                best = p
        return best.regime if best else None

    def changes_between(self, lo_us: int, hi_us: int) -> bool:
        """Whether any regime period starts or ends inside [lo, hi]."""
        return any(lo_us < p.start_us <= hi_us or lo_us < p.end_us <= hi_us for p in self.periods)


def load_calendar(path: Path, timezone: str = "Asia/Jakarta") -> Calendar:
    """``deploy/calendar.yaml``: ``sources`` by key, and ``periods`` of {name, start, end (inclusive
    dates), source (a key of ``sources``)}.

    Dates are whole local days in ``timezone`` (the national calendar is announced in WIB); the end
    date is the last day of the period.
    """
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        tz = ZoneInfo(timezone)
        sources = raw.get("sources", {})
        periods = []
        for entry in raw["periods"]:
            if entry.get("source") not in sources:
                raise InvalidRequest(
                    f"calendar period {entry.get('name')!r} names no source listed in sources"
                )
            first, last = _day(entry["start"]), _day(entry["end"])
            start = datetime.combine(first, time(0), tz)
            end = datetime.combine(last + timedelta(days=1), time(0), tz)
            periods.append((str(entry["name"]), start, end))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(f"{path}: not a calendar: {exc}") from exc
    return Calendar.from_periods(periods)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))

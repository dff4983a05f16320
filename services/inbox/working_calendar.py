"""Reads the office's working calendar: the days off of ``deploy/calendar.yaml``, office hours.

The file is the public calendar the scheduler reads for its audience regimes; the inbox takes
from it only the entries marked ``day_off: true`` (national holidays and cuti bersama), whole
local days, ``end`` inclusive. A file that cannot be read stops the start with its path and the
reason (``BadCalendar``): deadlines counted without the holidays would be silently wrong.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from services.inbox.errors import BadCalendar
from services.inbox.working_time import WorkingHours, days_off_of


def load_working_hours(path: Path, start: time, end: time) -> WorkingHours:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        periods = [
            (_day(entry["start"]), _day(entry["end"]))
            for entry in raw["periods"]
            if entry.get("day_off") is True
        ]
        return WorkingHours(days_off=days_off_of(periods), start=start, end=end)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadCalendar(f"{path}: not a working calendar: {exc}") from exc


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))

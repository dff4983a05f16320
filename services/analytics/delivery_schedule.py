"""When the weekly report is due (pure, ``now`` passed in).

Every Monday from ``send_hour`` local time (the report's zone) the previous ISO week's report is
due, once, by each configured method. A worker that was down over a Monday sends the week that
is due when it is back; weeks older than that are not sent late (the Reach page has them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.analytics.weekly import week_of


def due_week(now: datetime, zone: ZoneInfo, send_hour: int, delivered: str | None) -> str | None:
    """The week whose report is due at ``now``, or None (not yet Monday ``send_hour``:00 this
    week, or that week already ``delivered``)."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    opens = datetime(monday.year, monday.month, monday.day, send_hour, tzinfo=zone)
    # Before this week's sending hour, last Monday's delivery (of the week before) is the one due.
    if local < opens:
        monday -= timedelta(weeks=1)
    week = week_of(monday - timedelta(weeks=1))
    if delivered is not None and delivered >= week:
        return None
    return week

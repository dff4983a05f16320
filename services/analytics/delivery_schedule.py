"""When the weekly report is due (pure, ``now`` passed in).

Every Monday from ``send_hour`` local time (the report's zone) the previous ISO week's report is
due, once, by each configured method. A worker that was down over a Monday sends the week that
is due when it is back; weeks older than that are not sent late (the Reach page has them).

What was delivered is read back from the record of each delivery (``delivered_week``). A record
is believed only if it could have been written: its week is an ISO week that had ended both by
the reader's clock and when the record says it was written (a week's report goes out after it). One naming ``9999-W99``, or a week still to
come, would otherwise count every Monday until then as delivered and silence the report.

Weeks are ordered as ``(year, week)`` numbers (``week_number``), never as strings.

Errors: ``ImplausibleDelivery`` (a ``ValueError``: the record's fault, for the dead letters).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.analytics.report import BadQuery
from services.analytics.weekly import parse_week, week_bounds, week_of


class ImplausibleDelivery(ValueError):
    """A delivery record names no ISO week, or a week that had not ended at the reader's clock
    or at the instant the record gives itself."""


def week_number(week: str) -> tuple[int, int]:
    """The ``(year, week)`` of an ISO week ``2026-W49``, to order weeks by; ``BadQuery`` if it
    names none."""
    year, number, _ = parse_week(week).isocalendar()
    return year, number


def delivered_week(week: str, recorded_at: datetime, now: datetime, zone: ZoneInfo) -> tuple[int, int]:
    """The ``(year, week)`` of the week a delivery record names, the record read at ``now`` and
    saying it was written at ``recorded_at``, weeks ending in the report's ``zone``;
    ``ImplausibleDelivery`` if no report of that week can have gone out by then."""
    try:
        _, ended = week_bounds(week, zone)
    except BadQuery as exc:
        raise ImplausibleDelivery(f"the delivery record names no ISO week: {exc}") from exc
    # Both: a record written before its week was over stays impossible once the week is over.
    for instant, what in ((now, "at"), (recorded_at, "when the record says it went out,")):
        if ended > instant:
            raise ImplausibleDelivery(
                f"the delivery record names week {week}, which had not ended {what}"
                f" {instant.isoformat()} ({zone.key}): its report cannot have gone out"
            )
    return week_number(week)


def due_week(now: datetime, zone: ZoneInfo, send_hour: int, delivered: str | None) -> str | None:
    """The week whose report is due at ``now``, or None (not yet Monday ``send_hour``:00 this
    week, or that week, or a later one, already ``delivered``: a week ``delivered_week`` took)."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    opens = datetime(monday.year, monday.month, monday.day, send_hour, tzinfo=zone)
    # Before this week's sending hour, last Monday's delivery (of the week before) is the one due.
    if local < opens:
        monday -= timedelta(weeks=1)
    week = week_of(monday - timedelta(weeks=1))
    if delivered is not None and week_number(delivered) >= week_number(week):
        return None
    return week

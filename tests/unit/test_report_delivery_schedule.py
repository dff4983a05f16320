"""When the weekly report is due (a table of literal instants and a property over all of them),
which record of a delivery is believed, and how the delivery is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analytics.delivery_schedule import ImplausibleDelivery, delivered_week, due_week, week_number
from services.analytics.delivery_wiring import DeliveryMisconfigured, delivery_plan
from services.analytics.settings import AnalyticsSettings
from services.analytics.weekly import parse_week, week_of

JAKARTA = ZoneInfo("Asia/Jakarta")  # UTC+7


@pytest.mark.parametrize(
    ("now", "delivered", "due"),
    [
        (datetime(2026, 12, 6, 23, 59, tzinfo=UTC), None, "2026-W48"),  # Mon 06:59 WIB: last Monday's turn
        (datetime(2026, 12, 7, 0, 0, tzinfo=UTC), None, "2026-W49"),  # Mon 07:00 WIB
        (datetime(2026, 12, 7, 0, 0, tzinfo=UTC), "2026-W49", None),
        (datetime(2026, 12, 13, 16, 59, tzinfo=UTC), "2026-W49", None),  # Sun 23:59 WIB
        (datetime(2026, 12, 14, 0, 0, tzinfo=UTC), "2026-W49", "2026-W50"),
        (datetime(2026, 12, 21, 3, 0, tzinfo=UTC), "2026-W49", "2026-W51"),  # down a week: no backlog
        (datetime(2027, 1, 4, 0, 0, tzinfo=UTC), "2026-W52", "2026-W53"),  # 2026 has 53 ISO weeks
        (datetime(2027, 1, 11, 0, 0, tzinfo=UTC), "2026-W53", "2027-W01"),
    ],
)
def test_the_week_due(now: datetime, delivered: str | None, due: str | None) -> None:
    assert due_week(now, JAKARTA, 7, delivered) == due


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.integers(0, 23),
    st.sampled_from(["Asia/Jakarta", "Asia/Jayapura", "UTC", "America/Sao_Paulo"]),
)
def test_the_week_due_is_the_last_whole_week_before_the_latest_sending_hour(
    now: datetime, hour: int, zone_name: str
) -> None:
    zone = ZoneInfo(zone_name)
    week = due_week(now, zone, hour, None)
    assert week is not None
    monday_after = parse_week(week) + timedelta(weeks=1)
    opens = datetime(monday_after.year, monday_after.month, monday_after.day, hour, tzinfo=zone)
    assert opens <= now < opens + timedelta(weeks=1)  # the latest sending hour passed
    assert due_week(now, zone, hour, week) is None  # once delivered, nothing until next Monday
    assert due_week(now, zone, hour, week_of(parse_week(week) - timedelta(weeks=1))) == week


def test_a_method_configured_in_part_stops_the_start(tmp_path: Path) -> None:
    plan = delivery_plan(AnalyticsSettings(state_dir=tmp_path))
    assert (plan.webhook, plan.mail) == (None, None)
    with pytest.raises(DeliveryMisconfigured, match="WARTA_REPORT_WEBHOOK_SECRET"):
        delivery_plan(AnalyticsSettings(state_dir=tmp_path, report_webhook_url="https://hooks.example/r"))
    with pytest.raises(DeliveryMisconfigured, match="WARTA_REPORT_MAIL_TO"):
        delivery_plan(
            AnalyticsSettings(
                state_dir=tmp_path, smtp_host="smtp.example", report_mail_from="a@example.go.id"
            )
        )
    secrets = tmp_path / "secrets.json"
    secrets.write_text('{"smtp-laporan": {"token": "s3cret"}}')
    plan = delivery_plan(
        AnalyticsSettings(
            state_dir=tmp_path,
            smtp_host="smtp.example",
            smtp_user="laporan",
            smtp_password_secret="smtp-laporan",
            secrets_file=secrets,
            credentials_file=tmp_path / "none.vault",
            report_mail_from="laporan@example.go.id",
            report_mail_to=("pimpinan@example.go.id",),
        )
    )
    assert plan.mail is not None
    assert plan.mail.server.password == "s3cret"
    assert "s3cret" not in repr(plan.mail)


MONDAY_W50 = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)  # 08:30 in Jakarta: 2026-W49 has ended


@pytest.mark.parametrize(
    ("week", "recorded_at", "now", "taken"),
    [
        ("2026-W49", MONDAY_W50, MONDAY_W50, (2026, 49)),
        ("2026-W49", datetime(2026, 12, 6, 17, 0, tzinfo=UTC), MONDAY_W50, (2026, 49)),  # Mon 00:00 WIB
        (
            "2026-W53",
            datetime(2027, 1, 4, 3, 0, tzinfo=UTC),
            datetime(2027, 1, 4, 3, 0, tzinfo=UTC),
            (2026, 53),
        ),
        ("2026-W49", datetime(2026, 12, 6, 16, 59, tzinfo=UTC), MONDAY_W50, None),  # Sun 23:59 WIB
        ("2026-W50", MONDAY_W50, MONDAY_W50, None),  # the week under way
        ("2026-W50", MONDAY_W50, datetime(2026, 12, 21, 3, 0, tzinfo=UTC), None),  # written too soon
        ("2026-W49", MONDAY_W50, datetime(2026, 12, 6, 16, 0, tzinfo=UTC), None),  # the reader's clock
        ("9999-W99", MONDAY_W50, MONDAY_W50, None),  # no such week
        ("2027-W53", MONDAY_W50, datetime(2030, 1, 1, tzinfo=UTC), None),  # 2027 has 52
        ("0000-W01", MONDAY_W50, MONDAY_W50, None),
        ("2026-W00", MONDAY_W50, MONDAY_W50, None),
    ],
)
def test_a_delivery_record_is_believed_only_for_a_week_over_when_written_and_when_read(
    week: str, recorded_at: datetime, now: datetime, taken: tuple[int, int] | None
) -> None:
    if taken is None:
        with pytest.raises(ImplausibleDelivery):
            delivered_week(week, recorded_at, now, JAKARTA)
    else:
        assert delivered_week(week, recorded_at, now, JAKARTA) == taken


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.integers(0, 23),
    st.integers(-60, 520),
)
def test_no_record_believed_silences_the_week_due(now: datetime, hour: int, weeks_ahead: int) -> None:
    """A record believed at ``now`` names a week already over, so at most the one after the
    week due (on a Monday before the sending hour); it silences the week due only if it names
    that week or a later one, compared as (year, week)."""
    due = due_week(now, JAKARTA, hour, None)
    assert due is not None
    named = week_of(parse_week(due) + timedelta(weeks=weeks_ahead))
    try:
        delivered_week(named, now, now, JAKARTA)
    except ImplausibleDelivery:
        assert weeks_ahead > 0
        return
    assert (due_week(now, JAKARTA, hour, named) is None) == (week_number(named) >= week_number(due))
    assert weeks_ahead <= 1  # only the week due and the one under way since the last Monday

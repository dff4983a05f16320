"""Complaint records: the transition table, deadlines in working days, overdue, the figures."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.errors import KafkaTimeoutError
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from services.inbox.broker_refusal import broker_refusals
from services.inbox.complaint_metrics import ComplaintFigures
from services.inbox.complaints import (
    ComplaintRefused,
    LaporAnswer,
    advance,
    forward_retry_due,
    is_overdue,
    next_due,
    record,
)
from services.inbox.http_api import _errors as problem_middleware
from services.inbox.working_calendar import load_working_hours
from shared.events import (
    CommentAuthor,
    CommentObserved,
    ComplaintAction,
    ComplaintChanged,
    ComplaintState,
    InboxAction,
    InboxChanged,
    InboxState,
)
from shared.kafka import KafkaUnavailable

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "calendar.yaml"
HOURS = load_working_hours(DEPLOY, time(8), time(16))
WIB, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Jayapura")


def entry(channel: str = "facebook-demo") -> InboxChanged:
    at = datetime(2026, 5, 29, 2, 0, tzinfo=UTC)
    comment = CommentObserved(
        event_id="ibc1",
        occurred_at=at,
        comment_id="c1",
        post_id="p1",
        channel=channel,
        platform="facebook",
        author=CommentAuthor(id="u1", name="Warga"),
        text="Jalan rusak di depan pasar",
        created_at=at,
        via="webhook",
    )
    return InboxChanged(
        event_id="ibc1.1",
        occurred_at=at,
        comment=comment,
        version=1,
        action=InboxAction.RECEIVE,
        state=InboxState.NEW,
        by="system",
        channel=channel,
    )


def made(at: datetime, zone: ZoneInfo = WIB) -> ComplaintChanged:
    return record(entry(), "ibc1", by="rina", reason="jalan", now=at, hours=HOURS, zone=zone)


def step(
    c: ComplaintChanged,
    action: ComplaintAction,
    at: datetime,
    tracking_id: str | None = None,
    error: str | None = None,
) -> ComplaintChanged:
    lapor = LaporAnswer(tracking_id=tracking_id, error=error)
    return advance(c, action, by="rina", reason="", now=at, hours=HOURS, zone=WIB, lapor=lapor)


FRIDAY = datetime(2026, 5, 29, 3, 0, tzinfo=UTC)  # 10:00 WIB, the Friday before Pancasila Monday


def test_a_complaint_recorded_before_a_long_weekend_is_due_after_it() -> None:
    c = made(FRIDAY)
    assert c.forward_due == datetime(2026, 6, 4, 16, 0, tzinfo=WIB)  # Tue, Wed, Thu
    assert not is_overdue(c, datetime(2026, 6, 2, 9, 0, tzinfo=WIB))  # a naive count says late
    assert is_overdue(c, datetime(2026, 6, 4, 16, 1, tzinfo=WIB))


def test_the_same_instant_in_wit_closes_on_jayapura_s_clock() -> None:
    c = made(FRIDAY, WIT)
    assert c.forward_due == datetime(2026, 6, 4, 16, 0, tzinfo=WIT)


def test_the_whole_path_sets_each_deadline_from_its_own_state() -> None:
    c = made(FRIDAY)
    forwarded = step(c, ComplaintAction.FORWARD, datetime(2026, 6, 2, 2, 0, tzinfo=UTC), tracking_id="L-1")
    assert (forwarded.state, forwarded.tracking_id, forwarded.forward_attempts) == ("forwarded", "L-1", 1)
    assert forwarded.answer_due == datetime(2026, 6, 9, 16, 0, tzinfo=WIB)  # 3,4,5,8,9 June
    assert next_due(forwarded) == forwarded.answer_due
    answered = step(forwarded, ComplaintAction.ANSWER, datetime(2026, 6, 3, 2, 0, tzinfo=UTC))
    # Ten working days after 3 June: 4,5,8,9,10,11,12,15,17,18 (16 June is Tahun Baru Islam).
    assert answered.close_due == datetime(2026, 6, 18, 16, 0, tzinfo=WIB)
    closed = step(answered, ComplaintAction.CLOSE, datetime(2026, 6, 18, 2, 0, tzinfo=UTC))
    assert (closed.state, closed.version, closed.from_state) == ("closed", 4, "answered")
    assert next_due(closed) is None
    assert not is_overdue(closed, datetime(2030, 1, 1, tzinfo=UTC))


def test_a_failed_forward_stays_recorded_with_its_reason_and_counts_the_attempt() -> None:
    c = made(FRIDAY)
    failed = advance(
        c, ComplaintAction.FORWARD_FAILED, by="rina", reason="", now=FRIDAY + timedelta(hours=1),
        hours=HOURS, zone=WIB, lapor=LaporAnswer(error="LAPOR! failed (503)", retriable=True),
    )  # fmt: skip
    assert forward_retry_due(failed, FRIDAY + timedelta(hours=1, minutes=5), timedelta(minutes=5))
    assert not forward_retry_due(failed, FRIDAY + timedelta(hours=1, minutes=4), timedelta(minutes=5))
    refused = step(c, ComplaintAction.FORWARD_FAILED, FRIDAY, error="LAPOR! refused it (401)")
    assert not forward_retry_due(refused, FRIDAY + timedelta(days=9), timedelta(minutes=5))
    assert (failed.state, failed.forward_attempts, failed.last_error) == (
        "recorded",
        1,
        "LAPOR! failed (503)",
    )
    assert failed.forward_due == c.forward_due  # a failure does not move the deadline
    done = step(failed, ComplaintAction.FORWARD, FRIDAY + timedelta(hours=2), tracking_id="L-1")
    assert (done.forward_attempts, done.last_error, done.retry_forward) == (2, None, False)
    assert not forward_retry_due(done, FRIDAY + timedelta(days=9), timedelta(0))


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), ComplaintAction.ANSWER),  # not forwarded yet
        ((ComplaintAction.FORWARD,), ComplaintAction.FORWARD),  # never sent twice
        ((ComplaintAction.FORWARD,), ComplaintAction.CLOSE),  # a forwarded complaint is answered first
        ((ComplaintAction.CLOSE,), ComplaintAction.CLOSE),
    ],
)
def test_illegal_moves_are_refused(path: tuple[ComplaintAction, ...], illegal: ComplaintAction) -> None:
    c = made(FRIDAY)
    for action in path:
        c = step(c, action, FRIDAY, tracking_id="L-1")
    with pytest.raises(ComplaintRefused):
        step(c, illegal, FRIDAY, tracking_id="L-1")


actions = st.lists(st.sampled_from(list(ComplaintAction)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(path=actions, minutes=st.lists(st.integers(0, 60 * 24 * 30), min_size=8, max_size=8))
def test_any_sequence_of_actions_keeps_the_record_consistent(
    path: list[ComplaintAction], minutes: list[int]
) -> None:
    c, at = made(FRIDAY), FRIDAY
    for action, gap in zip(path, minutes, strict=False):
        at += timedelta(minutes=gap)
        try:
            after = step(c, action, at, tracking_id="L-1", error="x")
        except ComplaintRefused:
            continue
        assert after.version == c.version + 1
        assert after.from_state == c.state
        c = after
        due = next_due(c)
        assert (due is None) == (c.state == ComplaintState.CLOSED)
        if action in (ComplaintAction.FORWARD, ComplaintAction.ANSWER):
            assert due is not None
            assert due > at  # a deadline set by a change lies ahead of it
        # Forwarded once means a tracking id for good; a complaint closed unforwarded has none.
        assert (c.tracking_id == "L-1") == (c.forwarded_at is not None)


def test_the_overdue_figure_counts_per_channel_and_state() -> None:
    late = made(FRIDAY)
    fresh = made(datetime(2026, 6, 10, 2, 0, tzinfo=UTC)).model_copy(update={"complaint_id": "ibc2"})
    registry = CollectorRegistry()
    registry.register(ComplaintFigures(lambda: [late, fresh], lambda: datetime(2026, 6, 10, 3, tzinfo=UTC)))
    text = generate_latest(registry).decode()
    assert 'warta_inbox_complaints_overdue{channel="facebook-demo",state="recorded"} 1.0' in text
    assert 'warta_inbox_complaints{channel="facebook-demo",state="recorded"} 2.0' in text


@pytest.mark.parametrize(
    "failure",
    [KafkaUnavailable("writing a complaint change: no acknowledgement"), KafkaTimeoutError()],
    ids=["no-acknowledgement", "send-refused"],
)
async def test_a_change_the_broker_did_not_acknowledge_answers_503_with_retry_after(
    failure: Exception,
) -> None:
    async def unacknowledged(request: web.Request) -> web.Response:
        raise failure

    app = web.Application(middlewares=[problem_middleware, broker_refusals])
    app.router.add_post("/x", unacknowledged)
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/x")
        assert (answer.status, answer.content_type) == (503, "application/problem+json")
        assert answer.headers["Retry-After"] == "5"
        assert (await answer.json())["errors"][0]["rule"] == "broker"

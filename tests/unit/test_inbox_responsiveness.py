"""Responsiveness: the wait to a first answer, comments waiting past their channel's target, and
both as the inbox exposes them (its /metrics and its list API). The clock is passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from services.inbox.book import InboxBook
from services.inbox.http_api import create_app
from services.inbox.lifecycle import Command, decide, received, settle
from services.inbox.metrics import InboxMetrics
from services.inbox.responsiveness import (
    answer_target,
    first_answer_wait,
    waited_on,
    waiting_over_target,
    written_in_working_hours,
)
from services.inbox.working_calendar import load_working_hours
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentAuthor, CommentObserved, InboxAction, InboxChanged, ReplySettled, ReplyStatus
from shared.http_auth import KeyRecord, KeyStore, Role, digest_key
from tests.unit.inbox_app import offline_deps

A = InboxAction
T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
TWO_HOURS = timedelta(hours=2)
HOURS = load_working_hours(
    Path(__file__).resolve().parents[2] / "deploy" / "calendar.yaml", time(8), time(16)
)


def comment(cid: str, at: datetime, channel: str = "m") -> CommentObserved:
    return CommentObserved(
        event_id=f"ib-{cid}", occurred_at=at, comment_id=cid, post_id="p1", channel=channel,
        platform="mastodon", author=CommentAuthor(id="9"), text="?", created_at=at, via="poll",
    )  # fmt: skip


def opened(cid: str, at: datetime, channel: str = "m") -> InboxChanged:
    entry = received(comment(cid, at, channel), None, at)
    assert entry is not None
    return entry


def replied(
    entry: InboxChanged, at: datetime, *, override: bool = False
) -> tuple[InboxChanged, InboxChanged]:
    """The approving change and the posted one, ``at``."""
    sending = decide(
        entry, Command(A.REPLY, by="rina", text="Besok.", override=override), four_eyes=False, now=at
    )
    outcome = ReplySettled(
        event_id=f"s-{sending.event_id}", occurred_at=at, key="k", reply_id=sending.event_id,
        status=ReplyStatus.POSTED, posted_id="r1",
    )  # fmt: skip
    posted = settle(sending, outcome, at)
    assert posted is not None
    return sending, posted


def test_the_first_answer_counts_from_when_the_citizen_wrote() -> None:
    sending, posted = replied(opened("c1", T0), T0 + timedelta(minutes=45))
    assert first_answer_wait(sending, posted) == timedelta(minutes=45)
    # Only the change that posted the answer is the answer.
    assert first_answer_wait(opened("c1", T0), sending) is None


def test_a_second_answer_given_on_purpose_is_not_a_first_answer() -> None:
    _, posted = replied(opened("c1", T0), T0 + timedelta(minutes=5))
    again, posted_again = replied(posted, T0 + timedelta(hours=3), override=True)
    assert first_answer_wait(again, posted_again) is None


def test_a_refused_reply_is_no_answer_and_the_later_one_is_the_first() -> None:
    entry = opened("c1", T0)
    sending = decide(entry, Command(A.REPLY, by="rina", text="Besok."), four_eyes=False, now=T0)
    refused = ReplySettled(
        event_id="s1", occurred_at=T0, key="k", reply_id=sending.event_id,
        status=ReplyStatus.FAILED, error="too long",
    )  # fmt: skip
    back = settle(sending, refused, T0 + timedelta(minutes=1))
    assert back is not None
    assert first_answer_wait(sending, back) is None
    # The draft went back unapproved: approving it again is a plain reply without text.
    resend, posted = replied(back, T0 + timedelta(hours=1))
    assert first_answer_wait(resend, posted) == timedelta(hours=1)


def test_a_platform_clock_ahead_of_ours_never_gives_a_negative_wait() -> None:
    sending, posted = replied(opened("c1", T0 + timedelta(seconds=30)), T0)
    assert first_answer_wait(sending, posted) == timedelta(0)


def test_a_channel_may_set_its_own_target_and_a_bad_one_falls_back() -> None:
    assert answer_target(None, TWO_HOURS) == TWO_HOURS
    own = Channel(id="w", platform="whatsapp", options={"answer_target_minutes": "30"})
    assert answer_target(own, TWO_HOURS) == timedelta(minutes=30)
    for bad in ("soon", "0", "-5"):
        channel = Channel(id="w", platform="whatsapp", options={"answer_target_minutes": bad})
        assert answer_target(channel, TWO_HOURS) == TWO_HOURS


def test_only_unanswered_comments_older_than_the_target_are_waiting_too_long() -> None:
    now = T0 + timedelta(hours=3)
    old_new = opened("c1", T0)
    old_assigned = decide(
        opened("c2", T0), Command(A.ASSIGN, by="a", assignee="rina"), four_eyes=False, now=T0
    )
    old_sending, old_answered = replied(opened("c3", T0), T0 + timedelta(hours=1))
    old_closed = decide(opened("c4", T0), Command(A.CLOSE, by="a", reason="spam"), four_eyes=False, now=T0)
    young = opened("c5", now - timedelta(minutes=10))
    exactly = opened("c6", now - TWO_HOURS)
    other = opened("c7", T0, channel="x")
    entries = [old_new, old_assigned, old_sending, old_answered, old_closed, young, exactly, other]
    counts = waiting_over_target(entries, now, lambda channel: TWO_HOURS)
    # new, assigned and a reply still on its way wait; answered and closed do not.
    assert counts == {"m": 3, "x": 1}
    assert waiting_over_target(entries, now, lambda c: timedelta(hours=4) if c == "x" else TWO_HOURS) == {
        "m": 3
    }


def inbox_app(tmp_path: Path, book: InboxBook, metrics: InboxMetrics, now: datetime) -> Any:
    keys = KeyStore((KeyRecord(digest_key("k1"), "rina", Role.EDITOR, frozenset({"*"})),))
    channels = ChannelDirectory(
        channels=(
            Channel(id="m", platform="mastodon"),
            Channel(id="x", platform="x", options={"answer_target_minutes": "600"}),
            Channel(id="w", platform="whatsapp", options={"answer_target_working_hours": "true"}),
        )
    )
    deps = offline_deps(
        tmp_path, book, keys, channels, clock=lambda: now, metrics=metrics, answer_target_s=7200
    )
    deps = replace(deps, working_hours=HOURS)
    metrics.watch(book, deps.collector, deps.answer_target, lambda: now, deps.wait_of)
    return create_app(deps)


async def test_the_list_api_counts_comments_waiting_past_their_target(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=3)
    book = InboxBook()
    for entry in (opened("c1", T0), opened("c2", now), opened("c3", T0, channel="x")):
        book.apply(entry)
    app = inbox_app(tmp_path, book, InboxMetrics(CollectorRegistry()), now)
    auth = {"Authorization": "Bearer k1"}
    async with TestClient(TestServer(app)) as client:
        body = await (await client.get("/v1/inbox", headers=auth)).json()
        # c1 waits past the 2-hour default; x's own target is 10 hours.
        assert body["total"] == 3
        assert body["waiting_over_target"] == 1
        body = await (await client.get("/v1/inbox?channel=x", headers=auth)).json()
        assert body["waiting_over_target"] == 0
        body = await (await client.get("/v1/inbox?state=answered", headers=auth)).json()
        assert body["waiting_over_target"] == 0


async def test_metrics_expose_the_first_answer_histogram_and_the_waiting_gauge(tmp_path: Path) -> None:
    now = T0 + timedelta(hours=3)
    book = InboxBook()
    book.apply(opened("c1", T0))
    m = Channel(id="m", platform="mastodon")
    metrics = InboxMetrics(
        CollectorRegistry(), in_working_hours=lambda e: written_in_working_hours(m, HOURS, e)
    )
    sending, posted = replied(opened("c2", T0), T0 + timedelta(minutes=20))
    wait = first_answer_wait(sending, posted)
    assert wait is not None
    metrics.answered(posted, wait)
    # Saturday 10:00 WIB: out of office hours, its own series.
    saturday = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    sending, posted = replied(opened("c3", saturday), saturday + timedelta(hours=1))
    metrics.answered(posted, timedelta(hours=1))
    app = inbox_app(tmp_path, book, metrics, now)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/metrics")
        assert answer.status == 200
        text = await answer.text()
    yes, no = 'channel="m",in_working_hours="yes"', 'channel="m",in_working_hours="no"'
    assert f'warta_inbox_first_answer_seconds_bucket{{{yes},le="1800.0"}} 1.0' in text
    assert f'warta_inbox_first_answer_seconds_bucket{{{yes},le="900.0"}} 0.0' in text
    assert f"warta_inbox_first_answer_seconds_sum{{{yes}}} 1200.0" in text
    assert f"warta_inbox_first_answer_seconds_sum{{{no}}} 3600.0" in text
    assert 'warta_inbox_waiting_over_target{channel="m"} 1.0' in text
    # Every channel has the series, zero included, so an alert on it can resolve.
    assert 'warta_inbox_waiting_over_target{channel="x"} 0.0' in text
    assert 'warta_inbox_entries{channel="m",state="new"} 1.0' in text
    assert 'warta_inbox_collected_total{channel="x"} 0.0' in text
    assert "warta_inbox_dead_letters_total 0.0" in text
    assert "warta_build_info" not in text  # the test's own registry; the service's has it


FRIDAY_3PM = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # 15:00 WIB


def test_a_working_hours_channel_does_not_count_nights_weekends_or_holidays() -> None:
    w = Channel(id="w", platform="whatsapp", options={"answer_target_working_hours": "true"})
    clock = Channel(id="m", platform="mastodon")
    entry = opened("c1", FRIDAY_3PM, channel="w")
    saturday = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    assert waited_on(w, HOURS, entry, saturday) == timedelta(hours=1)  # Friday 15:00-16:00 only
    assert waited_on(clock, HOURS, entry, saturday) == timedelta(hours=19)
    # Wednesday 23 December 15:00 WIB to Monday 28 December 09:00: Christmas and cuti bersama.
    xmas = opened("c2", datetime(2026, 12, 23, 8, 0, tzinfo=UTC), channel="w")
    assert waited_on(w, HOURS, xmas, datetime(2026, 12, 28, 2, 0, tzinfo=UTC)) == TWO_HOURS
    # In Jayapura the same instant is 17:00 WIT: after hours, nothing counts until Monday.
    wit = Channel(id="w", platform="whatsapp", timezone="Asia/Jayapura", options=w.options)
    assert waited_on(wit, HOURS, entry, saturday) == timedelta(0)
    assert not written_in_working_hours(wit, HOURS, entry)
    assert written_in_working_hours(w, HOURS, entry)


async def test_the_list_api_counts_a_working_hours_channel_in_working_hours(tmp_path: Path) -> None:
    now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # Saturday 10:00 WIB
    book = InboxBook()
    for entry in (opened("c1", FRIDAY_3PM, channel="w"), opened("c2", FRIDAY_3PM, channel="m")):
        book.apply(entry)
    app = inbox_app(tmp_path, book, InboxMetrics(CollectorRegistry()), now)
    async with TestClient(TestServer(app)) as client:
        auth = {"Authorization": "Bearer k1"}
        body = await (await client.get("/v1/inbox?channel=w", headers=auth)).json()
        assert body["waiting_over_target"] == 0  # one working hour of two
        body = await (await client.get("/v1/inbox?channel=m", headers=auth)).json()
        assert body["waiting_over_target"] == 1  # nineteen hours of two
        text = await (await client.get("/metrics")).text()
    assert 'warta_inbox_waiting_over_target{channel="w"} 0.0' in text

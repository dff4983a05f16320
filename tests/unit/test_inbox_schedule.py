"""Polling within budgets, and what the inbox says of channels it cannot read (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.inbox.access import readability
from services.inbox.schedule import Budget, PollSchedule, poll_gap
from services.inbox.watched import WatchedPost
from shared.channels import Channel

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def post(
    n: int, platform: str = "mastodon", channel: str = "m", age: timedelta = timedelta(0)
) -> WatchedPost:
    return WatchedPost(channel, platform, f"p{n}", T0 - age)


@pytest.mark.parametrize(
    ("age", "platform", "gap"),
    [
        (timedelta(minutes=5), "mastodon", MIN),
        (timedelta(hours=3), "mastodon", 5 * MIN),
        (timedelta(days=2), "mastodon", 30 * MIN),
        (timedelta(minutes=5), "facebook", 10 * MIN),  # webhooks first; the poll catches losses
    ],
)
def test_young_posts_are_polled_more_often(age: timedelta, platform: str, gap: timedelta) -> None:
    assert poll_gap(age, MIN, platform) == gap


def test_the_budget_holds_and_posts_wait_their_turn() -> None:
    schedule = PollSchedule(MIN, budgets={"mastodon": Budget(2, timedelta(minutes=5), "test")})
    for n in range(3):
        schedule.watch(post(n), T0)
    first = schedule.due(T0)
    assert [p.post_id for p in first] == ["p0", "p1"]
    assert schedule.due(T0 + MIN) == []  # the third waits for the window, not lost
    for p in first:
        schedule.done(p, T0)
    assert [p.post_id for p in schedule.due(T0 + 5 * MIN)] == ["p2", "p0"]


def test_a_throttled_channel_rests_and_a_refused_post_is_dropped() -> None:
    schedule = PollSchedule(MIN)
    a, b, other = post(1), post(2), post(3, channel="other")
    for p in (a, b, other):
        schedule.watch(p, T0)
    first, second, third = schedule.due(T0)
    schedule.throttled(first, T0, retry_after=120)
    schedule.done(second, T0)
    schedule.done(third, T0)
    # The throttled channel rests, its other post included; the other channel goes on.
    assert [p.channel for p in schedule.due(T0 + MIN)] == ["other"]
    assert {p.post_id for p in schedule.due(T0 + 3 * MIN)} >= {first.post_id}
    schedule.refused(first)
    assert schedule.watched == 2


def test_old_posts_are_no_longer_watched() -> None:
    schedule = PollSchedule(MIN, watch_for=timedelta(days=7))
    schedule.watch(post(1, age=timedelta(days=8)), T0)
    schedule.watch(post(2, age=timedelta(days=6, hours=23)), T0)
    assert schedule.watched == 1
    assert schedule.due(T0 + timedelta(hours=2)) == []


@pytest.mark.parametrize(
    ("channel", "mode", "says"),
    [
        (Channel(id="x", platform="x"), "unreadable", "paid read tier"),
        (Channel(id="t", platform="telegram"), "unreadable", "linked discussion group"),
        (Channel(id="m", platform="mastodon"), "poll", "context"),
        (Channel(id="f", platform="facebook"), "poll_and_webhook", "webhook"),
        (Channel(id="w", platform="whatsapp"), "webhook", "messages webhook"),
        (Channel(id="p", platform="wordpress"), "unreadable", "no comments API"),
    ],
)
def test_each_channel_says_how_it_is_read_or_why_not(channel: Channel, mode: str, says: str) -> None:
    found = readability(channel)
    assert found.mode == mode
    assert says in found.reason

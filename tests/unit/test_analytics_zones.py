"""A post stays in the day, week and hour buckets it was first counted in for its whole life.

The worker reads its zones once at start (the channels file, ``WARTA_REPORT_TIMEZONE``): after
a channel's zone is corrected, or the channel is removed or renamed, or the report's zone
changes, a post published before keeps moving the buckets it is in, so the days and weeks of
every row add up to its all-time figures. Between two "starts" the table goes through faust's
own JSON codec, as it does through the changelog.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from faust.serializers import codecs
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.app import zones_for
from services.analytics.ledger import Position, Zones, apply
from services.analytics.report import reach
from services.analytics.weekly import weekly_report
from shared import events
from shared.channels import Channel, ChannelDirectory
from shared.events import ContentApproved, EngagementObserved, OutcomeStatus, PublishOutcome

# Monday 00:30 WIT (Asia/Jayapura, 2026-W49) is Sunday 22:30 WIB (Asia/Jakarta, 2026-W48).
PUB = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)
COMMON = {"job_id": "c1:x", "content_id": "c1", "channel": "x", "platform": "x"}
READS_REACTIONS_ONLY: dict[str, Any] = {"comments": 0, "shares": 0, "reach": None}


def zones(channel_zone: str | None, report: str = "Asia/Jakarta") -> Zones:
    """The zones a worker started with this channels file reads (None: x not in it)."""
    channels = () if channel_zone is None else (Channel(id="x", platform="x", timezone=channel_zone),)
    return zones_for(ChannelDirectory(channels=channels), report)


def restarted(store: dict[str, Any]) -> dict[str, Any]:
    """The table as a restart restores it: every value through the changelog's codec."""
    return {key: codecs.loads("json", codecs.dumps("json", value)) for key, value in store.items()}


def published(n: int, content_id: str = "c1", at: datetime = PUB) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o{n}",
        occurred_at=at,
        attempt=1,
        status=OutcomeStatus.PUBLISHED,
        **{**COMMON, "content_id": content_id, "job_id": f"{content_id}:x"},
    )


def reading(
    n: int, horizon: int, reactions: int, content_id: str = "c1", at: datetime = PUB
) -> EngagementObserved:
    return EngagementObserved(
        event_id=f"e{n}",
        occurred_at=at + timedelta(minutes=horizon),
        published_at=at,
        horizon_minutes=horizon,
        reactions=reactions,
        **READS_REACTIONS_ONLY,
        **{**COMMON, "content_id": content_id, "job_id": f"{content_id}:x"},
    )


def approved(content_id: str, topic: str) -> ContentApproved:
    return ContentApproved(
        event_id=f"a{content_id}",
        occurred_at=PUB,
        content_id=content_id,
        topic_key=topic,
        tags=("banjir",),
        author="rina",
        approval=events.Approval(approved_by="yuyun", approved_at=PUB),
        submitted_by="yuyun",
        variants=(events.ChannelVariant(channel="x", content=events.Content(text="t")),),
    )


def rows(store: dict[str, Any], by: str, window: str) -> list[tuple[str, str | None, int, int]]:
    return [(r["key"], r["period"], r["posts"], r["reactions"]) for r in reach(store.items(), by, window)]


@pytest.mark.parametrize(
    "later",
    [
        pytest.param("Asia/Jakarta", id="zone corrected"),
        pytest.param(None, id="channel removed or renamed"),
    ],
)
def test_a_later_reading_moves_the_buckets_the_post_was_first_counted_in(later: str | None) -> None:
    store: dict[str, Any] = {}
    apply(store, published(1), Position("outcomes", 0, 0), zones("Asia/Jayapura"))
    apply(store, reading(1, 60, 100), Position("engagement", 0, 0), zones("Asia/Jayapura"))
    store = restarted(store)
    apply(store, reading(2, 1440, 500), Position("engagement", 0, 1), zones(later))

    assert rows(store, "channel", "all") == [("x", None, 1, 500)]
    assert rows(store, "channel", "week") == [("x", "2026-W49", 1, 500)]
    assert rows(store, "channel", "day") == [("x", "2026-11-30", 1, 500)]
    assert rows(store, "hour", "week") == [("x#0", "2026-W49", 1, 500)]


def test_topics_and_tags_stay_in_the_week_of_the_report_zone_they_were_first_counted_in() -> None:
    store: dict[str, Any] = {}
    before = zones("Asia/Jayapura", report="Asia/Jakarta")  # the post falls in W48 for the report
    apply(store, approved("c1", "jembatan"), Position("approved", 0, 0), before)
    apply(store, published(1), Position("outcomes", 0, 0), before)
    # A post counted before its item's approval came: the approval, read after the report's
    # zone changed, adds its topic in the report zone the post was counted in.
    apply(store, published(2, "c2"), Position("outcomes", 0, 1), before)
    store = restarted(store)
    after = zones("Asia/Jayapura", report="Asia/Jayapura")  # the same instant is W49 here
    apply(store, reading(1, 1440, 500), Position("engagement", 0, 0), after)
    apply(store, approved("c2", "jembatan"), Position("approved", 0, 1), after)
    apply(store, reading(2, 1440, 7, "c2"), Position("engagement", 0, 1), after)

    assert rows(store, "topic", "all") == [("jembatan", None, 2, 507)]
    assert rows(store, "topic", "week") == [("jembatan", "2026-W48", 2, 507)]
    assert rows(store, "tag", "day") == [("banjir", "2026-11-29", 2, 507)]
    # The weekly report's top items, read in today's zone, take each post in that same week.
    for week, items in (("2026-W48", [("c1", 500), ("c2", 7)]), ("2026-W49", [])):
        doc = weekly_report(store.items(), week, ZoneInfo("Asia/Jayapura"))
        assert [(r["content_id"], r["reactions"]) for r in doc["top_items"]] == items, week
        assert [(r["key"], r["reactions"]) for r in doc["topics"]] == [("jembatan", 507)] * bool(items)


def test_a_post_stored_without_its_zones_keeps_the_ones_it_was_counted_in_until_then() -> None:
    store: dict[str, Any] = {}
    apply(store, published(1), Position("outcomes", 0, 0), zones("Asia/Jayapura"))
    # As an older worker stored it: no zones on the post, its buckets in today's zones.
    for name in ("zone", "report_zone"):
        del store["post|c1:x"]["s"][name]
    apply(store, reading(1, 60, 100), Position("engagement", 0, 0), zones("Asia/Jayapura"))
    assert store["post|c1:x"]["s"]["zone"] == "Asia/Jayapura"
    store = restarted(store)
    apply(store, reading(2, 1440, 500), Position("engagement", 0, 1), zones("Asia/Jakarta"))

    assert rows(store, "channel", "week") == [("x", "2026-W49", 1, 500)]


ZONE_NAMES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "UTC", "Pacific/Kiritimati")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # the post (item c<n> on channel x)
            st.integers(0, 4),  # 0: its published outcome, else a reading at this horizon rank
            st.sampled_from((None, *ZONE_NAMES)),  # x's zone when the event is read (None: removed)
            st.sampled_from(ZONE_NAMES),  # the report's zone then
            st.integers(0, 1000),
        ),
        min_size=1,
        max_size=20,
    ),
    st.integers(-6 * 60, 6 * 60),
)
def test_days_and_weeks_add_up_to_all_time_whatever_the_zones_at_each_start(
    events: list[tuple[int, int, str | None, str, int]], minutes: int
) -> None:
    """Each event read by a worker started with other zones: every row's days and weeks sum to
    its all-time figures, and each post lies in one week, of its first count's zones."""
    at = PUB + timedelta(minutes=minutes)
    store: dict[str, Any] = {}
    first: dict[int, Zones] = {}
    for offset, (post, rank, channel_zone, report_zone, reactions) in enumerate(events):
        content_id = f"c{post}"
        now = zones(channel_zone, report=report_zone)
        first.setdefault(post, now)
        if offset == 0:
            for n in range(4):
                apply(store, approved(f"c{n}", "jembatan"), Position("approved", 0, n), now)
        event: PublishOutcome | EngagementObserved = (
            published(offset, content_id, at)
            if rank == 0
            else reading(offset, 60 * rank, reactions, content_id, at)
        )
        source = "outcomes" if rank == 0 else "engagement"
        apply(store, event, Position(source, 0, offset), now)
        store = restarted(store)

    for by in ("channel", "hour", "topic", "tag"):
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for key, _, posts, reactions in rows(store, by, "all"):
            totals[key] = [posts, reactions]
        for window in ("week", "day") if by != "hour" else ("week",):
            summed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for key, _, posts, reactions in rows(store, by, window):
                summed[key][0] += posts
                summed[key][1] += reactions
            assert summed == totals, (by, window)
    weeks = sorted(period or "" for _, period, _, _ in rows(store, "channel", "week"))
    expected = sorted(
        {
            f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"
            for d in (at.astimezone(z.zone_of("x")) for z in first.values())
        }
    )
    assert weeks == expected

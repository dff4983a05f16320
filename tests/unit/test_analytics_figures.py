"""The analytics figures equal a brute-force recomputation from the raw events.

Generated streams carry duplicates and out-of-order readings, are interleaved across the three
source topics at random, and (second property) are cut by a crash: each changelog partition
keeps a prefix of its writes, each source partition restarts from a committed offset no later
than its first event whose writes did not all land, and the rest is read again in another
order. The recomputation below shares nothing with the ledger but the event classes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.ledger import Position, Zones, apply
from services.analytics.report import BadQuery, item, reach, reach_answer
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    EngagementObserved,
    OutcomeStatus,
    PublishOutcome,
)

CHANNELS = {"ig": "Asia/Jakarta", "fb": "Asia/Makassar", "x": "Asia/Jayapura"}
REPORT = ZoneInfo("Asia/Jakarta")
ZONES = Zones(zone_of=lambda c: ZoneInfo(CHANNELS.get(c, "Asia/Jakarta")), report=REPORT)
T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # a Sunday: weeks and days split in the data
PARTITIONS = 2
TAGS = ("gubernur", "wakil-gubernur", "banjir")

Event = ContentApproved | PublishOutcome | EngagementObserved
SOURCE = {ContentApproved: "approved", PublishOutcome: "outcomes", EngagementObserved: "engagement"}


def partition_of(content_id: str) -> int:
    return int(content_id[1:]) % PARTITIONS


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = []
    for c in range(draw(st.integers(1, 5))):
        content_id = f"c{c}"
        if draw(st.booleans()):
            events.append(
                ContentApproved(
                    event_id=f"a{c}",
                    occurred_at=T0,
                    content_id=content_id,
                    topic_key=draw(st.sampled_from([None, "jembatan", "banjir-2026"])),
                    tags=tuple(draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3))),
                    author="rina",
                    approval=Approval(approved_by="yuyun", approved_at=T0),
                    submitted_by="yuyun",
                    variants=(ChannelVariant(channel="ig", content=Content(text="t")),),
                )
            )
        for channel in draw(st.lists(st.sampled_from(sorted(CHANNELS)), unique=True, max_size=3)):
            job_id = f"{content_id}:{channel}"
            published_at = T0 + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
            common = {"job_id": job_id, "content_id": content_id, "channel": channel, "platform": "p"}
            for k, status in enumerate(draw(st.lists(st.sampled_from(list(OutcomeStatus)), max_size=3))):
                events.append(
                    PublishOutcome(
                        event_id=f"o{job_id}{k}",
                        occurred_at=published_at,
                        attempt=1,
                        status=status,
                        url=f"https://x/{job_id}",
                        **common,
                    )
                )
            for k, horizon in enumerate(draw(st.lists(st.sampled_from([60, 360, 1440, 10080]), max_size=4))):
                events.append(
                    EngagementObserved(
                        event_id=f"e{job_id}{k}",
                        occurred_at=published_at + timedelta(minutes=horizon, seconds=k),
                        published_at=published_at,
                        horizon_minutes=horizon,
                        reactions=draw(st.integers(0, 1000)),
                        comments=draw(st.integers(0, 100)),
                        shares=draw(st.integers(0, 100)),
                        reach=draw(st.none() | st.integers(0, 10**6)),
                        **common,
                    )
                )
    duplicates = draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    return events + duplicates


def sources(events: list[Event], rnd: random.Random) -> dict[tuple[str, int], list[Event]]:
    """Each source partition's records, in a shuffled order (out of order, duplicates kept)."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    logs: dict[tuple[str, int], list[Event]] = defaultdict(list)
    for event in shuffled:
        logs[(SOURCE[type(event)], partition_of(event.content_id))].append(event)
    return logs


def interleave(
    logs: dict[tuple[str, int], list[Event]], start: dict[tuple[str, int], int], rnd: random.Random
) -> Iterator[tuple[Event, Position]]:
    """The records from ``start`` on, in one random order that keeps each partition's order."""
    cursors = {tp: start.get(tp, 0) for tp in logs}
    while live := [tp for tp in logs if cursors[tp] < len(logs[tp])]:
        tp = rnd.choice(live)
        offset = cursors[tp]
        cursors[tp] += 1
        yield logs[tp][offset], Position(tp[0], tp[1], offset)


# --- the recomputation ----------------------------------------------------------------------


def recompute(events: list[Event], by: str, window: str) -> dict[tuple[str, str], tuple[int, ...]]:
    info: dict[str, ContentApproved] = {}
    latest: dict[str, EngagementObserved] = {}
    published: dict[str, PublishOutcome | EngagementObserved] = {}
    for e in events:
        if isinstance(e, ContentApproved):
            info[e.content_id] = e
        elif isinstance(e, PublishOutcome) and e.status is OutcomeStatus.PUBLISHED:
            published.setdefault(e.job_id, e)
        elif isinstance(e, EngagementObserved):
            published.setdefault(e.job_id, e)
            rank = (e.horizon_minutes, e.occurred_at, e.event_id)
            old = latest.get(e.job_id)
            if old is None or rank > (old.horizon_minutes, old.occurred_at, old.event_id):
                latest[e.job_id] = e
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for job_id, first in published.items():
        r = latest.get(job_id)
        when = r.published_at if r is not None else first.occurred_at
        channel = first.channel
        zone = ZoneInfo(CHANNELS[channel]) if by in ("channel", "hour") else REPORT
        local = when.astimezone(zone)
        iso = local.isocalendar()
        period = {"day": str(local.date()), "week": f"{iso[0]}-W{iso[1]:02d}", "all": ""}[window]
        approved = info.get(first.content_id)
        keys = {
            "channel": [channel],
            "hour": [f"{channel}#{local.weekday() * 24 + local.hour}"],
            "topic": [approved.topic_key] if approved and approved.topic_key else [],
            "tag": list(approved.tags) if approved else [],
        }[by]
        for key in keys:
            t = totals[(key, period)]
            t[0] += 1
            if r is not None:
                t[1] += r.reactions
                t[2] += r.comments
                t[3] += r.shares
                t[4] += r.reach or 0
                t[5] += r.reach is not None
    return {k: tuple(v) for k, v in totals.items()}


def reported(store: MutableMapping[str, Any], by: str, window: str) -> dict[tuple[str, str], tuple[int, ...]]:
    out: dict[tuple[str, str], tuple[int, ...]] = {}
    for row in reach(store.items(), by, window):
        reach_value = row["reach"] if row["reach"] is not None else 0
        figures = (row["posts"], row["reactions"], row["comments"], row["shares"], reach_value)
        out[(row["key"], row["period"] or "")] = (*figures, row["reach_posts"])
        assert (row["reach"] is None) == (row["reach_posts"] == 0)
    return out


def assert_figures_match(store: MutableMapping[str, Any], events: list[Event]) -> None:
    for by, window in [(b, w) for b in ("channel", "topic", "tag") for w in ("day", "week", "all")] + [
        ("hour", "week"),
        ("hour", "all"),
    ]:
        assert reported(store, by, window) == recompute(events, by, window), (by, window)


@settings(max_examples=80, deadline=None)
@given(streams(), st.randoms(use_true_random=False))
def test_figures_equal_the_recomputation(events: list[Event], rnd: random.Random) -> None:
    store: dict[str, Any] = {}
    for event, at in interleave(sources(events, rnd), {}, rnd):
        apply(store, event, at, ZONES)
    assert_figures_match(store, events)


class Changelog(dict[str, Any]):
    """A store that also logs every write per partition, as faust's changelog topic would."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        self.partition = 0

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.writes[self.partition].append((key, value))


@settings(max_examples=120, deadline=None)
@given(streams(), st.randoms(use_true_random=False), st.data())
def test_figures_survive_a_crash_at_any_write(
    events: list[Event], rnd: random.Random, data: st.DataObject
) -> None:
    logs = sources(events, rnd)
    store = Changelog()
    last_write: dict[tuple[str, int, int], int] = {}  # event position -> its last write's index
    for event, at in interleave(logs, {}, rnd):
        store.partition = at.partition
        apply(store, event, at, ZONES)
        last_write[(at.source, at.partition, at.offset)] = len(store.writes[at.partition])
    cut = {p: data.draw(st.integers(0, len(w))) for p, w in store.writes.items()}
    restored: dict[str, Any] = {}
    for p, writes in store.writes.items():
        restored.update(writes[: cut[p]])
    committed = {}
    for (source, p), log in logs.items():
        durable = 0
        while durable < len(log) and last_write[(source, p, durable)] <= cut.get(p, 0):
            durable += 1
        committed[(source, p)] = data.draw(st.integers(0, durable))
    for event, at in interleave(logs, committed, rnd):
        apply(restored, event, at, ZONES)
    assert_figures_match(restored, events)


def test_an_item_shows_its_latest_reading_per_channel_and_reach_not_available() -> None:
    store: dict[str, Any] = {}
    common = {"content_id": "c1", "platform": "p", "published_at": T0}
    readings = [
        ("ig", 1440, 50, None),
        ("ig", 60, 5, None),  # late and older: ignored
        ("fb", 60, 7, 300),
    ]
    for offset, (channel, horizon, reactions, reach_value) in enumerate(readings):
        event = EngagementObserved(
            event_id=f"e{offset}",
            occurred_at=T0 + timedelta(minutes=horizon),
            job_id=f"c1:{channel}",
            channel=channel,
            horizon_minutes=horizon,
            reactions=reactions,
            comments=0,
            shares=1,
            reach=reach_value,
            **common,
        )
        apply(store, event, Position("engagement", 0, offset), ZONES)
    view = item(store, "c1")
    assert view is not None
    by_channel = {c["channel"]: c for c in view["channels"]}
    assert by_channel["ig"]["reactions"] == 50
    assert by_channel["ig"]["horizon_minutes"] == 1440
    assert by_channel["ig"]["reach"] is None
    assert by_channel["fb"]["reach"] == 300
    assert item(store, "nothing") is None


@pytest.mark.parametrize(
    ("by", "window", "period", "says"),
    [
        ("leader", "week", None, "by must be one of"),
        ("tag", "month", None, "window must be one of"),
        ("hour", "day", None, "window must be one of week, all for by=hour"),
        ("tag", "week", "2026-12-04", "does not name a week"),
        ("tag", "day", "2026-W49", "does not name a day"),
        ("tag", "all", "2026-W49", "does not name a all"),
    ],
)
def test_a_query_that_cannot_be_answered_says_which_parameter(
    by: str, window: str, period: str | None, says: str
) -> None:
    with pytest.raises(BadQuery, match=says):
        reach([], by, window, period)


def test_hour_rows_name_the_channel_and_its_local_day_and_hour() -> None:
    store: dict[str, Any] = {}
    at = datetime(2026, 12, 4, 12, 30, tzinfo=UTC)  # Friday 20:30 WITA on fb (Asia/Makassar)
    outcome = PublishOutcome(
        event_id="o1",
        occurred_at=at,
        job_id="c1:fb",
        content_id="c1",
        channel="fb",
        platform="facebook",
        attempt=1,
        status=OutcomeStatus.PUBLISHED,
    )
    apply(store, outcome, Position("outcomes", 0, 0), ZONES)
    [row] = reach(store.items(), "hour", "week", "2026-W49")
    assert (row["channel"], row["day_of_week"], row["hour"]) == ("fb", 4, 20)
    assert row["posts"] == 1
    assert row["reach"] is None  # no reading yet: not available, not 0


def test_a_query_without_by_or_window_reads_the_channels_this_week() -> None:
    """The defaults are filled in one place, and the answer echoes the query it understood."""
    assert reach_answer([], {}) == {"by": "channel", "window": "week", "rows": []}
    assert reach_answer([], {"by": "hour"}) == {"by": "hour", "window": "week", "rows": []}
    assert reach_answer([], {"window": "all"})["by"] == "channel"
    with pytest.raises(BadQuery, match="window must be one of week, all for by=hour"):
        reach_answer([], {"by": "hour", "window": "day"})

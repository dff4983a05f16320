"""What each published post adds to the press office's reach figures (pure: no Kafka, no clock).

A post is one item on one channel (a job). Its figures are its *latest* engagement reading: the
one with the longest horizon after publishing (+1 h, +6 h, +24 h, ...), readings being
cumulative; the same reading delivered twice, or an older one arriving late, changes nothing.
A post counts from the moment it is known published (an outcome, or any reading).

A post adds its figures to buckets: a dimension (channel, hour-of-week of a channel, topic,
tag), a value of it, and a tumbling window (the local day, the ISO week, or all time) that
holds the post's publishing instant (all time is the sum of the weeks, taken when read). Days and weeks are the channel's local ones for the
channel and hour dimensions (people online at 20:00 WITA are online at 20:00 WITA), and the
report's zone for topics and tags, which span channels. Both zones are the ones in force when the
post is first counted, kept on the post (``pinned``): a channel whose zone is corrected later, or
that is removed or renamed, or a new report zone, leaves a post's figures in the buckets they
are in, so its later readings move those and the days and weeks still add up to all time.

Aggregates are kept as running sums, so when a post's reading or its item's tags change, the
figures move by the difference of what the post added before and after (``contribution_delta``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

FIELDS = ("posts", "reactions", "comments", "shares", "reach", "reach_posts")
"""The counters of a bucket; ``reach_posts`` counts the posts whose platform gave a reach, so a
reach that no post reported reads "not available", not 0."""

Figures = tuple[int, int, int, int, int, int]
ZERO: Figures = (0, 0, 0, 0, 0, 0)

DIMENSIONS = ("channel", "hour", "topic", "tag")
WINDOWS = ("day", "week", "all")


@dataclass(frozen=True)
class Reading:
    """One engagement reading of a post (an ``engagement.observed`` event)."""

    horizon_minutes: int
    occurred_at: str  # ISO 8601 UTC; orders two readings at one horizon
    event_id: str
    reactions: int
    comments: int
    shares: int
    reach: int | None

    def rank(self) -> tuple[int, str, str]:
        return (self.horizon_minutes, self.occurred_at, self.event_id)


@dataclass(frozen=True)
class Post:
    """What the analytics know of one job."""

    job_id: str
    content_id: str
    channel: str
    published_at: str | None = None  # ISO 8601 UTC
    url: str | None = None
    reading: Reading | None = None
    # The IANA zones of the channel and of the report when the post was first counted; None on a
    # post stored by a version that did not keep them (``contributions`` then uses today's).
    zone: str | None = None
    report_zone: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "job_id": self.job_id,
            "content_id": self.content_id,
            "channel": self.channel,
            "published_at": self.published_at,
            "url": self.url,
            "zone": self.zone,
            "report_zone": self.report_zone,
        }
        if self.reading is not None:
            data["reading"] = self.reading.__dict__.copy()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Post:
        reading = data.get("reading")
        return cls(
            job_id=data["job_id"],
            content_id=data["content_id"],
            channel=data["channel"],
            published_at=data.get("published_at"),
            url=data.get("url"),
            reading=Reading(**reading) if reading else None,
            zone=data.get("zone"),
            report_zone=data.get("report_zone"),
        )


@dataclass(frozen=True)
class ItemInfo:
    """What an item's approval says that reports group by."""

    topic: str | None
    tags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "tags": list(self.tags)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ItemInfo | None:
        if data is None:
            return None
        return cls(topic=data.get("topic"), tags=tuple(data.get("tags", ())))


def with_reading(post: Post, reading: Reading, published_at: str) -> Post:
    """``post`` after ``reading``: the later reading wins; a reading says the post is published."""
    if post.reading is not None and post.reading.rank() >= reading.rank():
        return post if post.published_at is not None else _replace(post, published_at=published_at)
    # The publisher's own record of when it published, carried on every reading, beats the
    # outcome's write time.
    return _replace(post, reading=reading, published_at=published_at)


def with_published(post: Post, occurred_at: str, url: str | None) -> Post:
    """``post`` after its ``published`` outcome (a re-delivered outcome changes nothing)."""
    published_at = post.published_at if post.published_at is not None else occurred_at
    return _replace(post, published_at=published_at, url=url or post.url)


def pinned(post: Post, zone: ZoneInfo, report_zone: ZoneInfo) -> Post:
    """``post`` with the zones it is counted in kept on it: those it already holds, else
    ``zone`` (its channel's) and ``report_zone`` as configured now. A post stored without them
    was counted in today's zones until now (``contributions``), so it keeps those."""
    if post.zone is not None and post.report_zone is not None:
        return post
    return _replace(post, zone=post.zone or zone.key, report_zone=post.report_zone or report_zone.key)


def _replace(post: Post, **changes: Any) -> Post:
    return Post(**{**post.__dict__, **changes})


def window_keys(instant: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """The day and ISO week windows that hold ``instant`` in ``zone``. All-time figures are the
    sum of the weeks, added up when read: one changelog write less per bucket and event."""
    local = instant.astimezone(zone)
    year, week, _ = local.isocalendar()
    return (f"day:{local.date().isoformat()}", f"week:{year}-W{week:02d}")


def hour_of_week(instant: datetime, zone: ZoneInfo) -> int:
    """0 = Monday 00:00-00:59 local, ..., 167 = Sunday 23:00-23:59 local."""
    local = instant.astimezone(zone)
    return local.weekday() * 24 + local.hour


@lru_cache(maxsize=65_536)
def _local_windows(published_at: str, zone_key: str) -> tuple[str, str, int]:
    """The day, the week and the hour-of-week of an instant in the zone ``zone_key``, computed
    once: a post's contributions are taken before and after each of its events."""
    at, zone = datetime.fromisoformat(published_at), ZoneInfo(zone_key)
    return (*window_keys(at, zone), hour_of_week(at, zone))


def bucket(dimension: str, value: str, window: str) -> str:
    # '|' and '#' occur in no channel id, topic key or tag (shared.events' patterns).
    return f"{dimension}|{value}|{window}"


def contributions(
    post: Post | None, item: ItemInfo | None, zone_of: Callable[[str], ZoneInfo], report_zone: ZoneInfo
) -> dict[str, Figures]:
    """The figures ``post`` adds to each bucket (nothing until it is published), in the zones
    kept on it; ``zone_of`` and ``report_zone`` only for a post stored before it kept them."""
    if post is None or post.published_at is None:
        return {}
    r = post.reading
    figures: Figures = (
        (1, r.reactions, r.comments, r.shares, r.reach or 0, int(r.reach is not None))
        if r is not None
        else (1, 0, 0, 0, 0, 0)
    )
    zone = post.zone or zone_of(post.channel).key
    out: dict[str, Figures] = {}
    day, week, hour = _local_windows(post.published_at, zone)
    for window in (day, week):
        out[bucket("channel", post.channel, window)] = figures
    out[bucket("hour", f"{post.channel}#{hour}", week)] = figures
    if item is not None:
        groups = [("tag", tag) for tag in item.tags]
        if item.topic is not None:
            groups.append(("topic", item.topic))
        report_windows = _local_windows(post.published_at, post.report_zone or report_zone.key)[:2]
        for dimension, value in groups:
            for window in report_windows:
                out[bucket(dimension, value, window)] = figures
    return out


def contribution_delta(before: Mapping[str, Figures], after: Mapping[str, Figures]) -> dict[str, Figures]:
    """What moves in each bucket when a post's contributions go from ``before`` to ``after``."""
    delta: dict[str, Figures] = {}
    for key in before.keys() | after.keys():
        b, a = before.get(key, ZERO), after.get(key, ZERO)
        if a != b:
            delta[key] = _sub(a, b)
    return delta


def add(a: Iterable[int], b: Iterable[int]) -> Figures:
    # Unpacked by hand: the fold adds figures several times per event, and this is its
    # hottest line. Unpacking also refuses figures of another length, as zip(strict=True) did.
    a0, a1, a2, a3, a4, a5 = a
    b0, b1, b2, b3, b4, b5 = b
    return (a0 + b0, a1 + b1, a2 + b2, a3 + b3, a4 + b4, a5 + b5)


def _sub(a: Figures, b: Figures) -> Figures:
    a0, a1, a2, a3, a4, a5 = a
    b0, b1, b2, b3, b4, b5 = b
    return (a0 - b0, a1 - b1, a2 - b2, a3 - b3, a4 - b4, a5 - b5)


def figures_json(figures: Iterable[int]) -> dict[str, int | None]:
    """A bucket as the API shows it: engagement is reactions + comments + shares; a reach no
    post reported is ``None`` ("not available"), never 0."""
    data = dict(zip(FIELDS, figures, strict=True))
    return {
        "posts": data["posts"],
        "reactions": data["reactions"],
        "comments": data["comments"],
        "shares": data["shares"],
        "engagement": data["reactions"] + data["comments"] + data["shares"],
        "reach": data["reach"] if data["reach_posts"] else None,
        "reach_posts": data["reach_posts"],
    }

"""Applies one event to the analytics state, so that a replayed event never counts twice (pure).

The state is one key-value table (faust's, changelog-backed, in the worker; a dict in tests):

    post|<job id>              the post (with the zones it is counted in), and the last event
                               that wrote it
    exp|<channel>              the slot model's latest expectation snapshot of the channel
    poll|<job id>              the latest tally of the post's poll (a closed one beats an open one)
    item|<content id>          the item's topic and tags, and the jobs seen for it
    agg|<dimension>|<partition>|<value>|<window>
                               the running figures of a bucket from one source partition
                               (the dimension first: a report reads one by its prefix)

Why the guards. After a kill -9 the worker restores the table from its changelog and reads
again from the last committed offsets, so events are met again, and the changelog may hold only
some of an event's writes (the post, not yet every bucket). Every entry therefore remembers the
newest offset of each source topic it took in (``seen``), and an event is applied to an entry
only if the entry has not seen it. A post (and an item) also keeps what its last event moved in
the buckets (``moved``): whoever touches it next, that event again or another one, first
finishes that move, bucket by bucket under the same guard. This holds because one table has one
changelog partition per source partition, written in processing order, so a crash loses a
suffix of it: only the last event processed on a partition can be cut short.

Aggregates are keyed by source partition: all three source topics are keyed by content id
with the same partition count, so a job's events and its item's approval share a partition,
and each ``agg`` key has one writer, whatever order the changelog partitions are restored in.

Why a bound on an item's jobs. An item's entry lists every job met for it, so that a change of
its topic or tags moves each of its posts' figures; every reading or outcome of a job not seen
before adds one. A job is an item on a channel, so a real item has as many as it has channels,
but records naming ever new jobs of one item would grow its entry past what one changelog record
may hold (``batch.ENTRY_LIMIT_BYTES``). An item takes in ``MAX_JOBS_PER_ITEM`` jobs; a record of
a job beyond that raises ``TooManyJobs`` and changes nothing.

Errors: ``TooManyJobs`` (above); a malformed stored entry raises ``KeyError``/``TypeError``. The
fold dead-letters each like any record it cannot handle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from services.analytics.figures import (
    ZERO,
    Figures,
    ItemInfo,
    Post,
    Reading,
    add,
    contribution_delta,
    contributions,
    pinned,
    with_published,
    with_reading,
)
from shared.events import (
    ContentApproved,
    EngagementObserved,
    ExpectationSnapshotted,
    OutcomeStatus,
    PollResultsObserved,
    PublishOutcome,
)

Store = MutableMapping[str, Any]

# Far above any item's channels (one job per channel), and small enough that an item's entry
# stays far under ``batch.ENTRY_LIMIT_BYTES``: 1,000 job ids of 200 characters are about 200 kB.
MAX_JOBS_PER_ITEM = 1_000


class TooManyJobs(ValueError):
    """A record names a job of an item that already has ``MAX_JOBS_PER_ITEM`` other jobs."""

    def __init__(self, content_id: str, job_id: str) -> None:
        super().__init__(
            f"item {content_id[:200]!r} already has {MAX_JOBS_PER_ITEM:,} jobs, the most the analytics"
            f" take in for one item; job {job_id[:200]!r} is not counted"
        )


@dataclass(frozen=True)
class Position:
    """Where an event was read: its topic's role, partition and offset."""

    source: str  # "approved", "outcomes", "engagement" or "expectation"
    partition: int
    offset: int


@dataclass(frozen=True)
class Zones:
    zone_of: Callable[[str], ZoneInfo]
    report: ZoneInfo


def apply(store: Store, event: object, at: Position, zones: Zones) -> bool:
    """Take ``event`` into ``store``; False if it changes nothing (another kind, or a repeat)."""
    if isinstance(event, EngagementObserved):
        reading = Reading(
            horizon_minutes=event.horizon_minutes,
            occurred_at=event.occurred_at.isoformat(),
            event_id=event.event_id,
            reactions=event.reactions,
            comments=event.comments,
            shares=event.shares,
            reach=event.reach,
        )
        published_at = event.published_at.isoformat()
        return _update_post(store, event, at, zones, lambda post: with_reading(post, reading, published_at))
    if isinstance(event, PublishOutcome) and event.status is OutcomeStatus.PUBLISHED:
        occurred_at = event.occurred_at.isoformat()
        return _update_post(
            store, event, at, zones, lambda post: with_published(post, occurred_at, event.url)
        )
    if isinstance(event, ContentApproved):
        return _update_item(store, event, at, zones)
    if isinstance(event, ExpectationSnapshotted):
        return _update_expectation(store, event)
    if isinstance(event, PollResultsObserved):
        return _update_poll(store, event)
    return False


def _update_poll(store: Store, event: PollResultsObserved) -> bool:
    """The final tally wins over a running one, then the later reading; one write, so a replay
    changes nothing."""
    rank = [event.closed, event.occurred_at.isoformat(), event.event_id]
    return _keep_highest(
        store,
        f"poll|{event.job_id}",
        rank,
        {
            "content_id": event.content_id,
            "channel": event.channel,
            "platform": event.platform,
            "published_at": event.published_at.isoformat(),
            "question": event.question,
            "closed": event.closed,
            "voters": event.voters,
            "options": [{"label": o.label, "votes": o.votes} for o in event.options],
        },
    )


def _update_expectation(store: Store, event: ExpectationSnapshotted) -> bool:
    """The newest snapshot of a channel wins; one write, so a replay needs no guard (the same or
    an older snapshot changes nothing)."""
    rank = [event.occurred_at.isoformat(), event.event_id]
    return _keep_highest(
        store,
        f"exp|{event.channel}",
        rank,
        {
            "channel": event.channel,
            "computed_at": event.occurred_at.isoformat(),
            "observations": event.observations,
            "hourly": list(event.hourly),
        },
    )


def _keep_highest(store: Store, key: str, rank: list[Any], summary: dict[str, Any]) -> bool:
    """``summary`` under ``key`` if its ``rank`` is above the kept one's; one write, so a replay
    (the same or a lower rank) changes nothing."""
    entry = store.get(key)
    if entry is not None and entry["rank"] >= rank:
        return False
    store[key] = {"rank": rank, "s": summary}
    return True


def _seen(entry: Mapping[str, Any] | None, at: Position) -> bool:
    return entry is not None and entry["seen"].get(at.source, -1) >= at.offset


def _mark(entry: Mapping[str, Any] | None, at: Position) -> dict[str, int]:
    seen = dict(entry["seen"]) if entry is not None else {}
    seen[at.source] = at.offset
    return seen


def _reopened(store: Store, key: str, at: Position) -> tuple[Any, bool]:
    """The record under ``key`` (None before its first event), with the writes of its last event
    finished, and whether the event at ``at`` is new to it."""
    entry = store.get(key)
    if entry is not None:
        _complete(store, entry)
    return entry, not _seen(entry, at)


def _complete(store: Store, entry: Mapping[str, Any]) -> None:
    """Finish moving the buckets of the last event that wrote ``entry`` (a no-op unless a crash
    cut that event's writes short: each bucket takes one event in once)."""
    last = entry.get("last")
    if last is not None:
        source, partition, offset = last
        _move(store, entry["moved"], Position(source, partition, offset))


def _written(
    after: Mapping[str, Any], moved: Mapping[str, Figures], at: Position, entry: Any
) -> dict[str, Any]:
    return {
        "s": after,
        "last": [at.source, at.partition, at.offset],
        "moved": {name: list(figures) for name, figures in moved.items()},
        "seen": _mark(entry, at),
    }


def _update_post(
    store: Store,
    event: EngagementObserved | PublishOutcome,
    at: Position,
    zones: Zones,
    change: Callable[[Post], Post],
) -> bool:
    key = f"post|{event.job_id}"
    entry, new = _reopened(store, key, at)
    if not new:
        return False
    before = Post.from_json(entry["s"]) if entry is not None else None
    changed = change(before or Post(job_id=event.job_id, content_id=event.content_id, channel=event.channel))
    if changed == before:
        return False
    # Counted in the zones of its first count for good, whatever the channels file says now.
    after = pinned(changed, zones.zone_of(changed.channel), zones.report)
    item = _register_job(store, event.content_id, event.job_id)
    moved = contribution_delta(
        contributions(before, item, zones.zone_of, zones.report),
        contributions(after, item, zones.zone_of, zones.report),
    )
    # The post first, with what it moves: if the crash comes before every bucket is written,
    # the next event on this post (or this one again) finishes the move.
    store[key] = _written(after.to_json(), moved, at, entry)
    _move(store, moved, at)
    return True


def _register_job(store: Store, content_id: str, job_id: str) -> ItemInfo | None:
    """The item's info, after noting that ``job_id`` is one of its posts (idempotent);
    ``TooManyJobs`` if it is new and the item has ``MAX_JOBS_PER_ITEM`` already."""
    key = f"item|{content_id}"
    entry = store.get(key)
    if entry is None:
        store[key] = {"s": None, "last": None, "moved": {}, "seen": {}, "jobs": [job_id]}
        return None
    if job_id not in entry["jobs"]:
        if len(entry["jobs"]) >= MAX_JOBS_PER_ITEM:
            raise TooManyJobs(content_id, job_id)
        store[key] = {**entry, "jobs": [*entry["jobs"], job_id]}
    return ItemInfo.from_json(entry["s"])


def _update_item(store: Store, event: ContentApproved, at: Position, zones: Zones) -> bool:
    key = f"item|{event.content_id}"
    entry, new = _reopened(store, key, at)
    if not new:
        return False
    before = ItemInfo.from_json(entry["s"]) if entry is not None else None
    after = ItemInfo(topic=event.topic_key, tags=event.tags)
    if after == before:
        return False
    jobs = list(entry["jobs"]) if entry is not None else []
    # Summed over the item's posts first: two channels share the item's tag buckets, and a
    # bucket takes one event in once.
    moved: dict[str, Figures] = {}
    for job_id in jobs:
        post_entry = store.get(f"post|{job_id}")
        post = Post.from_json(post_entry["s"]) if post_entry is not None else None
        delta = contribution_delta(
            contributions(post, before, zones.zone_of, zones.report),
            contributions(post, after, zones.zone_of, zones.report),
        )
        for name, figures in delta.items():
            moved[name] = add(moved.get(name, ZERO), figures)
    store[key] = {**_written(after.to_json(), moved, at, entry), "jobs": jobs}
    _move(store, moved, at)
    return True


def _move(store: Store, moved: Mapping[str, Iterable[int]], at: Position) -> None:
    for name, delta in sorted(moved.items()):
        dimension, rest = name.split("|", 1)
        key = f"agg|{dimension}|{at.partition}|{rest}"
        entry = store.get(key)
        if _seen(entry, at):
            continue
        figures = add(entry["v"] if entry is not None else ZERO, delta)
        store[key] = {"v": list(figures), "seen": _mark(entry, at)}

"""A channel's hard constraints, and which instants they forbid.

The policy never bends these: an instant is either allowed or blocked, and when blocked it carries
the name of the rule that blocks it (that name becomes the decision's ``binding_constraint``).

Instants are handled as integer microseconds since the Unix epoch (UTC) so that interval edges
are exact: a gap of 120 minutes measured from 10:00:00.5 must still block 11:59:59.9.

Errors::

    PolicyError(ValueError)        anything the policy refuses to reason about
    ├── InvalidRules               a ChannelRules/Blackout/Cap that contradicts itself
    └── InvalidRequest             a naive datetime, an unknown priority, a grid of 0 minutes
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Precedence when several rules block the same instant: the one reported is the one an operator
# can least change. An election silence is law; a daily budget is the bureau's own policy; the
# platform caps and gaps are mechanics.
BLACKOUT, PER_DAY, CAP, MIN_GAP = "blackout", "max_posts_per_day", "cap", "min_gap"
PRECEDENCE = (BLACKOUT, PER_DAY, CAP, MIN_GAP)


class PolicyError(ValueError):
    """The slot policy cannot reason about its input."""


class InvalidRules(PolicyError):
    """A channel's rules contradict themselves (an unknown timezone, a blackout ending before it starts)."""


class InvalidRequest(PolicyError):
    """A job or call argument is malformed (a naive datetime, an unknown priority, a zero grid)."""


def to_us(instant: datetime, what: str = "instant") -> int:
    """Exact microseconds since the epoch; a naive datetime is refused because WIB/WITA/WIT differ."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidRequest(f"{what} {instant.isoformat()} has no UTC offset")
    return (instant - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRules(f"unknown IANA timezone {name!r}") from exc


def local_midnight_us(day: date, tz: ZoneInfo) -> int:
    """The instant a local calendar day starts (zoneinfo resolves a skipped midnight forwards)."""
    return to_us(datetime.combine(day, time(0), tzinfo=tz))


def offset_us(us: int, tz: ZoneInfo) -> int:
    offset = from_us(us).astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always answers
    return offset // timedelta(microseconds=1)


def offset_segments(tz: ZoneInfo, start_us: int, end_us: int) -> list[tuple[int, int]]:
    """(from_us, utc_offset_us) pieces covering [start, end], found without converting every instant.

    Offsets change at most twice a year, so probing every 6 hours and bisecting where two probes
    disagree costs ~30 conversions for a 7-day window instead of 2016.
    """
    probe = 6 * US_PER_HOUR
    segments = [(start_us, offset_us(start_us, tz))]
    left = start_us
    while left < end_us:
        right = min(left + probe, end_us)
        right_offset = offset_us(right, tz)
        if right_offset != segments[-1][1]:
            lo, hi = left, right  # offset(lo) is the current one, offset(hi) the new one
            while hi - lo > US_PER_SECOND:
                mid = (lo + hi) // 2
                if offset_us(mid, tz) == segments[-1][1]:
                    lo = mid
                else:
                    hi = mid
            segments.append((hi, right_offset))
        left = right
    return segments


@dataclass(frozen=True)
class Blackout:
    """An interval [start, end) in which the channel must stay silent (an election silence period)."""

    start: datetime
    end: datetime
    reason: str

    def __post_init__(self) -> None:
        if to_us(self.end, "blackout end") <= to_us(self.start, "blackout start"):
            raise InvalidRules(f"blackout {self.reason!r} ends before it starts")

    @property
    def label(self) -> str:
        return f"{BLACKOUT}:{self.reason}"


@dataclass(frozen=True)
class Cap:
    """At most ``limit`` posts in any rolling ``window`` (Instagram Graph API: 50 / 24 h)."""

    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.limit < 0 or self.window <= timedelta(0):
            raise InvalidRules(f"cap {self.limit}/{self.window} needs limit >= 0 and a positive window")

    @property
    def label(self) -> str:
        seconds = int(self.window.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0 and not (unit == "d" and seconds == 86400):
                return f"{CAP}:{self.limit}/{seconds // size}{unit}"
        return f"{CAP}:{self.limit}/{seconds}s"


@dataclass(frozen=True)
class ChannelRules:
    channel: str
    platform: str
    timezone: str
    min_gap: timedelta = timedelta(0)
    max_posts_per_day: int | None = None  # per LOCAL calendar day of the channel (slot-world.md)
    caps: tuple[Cap, ...] = ()
    blackouts: tuple[Blackout, ...] = ()
    habitual_times: tuple[time, ...] = ()
    paused: bool = False

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.min_gap < timedelta(0):
            raise InvalidRules(f"channel {self.channel}: min_gap must not be negative")
        if self.max_posts_per_day is not None and self.max_posts_per_day < 0:
            raise InvalidRules(f"channel {self.channel}: max_posts_per_day must not be negative")

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)


@dataclass(frozen=True, slots=True)
class Block:
    """Instants in [start_us, end_us) are forbidden by ``label``."""

    start_us: int
    end_us: int
    label: str

    @property
    def kind(self) -> str:
        return self.label.split(":", 1)[0]


def blocks_for(
    rules: ChannelRules, taken_us: Sequence[int], lo_us: int, hi_us: int, *, exempt_min_gap: bool
) -> list[Block]:
    """Every interval that would make a new post on this channel break a rule, near [lo, hi].

    ``taken_us`` must be sorted. The caller marks candidates with these; the policy stays exact
    because each rule is turned into intervals once rather than re-checked for every candidate.
    """
    blocks = [
        Block(to_us(b.start), to_us(b.end), b.label)
        for b in rules.blackouts
        if to_us(b.end) > lo_us and to_us(b.start) <= hi_us
    ]
    gap = rules.min_gap // timedelta(microseconds=1)
    if gap > 0 and not exempt_min_gap:
        # slot-world.md: "at least min_gap_minutes away from every other post (before or after
        # it)": |t - tj| >= gap is allowed, so the open interval (tj - gap, tj + gap) is blocked.
        first = bisect.bisect_right(taken_us, lo_us - gap)
        last = bisect.bisect_left(taken_us, hi_us + gap)
        blocks.extend(Block(t - gap + 1, t + gap, MIN_GAP) for t in taken_us[first:last])
    if rules.max_posts_per_day is not None:
        blocks.extend(_full_days(rules, taken_us, lo_us, hi_us))
    for cap in rules.caps:
        blocks.extend(_cap_blocks(cap, taken_us, lo_us, hi_us))
    return blocks


def _full_days(rules: ChannelRules, taken_us: Sequence[int], lo_us: int, hi_us: int) -> Iterable[Block]:
    assert rules.max_posts_per_day is not None
    tz = rules.zone
    # A local day lasts at most 25 h, so posts more than 2 days outside [lo, hi] cannot share one.
    first = bisect.bisect_left(taken_us, lo_us - 2 * US_PER_DAY)
    last = bisect.bisect_right(taken_us, hi_us + 2 * US_PER_DAY)
    counts: dict[date, int] = {}
    for t in taken_us[first:last]:
        day = from_us(t).astimezone(tz).date()
        counts[day] = counts.get(day, 0) + 1
    day = from_us(lo_us).astimezone(tz).date()
    end_day = from_us(hi_us).astimezone(tz).date()
    while day <= end_day:
        if counts.get(day, 0) >= rules.max_posts_per_day:
            nxt = day + timedelta(days=1)
            yield Block(local_midnight_us(day, tz), local_midnight_us(nxt, tz), PER_DAY)
        day += timedelta(days=1)


def _cap_blocks(cap: Cap, taken_us: Sequence[int], lo_us: int, hi_us: int) -> Iterable[Block]:
    window = cap.window // timedelta(microseconds=1)
    if cap.limit == 0:
        yield Block(lo_us, hi_us + 1, cap.label)
        return
    first = bisect.bisect_left(taken_us, lo_us - window)
    last = bisect.bisect_right(taken_us, hi_us + window)
    near = taken_us[first:last]
    # A new post at t breaks the cap iff some `limit` consecutive posts and t all fit in one
    # window, i.e. span < window. For the run p_i..p_j that is t in (p_j - window, p_i + window).
    for i in range(len(near) - cap.limit + 1):
        p_i, p_j = near[i], near[i + cap.limit - 1]
        if p_j - p_i < window:
            yield Block(p_j - window + 1, p_i + window, cap.label)


def mark(blocks: Iterable[Block], start_us: int, step_us: int, n: int) -> list[str | None]:
    """For candidates start + i*step (i < n), the label of the rule blocking each, or None."""
    labels: list[str | None] = [None] * n
    ordered = sorted(blocks, key=lambda b: PRECEDENCE.index(b.kind), reverse=True)
    for block in ordered:  # the most binding rule is written last and so wins
        i = max(0, -((start_us - block.start_us) // step_us))  # ceil((start_b - start) / step)
        j = min(n, -((start_us - block.end_us) // step_us))
        if i < j:
            labels[i:j] = [block.label] * (j - i)
    return labels


def kinds_at(blocks: Iterable[Block], start_us: int, step_us: int, n: int) -> list[set[str]]:
    """Every rule blocking each candidate (only used to explain an infeasible window)."""
    kinds: list[set[str]] = [set() for _ in range(n)]
    for block in blocks:
        i = max(0, -((start_us - block.start_us) // step_us))
        j = min(n, -((start_us - block.end_us) // step_us))
        for k in range(i, j):
            kinds[k].add(block.label)
    return kinds


def allowed(rules: ChannelRules, taken: Sequence[datetime], instant: datetime, *, urgent: bool) -> str | None:
    """The rule a post at ``instant`` would break given the channel's other posts, or None.

    A one-instant check for callers that did not choose the instant themselves (a retry, a
    manual slot); the policy itself uses the interval form above.
    """
    if rules.paused:
        return "paused"
    t = to_us(instant)
    taken_us = sorted(to_us(x) for x in taken)
    labels = mark(blocks_for(rules, taken_us, t, t, exempt_min_gap=urgent), t, 1, 1)
    return labels[0]

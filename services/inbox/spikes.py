"""Issues as they develop: a post whose comments arrive far faster than its channel's usual rate (pure).

Comments are counted in minute buckets by the time the citizen wrote (``created_at``), so a
poll that brings a burst late still counts it where it happened, and memory stays bounded by the
history kept, not by the number of comments.

The rule, for one post at ``now``:

- its count ``n`` is the comments of the last ``window`` (15 minutes);
- the channel's usual rate ``λ`` is its comments per post per window over the ``history`` before
  that window (24 hours, or less for a channel the inbox has seen for less): the comments in
  that span, over the windows it covers, over the posts commented on in it. It never goes below
  ``floor_per_window``: a channel without history is not held to a rate of zero;
- the post spikes when a Poisson stream at ``λ`` would give ``n`` or more in one window with a
  probability below ``alpha`` (1 in 100,000), and ``n`` is at least ``min_count`` (10): two
  comments on a quiet channel are not an issue developing, however unlikely they were.

Why 1 in 100,000 and not 1 in 10,000: the window slides (every comment is a new look), and λ is
an estimate. Simulated steady streams at 2-8 comments per post per window gave about two false
spikes per post-month at 1 in 10,000 and none in 1,728 post-hours at 1 in 100,000, while a
tenfold burst still clears the threshold within one window (tests/unit/test_inbox_spikes.py).

A Poisson tail rather than median + k·MAD: most windows of a post hold no comment at all, so the
median and its deviation are both zero and every comment would stand out; the tail probability
is the false-alarm rate itself. The mean is what the tail needs (the Poisson rate's estimate);
an old burst in the history raises it for a day, which makes the next spike harder to call, not
easier.

A spike starts once (``SpikeStarted``, with a stable id: the channel, the post and the minute it
started) and ends when the post's window falls below half the count that started it, so a
count that wavers around the threshold does not start it again and again.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SpikeRule:
    window: timedelta = timedelta(minutes=15)
    history: timedelta = timedelta(hours=24)
    alpha: float = 1e-5
    min_count: int = 10
    floor_per_window: float = 1.0

    @property
    def window_minutes(self) -> int:
        return max(1, int(self.window.total_seconds() // 60))

    @property
    def history_minutes(self) -> int:
        return max(self.window_minutes, int(self.history.total_seconds() // 60))


@dataclass(frozen=True)
class SpikeStarted:
    spike_id: str
    channel: str
    post_id: str
    started_at: datetime
    count: int  # comments in the window when it started
    baseline: float  # the channel's usual comments per post per window
    threshold: int  # the count that makes a spike at that baseline
    window: timedelta


def poisson_tail(n: int, rate: float) -> float:
    """P(X ≥ n) for X ~ Poisson(rate), summed in log space so large counts do not overflow."""
    if n <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    below = sum(math.exp(k * math.log(rate) - rate - math.lgamma(k + 1)) for k in range(n))
    return max(0.0, 1.0 - below)


@functools.lru_cache(maxsize=4096)  # one rate per channel and minute: the same few, again and again
def threshold(rate: float, rule: SpikeRule) -> int:
    """The smallest count that is a spike at ``rate``: unlikely (``alpha``) and not small."""
    rate = max(rate, rule.floor_per_window)
    n = max(1, math.floor(rate))
    while poisson_tail(n, rate) > rule.alpha:
        n += 1
    return max(n, rule.min_count)


def minute_of(at: datetime) -> int:
    return int((at - _EPOCH).total_seconds() // 60)


def spike_id(channel: str, post_id: str, minute: int) -> str:
    return "sp" + hashlib.sha256(f"{channel}\x00{post_id}\x00{minute}".encode()).hexdigest()[:30]


@dataclass
class _Channel:
    minutes: dict[int, int] = field(default_factory=dict)  # minute → comments on the channel
    posts: dict[str, dict[int, int]] = field(default_factory=dict)  # post → minute → comments
    first_minute: int | None = None
    # The baseline changes only as minutes pass (or a late comment lands in the history): it is
    # computed once per channel and minute, not per comment.
    baseline_at: tuple[int, float] | None = None


@dataclass
class _Open:
    started: SpikeStarted
    start_count: int


class SpikeWatch:
    """Counts comments per channel and post, and says when a post's spike starts and ends."""

    def __init__(self, rule: SpikeRule | None = None) -> None:
        self.rule = rule or SpikeRule()
        self._channels: dict[str, _Channel] = {}
        self._open: dict[tuple[str, str], _Open] = {}
        self._forgot_at: int | None = None

    # -- counting --------------------------------------------------------------------------

    def add(self, channel: str, post_id: str, created_at: datetime) -> None:
        c = self._channels.setdefault(channel, _Channel())
        m = minute_of(created_at)
        c.minutes[m] = c.minutes.get(m, 0) + 1
        post = c.posts.setdefault(post_id, {})
        post[m] = post.get(m, 0) + 1
        c.first_minute = m if c.first_minute is None else min(c.first_minute, m)
        if c.baseline_at is not None and m <= c.baseline_at[0] - self.rule.window_minutes:
            c.baseline_at = None

    def window_count(self, channel: str, post_id: str, now: datetime) -> int:
        c = self._channels.get(channel)
        post = c.posts.get(post_id) if c is not None else None
        if not post:
            return 0
        hi = minute_of(now)
        return sum(post.get(m, 0) for m in range(hi - self.rule.window_minutes + 1, hi + 1))

    def baseline(self, channel: str, now: datetime) -> float:
        """The channel's comments per post per window in the history before the current window."""
        c = self._channels.get(channel)
        if c is None or c.first_minute is None:
            return self.rule.floor_per_window
        if c.baseline_at is not None and c.baseline_at[0] == minute_of(now):
            return c.baseline_at[1]
        end = minute_of(now) - self.rule.window_minutes  # the history ends where the window starts
        start = max(end - self.rule.history_minutes, c.first_minute - 1)
        if end <= start:
            return self.rule.floor_per_window
        comments = sum(n for m, n in c.minutes.items() if start < m <= end)
        posts = sum(1 for p in c.posts.values() if any(start < m <= end for m in p))
        windows = (end - start) / self.rule.window_minutes
        rate = max(self.rule.floor_per_window, comments / windows / max(1, posts))
        c.baseline_at = (minute_of(now), rate)
        return rate

    # -- deciding --------------------------------------------------------------------------

    def observe(self, channel: str, post_id: str, created_at: datetime, now: datetime) -> SpikeStarted | None:
        """Count one comment; the spike it starts, if it is the one that makes the post spike.

        A comment dated after ``now`` (a platform clock ahead of ours) counts at ``now``.
        """
        self._tidy(now)
        self.add(channel, post_id, min(created_at, now))
        return self.check(channel, post_id, now)

    def check(self, channel: str, post_id: str, now: datetime) -> SpikeStarted | None:
        """Start or end the post's spike as its window stands at ``now``; the start, if one."""
        count = self.window_count(channel, post_id, now)
        key = (channel, post_id)
        if (current := self._open.get(key)) is not None:
            if count * 2 < current.start_count:
                del self._open[key]
            return None
        rate = self.baseline(channel, now)
        needed = threshold(rate, self.rule)
        if count < needed:
            return None
        started = SpikeStarted(
            spike_id=spike_id(channel, post_id, minute_of(now)),
            channel=channel,
            post_id=post_id,
            started_at=now,
            count=count,
            baseline=rate,
            threshold=needed,
            window=self.rule.window,
        )
        self._open[key] = _Open(started, count)
        return started

    def warm(self, comments: Iterable[tuple[str, str, datetime]], now: datetime) -> None:
        """Count what the inbox already holds, and open the spikes in course at ``now`` silently:
        a restart must not announce a spike again (its start was announced before)."""
        posts: set[tuple[str, str]] = set()
        for channel, post_id, created_at in comments:
            self.add(channel, post_id, created_at)
            posts.add((channel, post_id))
        for channel, post_id in sorted(posts):
            self.check(channel, post_id, now)
        self.forget(now)

    def settle(self, now: datetime) -> dict[str, int]:
        """End the spikes that have calmed by ``now``; per channel, the posts spiking still."""
        for channel, post_id in list(self._open):
            self.check(channel, post_id, now)
        self._tidy(now)
        return self.spiking()

    def spiking(self) -> dict[str, int]:
        counts = dict.fromkeys(self._channels, 0)
        for channel, _post in self._open:
            counts[channel] = counts.get(channel, 0) + 1
        return counts

    def open_spikes(self) -> list[SpikeStarted]:
        return [o.started for o in self._open.values()]

    def _tidy(self, now: datetime) -> None:
        # Once a window is enough: forgetting walks every count, and scrapes come every few seconds.
        if self._forgot_at is None or minute_of(now) - self._forgot_at >= self.rule.window_minutes:
            self.forget(now)

    def forget(self, now: datetime) -> None:
        """Drop the counts older than the window and the history need."""
        oldest = minute_of(now) - self.rule.window_minutes - self.rule.history_minutes
        for c in self._channels.values():
            c.minutes = {m: n for m, n in c.minutes.items() if m > oldest}
            c.posts = {
                p: kept for p, ms in c.posts.items() if (kept := {m: n for m, n in ms.items() if m > oldest})
            }
        self._forgot_at = minute_of(now)

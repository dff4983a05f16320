"""How a post's reach spreads over the hours after it: pure arithmetic on the local week.

A post's reactions come in with an exponential decay of the network's half-life (model.py's
docstring): ``exposure`` is the share of its first 24 h in each local hour-of-week, ``curve_of``
the expected reactions of a post at each 5-minute step of the week given hourly activity, and
``fit_half_life`` reads the half-life off how much of the +24 h count was in at +1 h and +6 h.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from services.scheduler.policy.rules import US_PER_HOUR, US_PER_MINUTE, offset_us

HOURS_PER_WEEK = 168
STEPS_PER_HOUR = 12  # 5-minute steps: Klout's 15-min grain is enough (§3.4); 5 min matches the grid
STEPS_PER_WEEK = HOURS_PER_WEEK * STEPS_PER_HOUR
LIFE_MINUTES = 1440  # slot-world.md and Klout count a post's first 24 h
THURSDAY_TO_MONDAY_MINUTES = 3 * 1440  # 1970-01-01 was a Thursday; the week starts Monday 00:00
MINUTES_PER_WEEK = 7 * 1440
HORIZONS = (60, 360, 1440)  # engagement.observed is emitted at +1 h, +6 h, +24 h (design.md)
_HALF_LIFE_PRIOR_POSTS = 3.0


def local_step(us: int, offset: int) -> int:
    """5-minute step of the local week (0 = Monday 00:00-00:05) of an instant."""
    minutes = (us + offset) // US_PER_MINUTE
    return ((minutes + THURSDAY_TO_MONDAY_MINUTES) % MINUTES_PER_WEEK) // 5


def exposure(at_us: int, h: float, zone: ZoneInfo) -> list[tuple[int, float]]:
    """Share of a post's first 24 h in each local hour-of-week it spans (tiny tails dropped).

    The hours are walked in whole microseconds: a walk in float minutes, at an instant off the
    whole second (a publisher's report), could land a sliver short of an hour and take it for the
    end of the post's reach."""
    out: list[tuple[int, float]] = []
    offset = offset_us(at_us, zone)
    end_us = at_us + LIFE_MINUTES * US_PER_MINUTE
    end_offset = offset_us(end_us, zone)
    t = at_us
    while t < end_us:
        if end_offset != offset:  # a DST change inside the post's life: convert each hour
            offset = offset_us(t, zone)
        local_us = t + offset + THURSDAY_TO_MONDAY_MINUTES * US_PER_MINUTE
        hour = (local_us // US_PER_HOUR) % HOURS_PER_WEEK
        nxt = min(t + US_PER_HOUR - local_us % US_PER_HOUR, end_us)
        elapsed, span = (t - at_us) / US_PER_MINUTE, (nxt - t) / US_PER_MINUTE
        share = math.exp2(-elapsed / h) - math.exp2(-(elapsed + span) / h)
        if share <= 1e-4:
            if out:
                break  # each later hour holds less
        elif out and out[-1][0] == hour:  # a DST fall-back repeats the hour just walked
            out[-1] = (hour, out[-1][1] + share)
        else:
            out.append((hour, share))
        t = nxt
    return out


def crowding_left(times: Sequence[int], at_us: int, half_life: float, kappa: float) -> float:
    """slot-world.md's crowding: 1 / (1 + κ Σ 2^(-(t - tj)/h)) over the posts at ``times`` (sorted,
    integer microseconds) in the 24 h before ``at_us``."""
    i = bisect.bisect_left(times, at_us)
    j = bisect.bisect_left(times, at_us - LIFE_MINUTES * US_PER_MINUTE)
    pressure = sum(math.exp2(-(at_us - t) / US_PER_MINUTE / half_life) for t in times[j:i])
    return 1.0 / (1.0 + kappa * pressure)


def curve_of(a: list[float], half_life: float) -> list[float]:
    """Expected reactions of a post at each 5-minute step of the local week, given the hourly
    activity ``a``: with d = 2^(-5/h), R(step) = (1 - d)·a(step) + d·R(step + 1) around the week,
    and the first 24 h are R(t) - d^288·R(t + 24 h)."""
    d = math.exp2(-5.0 / half_life)
    d_hour = d**STEPS_PER_HOUR
    # R at each hour start, around the cyclic week
    acc, weight = 0.0, 1.0
    for b in range(HOURS_PER_WEEK):
        acc += weight * a[b]
        weight *= d_hour
    r_start = [0.0] * (HOURS_PER_WEEK + 1)
    r_start[0] = (1.0 - d_hour) * acc / (1.0 - weight)
    r_start[HOURS_PER_WEEK] = r_start[0]
    for b in range(HOURS_PER_WEEK - 1, 0, -1):
        r_start[b] = (1.0 - d_hour) * a[b] + d_hour * r_start[b + 1]
    tails = [d ** (STEPS_PER_HOUR - j) for j in range(STEPS_PER_HOUR)]
    r = [0.0] * STEPS_PER_WEEK
    k = 0
    for b in range(HOURS_PER_WEEK):
        ab, nxt = a[b], r_start[b + 1]
        for tail in tails:
            r[k] = ab + tail * (nxt - ab)
            k += 1
    cut = d ** (LIFE_MINUTES // 5)
    day = LIFE_MINUTES // 5
    return [r[i] - cut * r[(i + day) % STEPS_PER_WEEK] for i in range(STEPS_PER_WEEK)]


def fit_half_life(counts: Iterable[dict[int, int]], prior_half_life: float) -> float:
    """Half-life from how much of the +24 h count was already in at +1 h and +6 h, each post's
    cumulative ``counts`` by horizon minutes; shrunk towards ``prior_half_life`` when posts are few."""
    sums = {60: [0, 0], 360: [0, 0]}
    n = 0
    for post in counts:
        full = post.get(1440)
        if not full:
            continue
        n += 1
        for early, acc in sums.items():
            if early in post:
                acc[0] += post[early]
                acc[1] += full
    if n == 0:
        return prior_half_life
    best, best_err = prior_half_life, math.inf
    h = 5.0
    while h < 4000:
        g_full = 1.0 - math.exp2(-1440 / h)
        err = 0.0
        for early, (num, den) in sums.items():
            if den:
                err += den * (num / den - (1.0 - math.exp2(-early / h)) / g_full) ** 2
        if err < best_err:
            best, best_err = h, err
        h *= 1.03
    w = _HALF_LIFE_PRIOR_POSTS
    return math.exp((w * math.log(prior_half_life) + n * math.log(best)) / (w + n))


def by_hour_of_day(exposures: list[list[tuple[int, float]]]) -> list[float]:
    """How many posts' worth of reach each local hour of the day has had."""
    seen = [0.0] * 24
    for ex in exposures:
        for b, x in ex:
            seen[b % 24] += x
    return seen

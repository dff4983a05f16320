"""The audiences bench.adversarial draws its channels from, and Ramadan as its worlds reshape them.

Each audience is relative activity by (weekday 0-6, hour), far from the national hours (evening
peak 19-21 h, morning 07-10 h) on purpose. ``audience_curve`` draws one with its random parts (a
floor, a strong weekday, which hours peak, ±10 % per hour); ``archetypes`` lists every audience
the sampler can draw without the per-hour noise, with how likely the sampler is to draw it, which
is what a learner that knew how these worlds are made would start from (bench/library_learner.py).
Both read one rule, ``level``.
"""

from __future__ import annotations

import math
import random

PEAKS: dict[str, list[tuple[int, float]]] = {
    "late_night": [(23, 1.0), (0, 1.0), (1, 0.9), (2, 0.6), (22, 0.6)],
    "dawn": [(4, 0.9), (5, 1.0), (6, 0.8), (3, 0.4)],
    "lunchtime": [(11, 0.6), (12, 1.0), (13, 0.8)],
    "afternoon": [(14, 0.7), (15, 1.0), (16, 0.9)],
}
AUDIENCES = ("late_night", "dawn", "lunchtime", "weekend", "one_weekday", "afternoon")
# the peaks an audience without its own (weekend, one strong weekday) takes one of
BORROWED_PEAKS = ("lunchtime", "afternoon", "late_night")
FLOOR_RANGE = (0.03, 0.12)
STRONG_DAY_FACTOR = 4.0
# Ramadan as the calendar worlds' hidden truth: up for sahur 02-04 h, online after tarawih 21-23 h,
# away at iftar (18 h) and tarawih (19-20 h); the other hours at half the channel's usual.
RAMADAN_HOURS = {2: 0.7, 3: 1.0, 4: 0.8, 21: 0.6, 22: 0.8, 23: 0.6, 18: 0.04, 19: 0.04, 20: 0.1}
RAMADAN_REST = 0.5
RAMADAN_FLOOR = 0.02
# Ramadans other than that one, to judge a policy whose Ramadan prior assumes it (its REGIME_HOURS
# were written beside RAMADAN_HOURS): "kept", the usual week a little later in the evening and no
# sahur peak; "late", the usual week two hours later; "sahur_late", sahur at 04-06 h and the
# after-tarawih hours at 22-00 h.
RAMADAN_FAMILIES = ("ours", "kept", "late", "sahur_late")
_KEPT = {21: 1.15, 22: 1.15, 23: 1.15, 18: 0.9, 19: 0.9}
_SAHUR_LATE = {4: 0.7, 5: 1.0, 6: 0.6, 22: 0.6, 23: 0.8, 0: 0.6, 18: 0.04, 19: 0.04, 20: 0.1}
# the library's floors: the sampler's uniform range at three points
_FLOOR_GRID = (0.045, 0.075, 0.105)


def level(audience: str, peaks: str, strong_day: int, floor: float, day: int, hour: int) -> float:
    """An audience's activity at (weekday, hour), before its per-hour noise; ``peaks`` names the
    PEAKS entry it uses (its own, or the one it borrowed)."""
    if audience == "weekend":
        return floor + (0.6 + 0.4 * math.exp(-((hour - 10) ** 2) / 18) if day >= 5 else 0.0)
    out = floor + dict(PEAKS[peaks]).get(hour, 0.0)
    if audience == "one_weekday" and day == strong_day:
        out *= STRONG_DAY_FACTOR
    return out


def audience_curve(rng: random.Random, audience: str) -> list[float]:
    """One of AUDIENCES as 168 hourly activities, Monday 00:00 first, with ±10 % noise per hour."""
    floor = rng.uniform(*FLOOR_RANGE)
    strong_day = rng.randrange(7)
    peaks = audience if audience in PEAKS else rng.choice(BORROWED_PEAKS)
    return [
        round(level(audience, peaks, strong_day, floor, day, hour) * math.exp(rng.gauss(0, 0.1)), 4)
        for day in range(7)
        for hour in range(24)
    ]


def archetypes() -> list[tuple[float, list[float]]]:
    """Every audience ``audience_curve`` can draw, without its per-hour noise, on three floors:
    (the probability the sampler gives it, its 168 hourly activities). The weekend audience does
    not read its peaks, nor any but one_weekday its strong day, so each is one archetype a floor."""
    out: list[tuple[float, list[float]]] = []
    for audience in AUDIENCES:
        variants = [(audience, 0)]
        if audience == "one_weekday":
            variants = [(peaks, day) for peaks in BORROWED_PEAKS for day in range(7)]
        elif audience == "weekend":
            variants = [(BORROWED_PEAKS[0], 0)]
        share = 1.0 / len(AUDIENCES) / len(variants) / len(_FLOOR_GRID)
        for peaks, strong_day in variants:
            for floor in _FLOOR_GRID:
                week = [level(audience, peaks, strong_day, floor, d, h) for d in range(7) for h in range(24)]
                out.append((share, week))
    return out


def ramadan_shape(base: list[float], family: str = "ours") -> list[float]:
    """``base`` as a Ramadan of ``family`` (RAMADAN_FAMILIES) reshapes it, before noise; "ours":
    RAMADAN_HOURS, the others at RAMADAN_REST."""
    n = len(base)
    if family == "ours":
        shaped = [RAMADAN_HOURS.get(b % 24, base[b] * RAMADAN_REST) for b in range(n)]
    elif family == "kept":
        shaped = [base[b] * _KEPT.get(b % 24, 1.0) for b in range(n)]
    elif family == "late":
        shaped = [base[(b - 2) % n] for b in range(n)]
    elif family == "sahur_late":
        shaped = [_SAHUR_LATE.get(b % 24, base[b] * RAMADAN_REST) for b in range(n)]
    else:
        raise ValueError(f"a Ramadan family is one of {RAMADAN_FAMILIES}, not {family!r}")
    return [max(RAMADAN_FLOOR, x) for x in shaped]


def ramadan_curve(rng: random.Random, base: list[float], family: str = "ours") -> list[float]:
    """``ramadan_shape`` of ``base`` with ±10 % per hour, the hidden truth of a calendar world's
    Ramadan season."""
    return [round(x * math.exp(rng.gauss(0, 0.1)), 4) for x in ramadan_shape(base, family)]

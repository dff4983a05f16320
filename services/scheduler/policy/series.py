"""The smooth fit's series (smooth.py): its basis, its prior's precision, and what its numbers
multiply the prior's hours by.

Log activity by local hour-of-week is the prior's shape plus a short circular (Fourier) series
over the hour of the day and one effect per day of the week::

    log a_b = log P_b + Σ_k (c_k cos(2πk·h/24) + s_k sin(2πk·h/24)) + δ_day(b)
"""

from __future__ import annotations

import math

from services.scheduler.policy.reach import HOURS_PER_WEEK

HARMONICS = 3  # periods 24, 12 and 8 h: a peak of about 4 h width, and two peaks a day
HARMONIC_SD = 1.0  # a peak e^2 above the day's mean is within 2 sd of the prior
DAY_SD = 0.7  # a weekend-only audience is ~e^2 above its weekdays
PARAMS = 2 * HARMONICS + 7


def _daily(hour: int) -> list[float]:
    row: list[float] = []
    for k in range(1, HARMONICS + 1):
        angle = 2 * math.pi * k * hour / 24
        row += [math.cos(angle), math.sin(angle)]
    return row


DAILY = [_daily(hour) for hour in range(24)]
PRECISION = [1 / HARMONIC_SD**2] * (2 * HARMONICS) + [1 / DAY_SD**2] * 7


def eta(theta: list[float]) -> list[float]:
    """η by hour-of-week: the daily series (24 values) plus each day's effect."""
    h = 2 * HARMONICS
    daily = [sum(t * x for t, x in zip(theta[:h], DAILY[hour], strict=True)) for hour in range(24)]
    return [min(30.0, daily[b % 24] + theta[h + b // 24]) for b in range(HOURS_PER_WEEK)]


def multipliers(theta: list[float]) -> list[float]:
    """exp(series) by hour-of-week: what the series multiplies the prior's shape by."""
    return [math.exp(x) for x in eta(theta)]


def project(values: list[float]) -> list[float]:
    """The series' harmonics closest to 24 hourly values (their first HARMONICS Fourier pairs)."""
    return [2 / 24 * sum(values[h] * DAILY[h][i] for h in range(24)) for i in range(2 * HARMONICS)]

"""The fit of a channel's engagement model: a Poisson EM over its posts (model.py's docstring).

Pure: ``fit_em`` reads a post's rows and the model's prior, and updates the ``Fit`` it is given
(warm-started from the last fit, so usually a few rounds). Each round rescales, re-attributes
the posts' reactions to the hours they reached, re-estimates how noisy a post is, and updates the
hour-of-day, day and hour-of-week multipliers under fixed, weak prior weights.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from services.scheduler.policy.reach import HOURS_PER_WEEK

PRIOR_CV2 = 0.16  # quality of items varies ~40 % (assumption), corrected from residuals
PRIOR_CV2_KNOWN = 0.04  # what is left once the item's other channels have measured it
# Prior spread of the multipliers around the prior's shape. Weak on purpose: a channel's audience
# may be nothing like the national hours (a late-night or a weekend-only audience), and a post is
# a noisy sample (its item's quality varies several-fold), so a prior held tightly outweighs weeks
# of a channel's own evidence. Empirical Bayes weights were tried and dropped: with one or two
# effective reactions per hour they cannot tell a contradicting audience from noise, and chose
# the tightest weight (docs/scheduling.md). An hour of the week is seen once a week at best, so v
# is held tighter than the hour of the day.
HOUR_OF_DAY_SD = 1.0
DAY_SD = 0.5
HOUR_OF_WEEK_SD = 0.15
# Gamma shapes (= rates: mean 1) of the multipliers
ALPHA_HOUR_OF_DAY = 1.0 / HOUR_OF_DAY_SD**2
ALPHA_DAY = 1.0 / DAY_SD**2
ALPHA_HOUR_OF_WEEK = 1.0 / HOUR_OF_WEEK_SD**2
# A post's weight halves every FORGET_DAYS behind the channel's latest post (audiences change over
# weeks); the same span is what a trial's lesson is worth to (explore.py's posts ahead).
FORGET_DAYS = 28.0
_MAX_EM_ROUNDS = 40
_EM_TOLERANCE = 0.002  # multipliers closer than 0.2 % change no slot choice

Row = tuple[float, float, list[tuple[int, float]], float, bool, float]
"""One post as the fit reads it: (reactions extrapolated to 24 h, what the model knows besides
the hour, its exposure by hour-of-week, the share of reactions in by its horizon, whether its
item's quality is known, its recency weight)."""


@dataclass
class Fit:
    """A channel's fitted state: scale, noise, the multipliers and the evidence behind them."""

    prior_eff: list[float]  # the prior's shape
    scale: float = 1.0
    cv2: float = PRIOR_CV2  # dispersion of posts whose item quality is unknown
    cv2_known: float = PRIOR_CV2_KNOWN  # ... and of posts whose quality other channels measured
    u: list[float] = field(default_factory=lambda: [1.0] * 24)
    d: list[float] = field(default_factory=lambda: [1.0] * 7)
    v: list[float] = field(default_factory=lambda: [1.0] * HOURS_PER_WEEK)
    z: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)  # effective reactions by hour
    e: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)  # effective exposure by hour


def hour_of_day_evidence(
    z: list[float], e: list[float], d: list[float], v: list[float]
) -> tuple[list[float], list[float]]:
    """Reactions and exposure pooled by hour of the day (over the week's days)."""
    zu = [sum(z[hod::24]) for hod in range(24)]
    eu = [sum(e[b] * d[b // 24] * v[b] for b in range(hod, HOURS_PER_WEEK, 24)) for hod in range(24)]
    return zu, eu


def day_evidence(
    z: list[float], e: list[float], u: list[float], v: list[float]
) -> tuple[list[float], list[float]]:
    """Reactions and exposure pooled by day of the week."""
    zd = [sum(z[k * 24 : k * 24 + 24]) for k in range(7)]
    ed = [sum(e[b] * u[b % 24] * v[b] for b in range(k * 24, k * 24 + 24)) for k in range(7)]
    return zd, ed


def draw_hours(fit: Fit, rng: random.Random, share: float) -> tuple[list[float], list[float]]:
    """One Thompson draw of the hour-of-day and day multipliers from their Gamma posteriors;
    ``share`` scales their variance (shape and rate divided alike keep the mean)."""
    z, e, d, v = fit.z, fit.e, fit.d, fit.v
    zu, eu = hour_of_day_evidence(z, e, d, v)
    a = ALPHA_HOUR_OF_DAY
    u = [rng.gammavariate((a + zu[k]) / share, share / (a + eu[k])) for k in range(24)]
    zd, ed = day_evidence(z, e, u, v)
    a = ALPHA_DAY
    d = [rng.gammavariate((a + zd[k]) / share, share / (a + ed[k])) for k in range(7)]
    return u, d


def fit_em(rows: list[Row], fit: Fit) -> None:
    """Fit the multipliers to ``rows`` by Poisson EM, starting from and updating ``fit``."""
    u, d, v = fit.u, fit.d, fit.v
    a_u, a_d, a_v = ALPHA_HOUR_OF_DAY, ALPHA_DAY, ALPHA_HOUR_OF_WEEK
    for _ in range(_MAX_EM_ROUNDS):
        before = u + d + v
        prior = fit.prior_eff
        shapes = [
            sum(x * prior[b] * u[b % 24] * d[b // 24] * v[b] for b, x in ex) for _, _, ex, _, _, _ in rows
        ]
        expected = sum(r[1] * r[5] * s for r, s in zip(rows, shapes, strict=True))
        # floored so a channel whose posts all got 0 reactions keeps the prior's shape
        fit.scale = max(sum(r[0] * r[5] for r in rows) / max(expected, 1e-12), 1e-6)
        z, e = attribute(rows, shapes, fit, u, d, v)
        zu, eu = hour_of_day_evidence(z, e, d, v)
        u = [(a_u + zu[k]) / (a_u + eu[k]) for k in range(24)]
        zd, ed = day_evidence(z, e, u, v)
        d = [(a_d + zd[k]) / (a_d + ed[k]) for k in range(7)]
        v = [(a_v + z[b]) / (a_v + e[b] * u[b % 24] * d[b // 24]) for b in range(HOURS_PER_WEEK)]
        if max(abs(x - y) for x, y in zip(u + d + v, before, strict=True)) < _EM_TOLERANCE:
            break
    fit.u, fit.d, fit.v, fit.z, fit.e = u, d, v, z, e


def attribute(
    rows: list[Row], shapes: list[float], fit: Fit, u: list[float], d: list[float], v: list[float]
) -> tuple[list[float], list[float]]:
    """Each post's reactions and exposure, weighted by how noisy it is, spread over the hours it
    reached (the E step); re-estimates that noise (``cv2``) from the posts that are complete."""
    prior = fit.prior_eff
    z = [0.0] * HOURS_PER_WEEK
    e = [0.0] * HOURS_PER_WEEK
    resid, norm, full = [0.0, 0.0], [0.0, 0.0], [0, 0]  # by quality unknown / known
    cv2 = (fit.cv2, fit.cv2_known)
    for (n, m, ex, captured, known, recency), shape in zip(rows, shapes, strict=True):
        mu = fit.scale * m * shape
        # quasi-Poisson: var = mu·(1/G + cv²·mu), cv² the spread an item's quality adds
        weight = recency / (1.0 / captured + cv2[known] * mu)
        if captured > 0.9:
            resid[known] += (n - mu) ** 2 - mu / captured
            norm[known] += mu * mu
            full[known] += 1
        if shape <= 0:
            continue
        for b, x in ex:
            part = x * prior[b] * u[b % 24] * d[b // 24] * v[b]
            z[b] += weight * n * part / shape
            e[b] += weight * fit.scale * m * x * prior[b]
    if norm[0] > 0:
        data_cv2 = min(1.0, max(0.005, resid[0] / norm[0]))
        fit.cv2 = (10 * PRIOR_CV2 + full[0] * data_cv2) / (10 + full[0])
    if norm[1] > 0:
        data_cv2 = min(1.0, max(0.005, resid[1] / norm[1]))
        fit.cv2_known = (10 * PRIOR_CV2_KNOWN + full[1] * data_cv2) / (10 + full[1])
    return z, e

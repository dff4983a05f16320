"""The fit of a channel's engagement model: a Poisson EM over its posts (model.py's docstring).

Pure: ``fit_em`` reads a post's rows and the model's prior, and updates the ``Fit`` it is given
(warm-started from the last fit, so usually a few rounds). Each round rescales, re-attributes
the posts' reactions to the hours they reached, re-estimates how noisy a post is, and picks the
hour-of-day and day multipliers with prior weights chosen by empirical Bayes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.scheduler.policy.reach import HOURS_PER_WEEK

PRIOR_CV2 = 0.16  # quality of items varies ~40 % (assumption), corrected from residuals
PRIOR_CV2_KNOWN = 0.04  # what is left once the item's other channels have measured it
# Prior spread of the multipliers around the national hours. Fixed, not tied to the noise of a
# post: when posts are less noisy (quality known from other channels), fewer of them should move
# the curve, not more. An hour of the week is seen once a week at best, so v is held tighter.
HOUR_OF_DAY_SD = 0.3
HOUR_OF_WEEK_SD = 0.15
# Gamma shapes (= rates: mean 1) of the hour-of-day and day-of-week factors when the evidence does
# not say otherwise; the fit picks each from ALPHA_GRID by marginal likelihood (empirical Bayes).
ALPHA_HOUR_OF_DAY = 1.0 / HOUR_OF_DAY_SD**2
ALPHA_DAY = 1.0 / 0.2**2
ALPHA_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
ALPHA_PRIOR_SD = 1.5  # spread, in log, of the prior weight itself around its default
TEMPER_POWER = 1.0  # how fast the prior's shape flattens as its weight falls
_MAX_EM_ROUNDS = 40
_EM_TOLERANCE = 0.002  # multipliers closer than 0.2 % change no slot choice

Row = tuple[float, float, list[tuple[int, float]], float, bool, float]
"""One post as the fit reads it: (reactions extrapolated to 24 h, what the model knows besides
the hour, its exposure by hour-of-week, the share of reactions in by its horizon, whether its
item's quality is known, its recency weight)."""


@dataclass
class Fit:
    """A channel's fitted state: scale, noise, the multipliers and the evidence behind them."""

    prior_eff: list[float]  # the prior's shape, tempered once the evidence contradicts it
    scale: float = 1.0
    cv2: float = PRIOR_CV2  # dispersion of posts whose item quality is unknown
    cv2_known: float = PRIOR_CV2_KNOWN  # ... and of posts whose quality other channels measured
    u: list[float] = field(default_factory=lambda: [1.0] * 24)
    d: list[float] = field(default_factory=lambda: [1.0] * 7)
    v: list[float] = field(default_factory=lambda: [1.0] * HOURS_PER_WEEK)
    alpha_u: float = ALPHA_HOUR_OF_DAY
    alpha_d: float = ALPHA_DAY
    gamma: float = 1.0
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


def eb_alpha(z: list[float], e: list[float], default: float) -> float:
    """The Gamma(a, a) prior weight of a factor under which its evidence is likeliest.

    Each cell's effective count z ~ Poisson(f·e) with f ~ Gamma(a, a) is negative binomial, so the
    marginal log-likelihood is Σ lgamma(a+z) - lgamma(a) + a·log a - (a+z)·log(a+e); a log-normal
    hyperprior around ``default`` keeps a channel with few posts near the default.
    """
    best, best_ll = default, -math.inf
    for a in (*ALPHA_GRID, default):
        ll = -((math.log(a / default)) ** 2) / (2 * ALPHA_PRIOR_SD**2)
        for zi, ei in zip(z, e, strict=True):
            if ei > 0:
                ll += math.lgamma(a + zi) - math.lgamma(a) + a * math.log(a) - (a + zi) * math.log(a + ei)
        if ll > best_ll:
            best, best_ll = a, ll
    return best


def fit_em(rows: list[Row], prior_activity: list[float], fit: Fit) -> None:
    """Fit the multipliers to ``rows`` by Poisson EM, starting from and updating ``fit``."""
    u, d, v = fit.u, fit.d, fit.v
    alpha_v = 1.0 / HOUR_OF_WEEK_SD**2
    for _ in range(_MAX_EM_ROUNDS):
        before = u + d + v
        prior = fit.prior_eff
        shapes = [
            sum(x * prior[b] * u[b % 24] * d[b // 24] * v[b] for b, x in ex) for _, _, ex, _, _, _ in rows
        ]
        expected = sum(r[1] * r[5] * s for r, s in zip(rows, shapes, strict=True))
        # floored so a channel whose posts all got 0 reactions keeps the prior's shape
        fit.scale = max(sum(r[0] * r[5] for r in rows) / max(expected, 1e-12), 1e-6)
        z, e = _attribute(rows, shapes, fit, u, d, v)
        # Empirical Bayes: each factor's prior weight is the one under which the channel's own
        # evidence is likeliest, so an audience unlike the prior soon outweighs it.
        zu, eu = hour_of_day_evidence(z, e, d, v)
        fit.alpha_u = eb_alpha(zu, eu, ALPHA_HOUR_OF_DAY)
        u = [(fit.alpha_u + zu[k]) / (fit.alpha_u + eu[k]) for k in range(24)]
        zd, ed = day_evidence(z, e, u, v)
        fit.alpha_d = eb_alpha(zd, ed, ALPHA_DAY)
        d = [(fit.alpha_d + zd[k]) / (fit.alpha_d + ed[k]) for k in range(7)]
        v = [(alpha_v + z[b]) / (alpha_v + e[b] * u[b % 24] * d[b // 24]) for b in range(HOURS_PER_WEEK)]
        _temper(fit, prior_activity)
        if max(abs(x - y) for x, y in zip(u + d + v, before, strict=True)) < _EM_TOLERANCE:
            break
    fit.u, fit.d, fit.v, fit.z, fit.e = u, d, v, z, e


def _attribute(
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


def _temper(fit: Fit, prior_activity: list[float]) -> None:
    """The prior's shape counts as much as its weight: once the evidence has shown the national
    hours to be wrong for this channel (a small hour-of-day weight), the hours it has not
    reached yet are no longer assumed to follow them either."""
    gamma = min(1.0, fit.alpha_u / ALPHA_HOUR_OF_DAY) ** TEMPER_POWER
    if abs(gamma - fit.gamma) < 0.02:
        return
    fit.gamma = gamma
    mean = sum(prior_activity) / HOURS_PER_WEEK
    fit.prior_eff = [mean * (x / mean) ** gamma for x in prior_activity]

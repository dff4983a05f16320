"""A prior that is a mixture of audience shapes, over the smooth fit's series (series.py).

The series' Gaussian prior is centred on the national hours, and a channel's posts pull it away
only as fast as their evidence outweighs it at every hour at once. A mixture lets a handful of
posts choose among whole shapes: the national hours, a day without a peak, or a day that peaks at
any hour (one bump every BUMP_STEP hours, none favoured), each held near its shape, beside the
broad prior (centred on the national hours at HARMONIC_SD) for audiences none of them describes.

The shapes share the likelihood, which the fit's Laplace approximation already gives as a
Gaussian in the series' numbers: precision H = P - Λ and linear term P·mode, with P the posterior
precision at the broad prior's mode and Λ that prior's precision. So each shape's posterior and
evidence are closed-form, without a fit of their own:

    P_j = H + Λ_j,   m_j = P_j⁻¹ (Λ_j μ_j + P·mode),
    log Z_j = log π_j + ½ log|Λ_j| - ½ log|P_j| - ½ μ_jᵀ Λ_j μ_j + ½ m_jᵀ P_j m_j.

The shapes differ in the hours of the day only; the day-of-week effects keep the broad prior's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.scheduler.policy.linalg import cholesky, log_det, solve
from services.scheduler.policy.reach import HOURS_PER_WEEK
from services.scheduler.policy.rules import InvalidRequest
from services.scheduler.policy.series import HARMONICS, PRECISION, multipliers, project

# How much of the prior the shapes hold together (the broad prior the rest); 0, the default, is
# the broad prior alone. At 0.6 it gained +0.013 (s.e. 0.007) on 128 held-out worlds and lost
# 0.006 (s.e. 0.006) on 256 fresh ones (docs/scheduling.md, "a prior over whole audience shapes").
# Of their share: the national hours NATIONAL, a flat day FLAT, the bumps the rest.
SHAPES_WEIGHT = 0.0
NATIONAL = 0.5
FLAT = 1 / 12
BUMP_STEP = 2  # a peak at every other hour of the day
BUMP_HEIGHT = 2.0  # log units: the peak e^2 above the quiet hours
BUMP_WIDTH = 2.5  # hours, the bump's sd
SHAPE_SD = 0.4  # how far a channel's harmonics may stray from its shape (0.3 gained less)
_H = 2 * HARMONICS
_NEGLIGIBLE = 1e-4  # a shape with less posterior weight is dropped from the draws and the mean


@dataclass(frozen=True)
class Component:
    """One shape's posterior: its weight, its mean and its precision's Cholesky factor."""

    weight: float
    theta: list[float]
    chol: list[list[float]]

    def shifted(self, level: float) -> Component:
        """The same with ``level`` added to every day's effect (what the fit moves into its scale)."""
        return Component(self.weight, [*self.theta[:_H], *(t + level for t in self.theta[_H:])], self.chol)


def weight_of(given: float | None, default: float = SHAPES_WEIGHT, name: str = "shapes_weight") -> float:
    """The weight of a part of the prior a model takes: ``given``, or ``default`` for None. A
    weight outside [0, 1] (or NaN) is refused here, at construction or when a saved state is
    loaded, not left to fail inside a later fit."""
    weight = default if given is None else given
    if not 0.0 <= weight <= 1.0:
        raise InvalidRequest(f"{name} must be within [0, 1], not {weight}")
    return weight


def _bump(peak: int) -> list[float]:
    out = []
    for h in range(24):
        d = min(abs(h - peak), 24 - abs(h - peak))
        out.append(BUMP_HEIGHT * math.exp(-d * d / (2 * BUMP_WIDTH**2)))
    return out


_BUMPS = [project(_bump(peak)) for peak in range(0, 24, BUMP_STEP)]  # the same for every prior
_TIGHT = [1 / SHAPE_SD**2] * _H + PRECISION[_H:]


@dataclass(frozen=True)
class Part:
    """One component of the prior: its weight, its mean in the series' numbers (relative to the
    channel's prior hours) and its precision's diagonal (or ``full`` matrix); ``broad`` marks the
    fit's own prior, whose posterior the fit has already factored."""

    weight: float
    mean: list[float]
    lam: list[float]
    broad: bool = False
    full: list[list[float]] | None = None  # a full precision matrix, in place of ``lam``


def components(prior: list[float], weight: float) -> list[Part]:
    """The broad prior and each shape (none when ``weight`` is 0); a shape's mean is the series'
    numbers that turn ``prior``'s hours (168) into it."""
    out = [Part(1 - weight, [0.0] * (_H + 7), list(PRECISION), broad=True)]
    if weight <= 0:
        return out
    daily = [sum(math.log(prior[d * 24 + h]) for d in range(7)) / 7 for h in range(24)]
    base = project(daily)
    days = [0.0] * 7
    each = weight * (1 - NATIONAL - FLAT) / len(_BUMPS)
    out.append(Part(weight * NATIONAL, [0.0] * (_H + 7), _TIGHT))
    out.append(Part(weight * FLAT, [-c for c in base] + days, _TIGHT))
    for bump in _BUMPS:
        out.append(Part(each, [c - b for c, b in zip(bump, base, strict=True)] + days, _TIGHT))
    return out


def posterior(
    mode: list[float], hessian: list[list[float]], chol: list[list[float]], parts: list[Part]
) -> list[Component]:
    """Each part's posterior, from the broad prior's ``mode``, the ``hessian`` there (the
    posterior precision) and its Cholesky factor ``chol``; parts of negligible weight dropped."""
    n = len(mode)
    b = [sum(hessian[i][j] * mode[j] for j in range(n)) for i in range(n)]
    logs: list[float] = []
    kept_parts: list[tuple[list[float], list[list[float]]]] = []
    for part in parts:
        if part.weight <= 0:
            continue
        mean = part.mean
        full = part.full or [[part.lam[i] if i == j else 0.0 for j in range(n)] for i in range(n)]
        low = (
            chol
            if part.broad
            else cholesky(
                [
                    [hessian[i][j] - (PRECISION[i] if i == j else 0.0) + full[i][j] for j in range(n)]
                    for i in range(n)
                ]
            )
        )
        c = [bi + sum(f * m for f, m in zip(row, mean, strict=True)) for bi, row in zip(b, full, strict=True)]
        m = solve(low, c)
        log_z = math.log(part.weight) + 0.5 * log_det(cholesky(full)) - 0.5 * log_det(low)
        log_z += 0.5 * sum(ci * mi for ci, mi in zip(c, m, strict=True))
        log_z -= 0.5 * sum(mean[i] * full[i][j] * mean[j] for i in range(n) for j in range(n))
        logs.append(log_z)
        kept_parts.append((m, low))
    top = max(logs)
    raw = [math.exp(x - top) for x in logs]
    kept = [(w, m, low) for w, (m, low) in zip(raw, kept_parts, strict=True) if w >= _NEGLIGIBLE * sum(raw)]
    total = sum(w for w, _, _ in kept)
    return [Component(w / total, m, low) for w, m, low in kept]


def pick(mixture: list[Component], u: float) -> tuple[list[float], list[list[float]]]:
    """The mean and factor of the shape a uniform ``u`` in [0, 1) falls on, by weight."""
    acc = 0.0
    for c in mixture:
        acc += c.weight
        if u < acc:
            return c.theta, c.chol
    return mixture[-1].theta, mixture[-1].chol


def mean_multipliers(mixture: list[Component]) -> list[float]:
    """The mixture's mean multiplier by hour-of-week (each shape's at its posterior mean)."""
    out = [0.0] * HOURS_PER_WEEK
    for c in mixture:
        for b, x in enumerate(multipliers(c.theta)):
            out[b] += c.weight * x
    return out

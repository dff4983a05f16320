"""The other channels of a deployment as a prior: an audience its channels share is learned once.

A bureau's channels often reach one public: a young city's audience is online late at night on
Instagram and on TikTok alike, a community's at weekends on every channel. Each channel's model
learns its hours from its own one or two posts a day, so each pays for the same lesson apart.
Here the other channels' evidence together becomes one more component of a channel's prior
mixture (shapes.py's): the hours all of them say, held at POOL_SD a number around what they
say. The channel's own posts weigh that component against the broad prior by its evidence, so
when the channel's audience is unlike the others' (a WITA bureau whose platforms differ) the
component loses its weight after a few posts and the broad prior decides as before.

What a sibling contributes is its fit's likelihood, the Gaussian its posts give the series'
numbers (the Laplace approximation's Hessian less the prior's precision, A, and its linear
term b): no prior of its own, and nothing it learned from the asking channel, so two channels do
not echo each other. It is moved into the asking channel's numbers (a sibling's series is relative
to its own prior's hours), and its days' common level, which each channel's scale holds, is left
out. All siblings' evidence adds up under the broad prior:

    M = Λ + Σ_s A_s,   m = M⁻¹ Σ_s b_s,   the component: N(m, M⁻¹ + POOL_SD² I).

A sibling is read from its last fit, not refitted for the asking channel. A calendar regime's
model (Ramadan) pools with the other channels' models of the same regime.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from services.scheduler.policy.linalg import cholesky, solve
from services.scheduler.policy.series import HARMONICS, PARAMS, PRECISION, project
from services.scheduler.policy.shapes import Part, weight_of

# The share of the prior the siblings' component holds; 0 turns pooling off.
POOL_WEIGHT = 0.0
POOL_SD = 0.4  # how far a channel's numbers may stray from what its siblings say together
_H = 2 * HARMONICS
_LEVEL = [0.0] * _H + [1.0] * 7  # the days' common level: each channel's own scale

Matrix = list[list[float]]


@dataclass(frozen=True)
class Shape:
    """What a channel's posts say of its hours, as its siblings read it: the log of its prior's
    hours (168) and its fit's likelihood in its series' numbers (precision, linear term)."""

    log_prior: list[float]
    precision: Matrix
    linear: list[float]


@dataclass(frozen=True)
class Pooled:
    """What one fit pools with: the siblings' shapes and the share of the prior they hold."""

    weight: float
    shapes: list[Shape]


def likelihood(mode: list[float], hessian: Matrix) -> tuple[Matrix, list[float]]:
    """The likelihood's precision and linear term of a fit whose posterior under the broad prior
    (mean 0, precision PRECISION) has ``mode`` and ``hessian``: H - Λ and H·mode."""
    n = len(mode)
    precision = [[hessian[i][j] - (PRECISION[i] if i == j else 0.0) for j in range(n)] for i in range(n)]
    linear = [sum(hessian[i][j] * mode[j] for j in range(n)) for i in range(n)]
    return precision, linear


def shape_of(prior: list[float], evidence: tuple[Matrix, list[float]]) -> Shape:
    return Shape([math.log(p) for p in prior], *evidence)


def between(log_from: list[float], log_to: list[float]) -> list[float]:
    """The series' numbers that turn hours ``log_from`` into ``log_to`` (168 logs each): the
    harmonics of their ratio by hour of the day, and its day effects centred."""
    diff = [b - a for a, b in zip(log_from, log_to, strict=True)]
    harmonics = project([sum(diff[d * 24 + h] for d in range(7)) / 7 for h in range(24)])
    days = [sum(diff[d * 24 : d * 24 + 24]) / 24 for d in range(7)]
    level = sum(days) / 7
    return harmonics + [x - level for x in days]


def _without_level(precision: Matrix, linear: list[float]) -> tuple[Matrix, list[float]]:
    """The likelihood with the days' common level integrated out (under a flat prior)."""
    a_u = [sum(row[j] * _LEVEL[j] for j in range(PARAMS)) for row in precision]
    u_a_u = sum(x * y for x, y in zip(a_u, _LEVEL, strict=True))
    if u_a_u <= 1e-12:
        return precision, linear
    u_b = sum(x * y for x, y in zip(linear, _LEVEL, strict=True))
    reduced = [[precision[i][j] - a_u[i] * a_u[j] / u_a_u for j in range(PARAMS)] for i in range(PARAMS)]
    return reduced, [b - a * u_b / u_a_u for a, b in zip(a_u, linear, strict=True)]


def _inverse(a: Matrix) -> Matrix:
    low = cholesky(a)
    columns = [solve(low, [1.0 if i == j else 0.0 for i in range(PARAMS)]) for j in range(PARAMS)]
    return [[columns[j][i] for j in range(PARAMS)] for i in range(PARAMS)]


def joint_part(prior: list[float], shapes: list[Shape], weight: float) -> Part:
    """The siblings' ``shapes`` together as a component of the prior of a channel whose prior
    hours are ``prior``, at ``weight`` (module docstring)."""
    log_prior = [math.log(p) for p in prior]
    total = [[PRECISION[i] if i == j else 0.0 for j in range(PARAMS)] for i in range(PARAMS)]
    linear = [0.0] * PARAMS
    for shape in shapes:
        delta = between(log_prior, shape.log_prior)  # θ_channel = θ_sibling + δ
        moved = [
            b + sum(a * d for a, d in zip(row, delta, strict=True))
            for row, b in zip(shape.precision, shape.linear, strict=True)
        ]
        a, b = _without_level(shape.precision, moved)
        total = [[x + y for x, y in zip(r, s, strict=True)] for r, s in zip(total, a, strict=True)]
        linear = [x + y for x, y in zip(linear, b, strict=True)]
    mean = solve(cholesky(total), linear)
    covariance = _inverse(total)
    for i in range(PARAMS):
        covariance[i][i] += POOL_SD**2
    return Part(weight, mean, [1.0] * PARAMS, full=_inverse(covariance))


def mixed(parts: list[Part], prior: list[float], pooled: Pooled) -> list[Part]:
    """``parts`` (the broad prior and any shapes) at 1 - the pooled weight, and the siblings'
    component at the pooled weight; ``parts`` unchanged when there is no sibling to pool with."""
    if not pooled.shapes or pooled.weight <= 0:
        return parts
    rest = 1 - pooled.weight
    out = [replace(p, weight=p.weight * rest) for p in parts]
    return [*out, joint_part(prior, pooled.shapes, pooled.weight)]


class Deployment:
    """The channels that pool their hours: each one's ``shape_for(regime)`` is what the others read
    (None: nothing learned there yet)."""

    def __init__(self, weight: float | None = None) -> None:
        self.weight = weight_of(weight, POOL_WEIGHT, "pool weight")
        self._members: dict[str, Callable[[str | None], Shape | None]] = {}

    def join(self, channel: str, shape_for: Callable[[str | None], Shape | None]) -> Pool:
        """Add ``channel``; returns the pool its model asks for its siblings' shapes."""
        self._members[channel] = shape_for
        return Pool(self, channel, None)

    def pooled(self, channel: str, regime: str | None) -> Pooled:
        shapes = []
        for other, shape_for in self._members.items():
            shape = None if other == channel else shape_for(regime)
            if shape is not None:
                shapes.append(shape)
        return Pooled(self.weight, shapes)


@dataclass(frozen=True)
class Pool:
    """One channel's (or one of its regime models') view of its deployment."""

    deployment: Deployment
    channel: str
    regime: str | None

    def pooled(self) -> Pooled:
        return self.deployment.pooled(self.channel, self.regime)

    def within(self, regime: str) -> Pool:
        return Pool(self.deployment, self.channel, regime)

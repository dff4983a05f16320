"""The other channels of a deployment as a prior: an audience its channels share is learned once.

A bureau's channels often reach one public: a young city's audience is online late at night on
Instagram and on TikTok alike, a community's at weekends on every channel. Each channel's model
learns its hours from its own one or two posts a day, so each pays for the same lesson apart. Here
every other channel's learned hours become one more component of a channel's prior mixture
(shapes.py's): held near that sibling's shape at POOL_SD a number, widened by what the sibling
itself is still unsure of. The channel's own posts weigh the components by their evidence, so a
sibling whose audience is unlike this one's (a WITA bureau whose platforms differ) loses its weight
after a few posts and the broad prior and the channel's evidence decide as before.

A sibling's shape is read from its broad prior's fit (``SmoothFit.theta``, never its mixture), so
two channels do not echo each other's component back, and from its last fit (not refitted for
the asking channel: a fit may only read, and a few hours' lag changes nothing).

A calendar regime's model (Ramadan) pools with its siblings' models of the same regime.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from services.scheduler.policy.linalg import forward
from services.scheduler.policy.series import HARMONICS, PARAMS, eta, project
from services.scheduler.policy.shapes import Part, weight_of

# The share of the prior all siblings hold together (each an equal part of it); 0 turns pooling off.
POOL_WEIGHT = 0.0
POOL_SD = 0.4  # how far a channel's numbers may stray from a sibling's, besides that sibling's doubt
_H = 2 * HARMONICS


@dataclass(frozen=True)
class Shape:
    """A channel's learned hours as its siblings read them: the log of its fitted activity by local
    hour-of-week (its prior times its series) and its series' posterior variance by number."""

    log_activity: list[float]
    variance: list[float]


@dataclass(frozen=True)
class Pooled:
    """What one fit pools with: the siblings' shapes and the share of the prior they hold."""

    weight: float
    shapes: list[Shape]


def shape_of(prior: list[float], theta: list[float], chol: list[list[float]]) -> Shape:
    """The shape of a fit whose series is ``theta`` over ``prior`` (168 hours), its posterior
    precision's Cholesky factor ``chol``: the variance of number i is |L⁻¹ e_i|²."""
    logs = [math.log(p) + x for p, x in zip(prior, eta(theta), strict=True)]
    variance = []
    for i in range(PARAMS):
        y = forward(chol, [1.0 if j == i else 0.0 for j in range(PARAMS)])
        variance.append(sum(v * v for v in y))
    return Shape(logs, variance)


def part_of(prior: list[float], shape: Shape, weight: float) -> Part:
    """A sibling's ``shape`` as a component of the prior of a channel whose prior hours are
    ``prior``: the series' numbers that turn ``prior`` into the shape (the days' effects centred,
    as the fit keeps its own), held at POOL_SD plus the sibling's own variance."""
    diff = [s - math.log(p) for s, p in zip(shape.log_activity, prior, strict=True)]
    harmonics = project([sum(diff[d * 24 + h] for d in range(7)) / 7 for h in range(24)])
    days = [sum(diff[d * 24 : d * 24 + 24]) / 24 for d in range(7)]
    level = sum(days) / 7
    lam = [1 / (POOL_SD**2 + v) for v in shape.variance]
    return Part(weight, harmonics + [x - level for x in days], lam)


def mixed(parts: list[Part], prior: list[float], pooled: Pooled) -> list[Part]:
    """``parts`` (the broad prior and any shapes) at 1 - the pooled weight, and each sibling at an
    equal share of it; ``parts`` unchanged when there is no sibling to pool with."""
    if not pooled.shapes or pooled.weight <= 0:
        return parts
    rest = 1 - pooled.weight
    out = [Part(p.weight * rest, p.mean, p.lam, p.broad) for p in parts]
    each = pooled.weight / len(pooled.shapes)
    return out + [part_of(prior, shape, each) for shape in pooled.shapes]


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

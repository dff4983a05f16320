"""What one more post would teach: the knowledge gradient of a trial over the smooth fit.

``Exploring(gradient=)`` (explore.py) scores each instant by its expected engagement plus what a
post there would add to the channel's *later* posts: how much better, on average, the best hour
of the day would be once its count is in (Frazier, Powell and Dayanik's knowledge gradient for
correlated beliefs). The belief is the smooth fit's Laplace posterior over its series (smooth.py);
a post started at hour t reaches the hours after it, weighted by the decay of its reach and by
their activity, so it teaches the series along that blend of hours, with the noise of one item's
quality and of its count. Hours a long half-life cannot tell apart are learned together, and a
trial is worth what it could change of the choice, not what the hour itself might hold.
"""

from __future__ import annotations

import math

from services.scheduler.policy.series import DAILY
from services.scheduler.policy.smooth import SmoothFit, covariance_times

# The standard normal on a grid: the expectation over one count's surprise (a 33-point rule is
# within 0.1 % of the exact expectation of a maximum of lognormals at the widths met here).
_Z = [k / 4 for k in range(-16, 17)]
_W = [math.exp(-z * z / 2) for z in _Z]
_W = [w / sum(_W) for w in _W]
_DAY_MEAN = [1 / 7] * 7  # a start hour taught over the week's days alike


def gradients(
    values: list[float], activity: list[float], half_life: float, fit: SmoothFit, cv2: float
) -> list[float]:
    """The knowledge gradient of one post started at each hour of the day: the expected gain of
    the best of ``values`` (a post's expected reactions at each start hour) once its count is
    known. ``activity`` is the mean activity by hour of the day, ``half_life`` the reach's (in
    minutes), ``cv2`` the squared variation of an item's quality."""
    features = [_taught(t, activity, half_life) for t in range(24)]
    best = max(values)
    out: list[float] = []
    for t in range(24):
        spread = covariance_times(fit, features[t])
        own = sum(a * b for a, b in zip(features[t], spread, strict=True))
        noise = cv2 + 1.0 / max(values[t], 1e-9)  # the log count's variance: quality and Poisson
        width = [
            sum(a * b for a, b in zip(f, spread, strict=True)) / math.sqrt(own + noise) for f in features
        ]
        expected = sum(
            w * max(v * math.exp(s * z - s * s / 2) for v, s in zip(values, width, strict=True))
            for z, w in zip(_Z, _W, strict=True)
        )
        out.append(max(0.0, expected - best))
    return out


def _taught(start: int, activity: list[float], half_life: float) -> list[float]:
    """The series' features a post started at ``start`` h informs: the hours its first 24 h
    reach, weighted by the reach's decay and their activity."""
    step = math.exp2(-60.0 / half_life)
    weights = [step**k * activity[(start + k) % 24] for k in range(24)]
    total = sum(weights) or 1.0
    out = [0.0] * (len(DAILY[0]) + 7)
    for k, w in enumerate(weights):
        for i, x in enumerate(DAILY[(start + k) % 24] + _DAY_MEAN):
            out[i] += w / total * x
    return out

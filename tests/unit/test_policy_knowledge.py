"""The knowledge gradient of a trial (policy/knowledge.py, ``Exploring(gradient=)``).

Judged by sampling (the count's surprise drawn, the best hour's gain averaged: none of the
quadrature's algebra), by the fit's own posterior (a channel that has posted only by day learns
more from a night post than from another daytime one), and by its limits (no doubt, nothing to
learn). The option is off by default (fresh held-out seeds did not back it, docs/scheduling.md).
"""

from __future__ import annotations

import math
import random

import pytest

from services.scheduler.policy import smooth
from services.scheduler.policy.knowledge import _taught, gradients
from services.scheduler.policy.model import EngagementModel
from tests.unit.test_policy_model import wita

FLAT = [1.0] * 24


def sampled_gain(values: list[float], fit: smooth.SmoothFit, t: int, cv2: float, half_life: float) -> float:
    """The same expectation by drawing the count's surprise: the posterior mean of each start
    hour's log value moves by its covariance with the trial's, per unit of the trial's spread."""
    features = [_taught(s, FLAT, half_life) for s in range(24)]
    spread = smooth.covariance_times(fit, features[t])
    own = sum(a * b for a, b in zip(features[t], spread, strict=True)) + cv2 + 1 / values[t]
    width = [sum(a * b for a, b in zip(f, spread, strict=True)) / math.sqrt(own) for f in features]
    rng = random.Random(3)
    n = 40_000
    total = 0.0
    for _ in range(n):
        z = rng.gauss(0.0, 1.0)
        total += max(v * math.exp(s * z - s * s / 2) for v, s in zip(values, width, strict=True))
    return total / n - max(values)


@pytest.mark.parametrize("t", [3, 12, 20])
def test_the_gradient_matches_sampling(t: int) -> None:
    fit = smooth.SmoothFit()  # the prior: every hour in doubt
    values = [1.0 + 0.5 * math.sin(2 * math.pi * h / 24) for h in range(24)]
    exact = gradients(values, FLAT, 60.0, fit, 0.16)[t]
    assert exact == pytest.approx(sampled_gain(values, fit, t, 0.16, 60.0), rel=0.05, abs=2e-3)


def test_no_doubt_leaves_nothing_to_learn() -> None:
    fit = smooth.SmoothFit()
    fit.chol = [[1e4 if i == j else 0.0 for j in range(len(fit.theta))] for i in range(len(fit.theta))]
    values = [1.0] * 24
    values[12] = 2.0
    assert max(gradients(values, FLAT, 60.0, fit, 0.16)) < 1e-6


def test_a_channel_that_posted_by_day_learns_most_from_a_night_post() -> None:
    model = EngagementModel("instagram", "Asia/Makassar", shape="smooth")
    for day in range(14):
        for hour in (9, 12, 15):
            at = wita(day, hour)
            for horizon in (60, 360, 1440):
                count = round(300 * (1 - math.exp2(-horizon / 60)))
                model.observe(at, horizon, count, post_id=f"{day}-{hour}")
    curve = model.curve()
    values = [sum(curve[(d * 24 + h) * 12] for d in range(7)) / 7 for h in range(24)]
    hourly = model.hourly()
    activity = [sum(hourly[h::24]) / 7 for h in range(24)]
    gains = gradients(values, activity, model.half_life, model._smooth, model.fitted.cv2)
    assert all(g >= 0 for g in gains)
    assert max(gains[0:6]) > gains[12]  # a night trial could change the choice; noon is known

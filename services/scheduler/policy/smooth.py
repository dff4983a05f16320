"""The daily shape as a few numbers: the engagement model's alternative to 24 free hours.

Log activity by local hour-of-week is the prior's shape plus a short circular (Fourier) series
over the hour of the day and one effect per day of the week::

    log a_b = log P_b + Σ_k (c_k cos(2πk·h/24) + s_k sin(2πk·h/24)) + δ_day(b)

With HARMONICS harmonics and 7 days that is 13 numbers, so a channel posting once or twice a day
learns its shape within days, and a neighbouring hour, which one post's reach cannot tell apart
from the hour it was posted at, is decided by the smoothness of the whole curve, not by the
prior alone. The numbers have a Gaussian prior centred on 0, that is on the prior's own shape: a
prior-like audience stays where it is, and one that contradicts it overturns it after a handful
of posts. The fit is the model's Poisson EM (fit.py's E step attributes each post's reactions to
the hours it reached) with a Newton M step, and its Laplace posterior (the Hessian at the mode)
is what Thompson sampling draws from, so the posterior's width does the exploring, near the
peaks the evidence still allows. With a weight on whole audience shapes (shapes.py), the prior is
a mixture of them beside this broad one, and the draws and the mean are the mixture's.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from services.scheduler.policy import shapes, siblings
from services.scheduler.policy.fit import Fit, Row, attribute
from services.scheduler.policy.linalg import backward, cholesky, forward, solve
from services.scheduler.policy.reach import HOURS_PER_WEEK
from services.scheduler.policy.series import DAILY, HARMONICS, PARAMS, PRECISION, eta, multipliers

# The posterior's width does most of the exploring: Thompson draws at its full variance, after
# 7 days of deliberate exploration (explore.py's EXPLORE_OPTIMISM; the 24-hour model takes 14).
# Trials spread around the clock (explore.py's spread) find a dawn audience within the week; a
# longer bound spends a busy channel's capped posts on trials it no longer needs (a crisis
# fortnight of bench.evaluation_like kept 0.976 of the oracle with 10 days, 1.006 with 7).
THOMPSON_SHARE = 1.0
EXPLORE_DAYS = 7.0
# An audience that moved: when the channel's last MOVE_POSTS posts earned, by their median, under
# MOVE_RATIO of what the fit expects while the posts before them earned about what it expects,
# the posts before the move count MOVED_WEIGHT as much (their hours are no longer the audience's).
MOVE_POSTS = 6
MOVE_RATIO = 0.4
MOVED_WEIGHT = 0.3
# A channel that explores again after a move (explore.py) pays a week of trials for a false one,
# so its detector also asks the last posts' mean log ratio to sit MOVE_Z standard errors (the
# earlier posts' spread: their items' quality and the counts' noise) under the earlier posts'.
# A one-weekday audience had set the median test off after its strong day (bench.adversarial
# adv-21, tuning half); weak items drag a median down less often than they drag a mean of logs
# that far.
MOVE_Z = 3.0
_MAX_EM_ROUNDS = 40
_EM_TOLERANCE = 0.002  # as fit.py: multipliers closer than 0.2 % change no slot choice


@dataclass
class SmoothFit:
    """The series' numbers at the posterior mode and the Cholesky factor of its precision; with
    ``shapes_weight`` > 0 or siblings ``pooled`` the prior is a mixture (shapes.py, siblings.py),
    and ``components`` its posterior."""

    theta: list[float] = field(default_factory=lambda: [0.0] * PARAMS)
    chol: list[list[float]] = field(
        default_factory=lambda: [
            [math.sqrt(PRECISION[i]) if i == j else 0.0 for j in range(PARAMS)] for i in range(PARAMS)
        ]
    )
    shapes_weight: float = 0.0
    components: list[shapes.Component] = field(default_factory=list)
    pooled: siblings.Pooled | None = None  # the deployment's other channels (siblings.py)
    # the last fit's mode and Hessian before the level moved to the scale; siblings.py derives
    # from them what the posts alone say, only when another channel asks
    laplace: tuple[list[float], list[list[float]]] | None = None


def fit_smooth(rows: list[Row], fit: Fit, smooth: SmoothFit) -> list[float]:
    """Fit the series to ``rows``: EM with a Newton M step, warm-started from ``smooth``.

    Writes the result where the rest of the model reads it: ``fit.v`` holds the multipliers and
    ``fit.u``, ``fit.d`` are ones (new lists, so a regime model sees that its parent was refit).
    Returns each post's reactions as a ratio to what the fit expects of it.
    """
    ones_u, ones_d = [1.0] * 24, [1.0] * 7
    theta = smooth.theta
    v = multipliers(theta)
    z: list[float] = [0.0] * HOURS_PER_WEEK
    e: list[float] = [0.0] * HOURS_PER_WEEK
    prior = fit.prior_eff
    reached = [sum(x * prior[b] * v[b] for b, x in ex) for _, _, ex, _, _, _ in rows]
    expected = sum(r[1] * r[5] * s for r, s in zip(rows, reached, strict=True))
    fit.scale = max(sum(r[0] * r[5] for r in rows) / max(expected, 1e-12), 1e-6)
    for _ in range(_MAX_EM_ROUNDS):
        z, e = attribute(rows, reached, fit, ones_u, ones_d, v)
        theta = _level_to_scale(_newton(theta, z, e)[0], fit)
        new = multipliers(theta)
        reached = [sum(x * prior[b] * new[b] for b, x in ex) for _, _, ex, _, _, _ in rows]
        moved = max(abs(x / y - 1) for x, y in zip(new, v, strict=True))
        v = new
        if moved < _EM_TOLERANCE:
            break
    mode, hessian = _newton(theta, z, e, steps=4)
    smooth.laplace = (mode, hessian)
    theta = _level_to_scale(mode, fit)
    smooth.theta, smooth.chol = theta, cholesky(hessian)
    v = multipliers(theta)
    smooth.components = []
    parts = shapes.components(fit.prior_eff, smooth.shapes_weight)
    if smooth.pooled is not None:
        parts = siblings.mixed(parts, fit.prior_eff, smooth.pooled)
    if len(parts) > 1:
        level = theta[2 * HARMONICS] - mode[2 * HARMONICS]  # what the scale took of the days
        mixture = shapes.posterior(mode, hessian, smooth.chol, parts)
        smooth.components = [c.shifted(level) for c in mixture]
        v = shapes.mean_multipliers(smooth.components)
    fit.u, fit.d, fit.v, fit.z, fit.e = ones_u, ones_d, v, z, e
    prior, v = fit.prior_eff, fit.v
    means = [fit.scale * r[1] * sum(x * prior[b] * v[b] for b, x in r[2]) for r in rows]
    return [r[0] / max(mu, 1e-9) for r, mu in zip(rows, means, strict=True)]


def fit_following_moves(
    rows_for: Callable[[int | None], list[Row]],
    times: list[int],
    fit: Fit,
    smooth: SmoothFit,
    moved_at: int | None,
    detect: Callable[[list[int], list[float], int | None], int | None],
) -> int | None:
    """``fit_smooth`` over the rows ``rows_for(moved_at)`` gives (posts before ``moved_at`` count
    less); when ``detect`` (``moved_since``, or explore.py's choice of test) says the latest posts
    moved again, refit from there. Returns where the audience last moved (None: never seen to).
    ``times`` are the posts' instants, in the rows' order."""
    ratios = fit_smooth(rows_for(moved_at), fit, smooth)
    moved = detect(times, ratios, moved_at)
    if moved is None:
        return moved_at
    fit_smooth(rows_for(moved), fit, smooth)
    return moved


def moved_since(times: list[int], ratios: list[float], after: int | None, move_z: float = 0.0) -> int | None:
    """The first instant of the channel's last MOVE_POSTS posts when they say the audience moved
    (module constants; with ``move_z`` > 0 also MOVE_Z's test at that many standard errors),
    counting only posts from ``after`` on; None when they do not."""
    posts = sorted((t, r) for t, r in zip(times, ratios, strict=True) if after is None or t >= after)
    if len(posts) < 2 * MOVE_POSTS:
        return None
    recent, earlier = posts[-MOVE_POSTS:], posts[:-MOVE_POSTS]
    if statistics.median(r for _, r in recent) >= MOVE_RATIO:
        return None
    if statistics.median(r for _, r in earlier) < 2 * MOVE_RATIO:
        return None
    if move_z > 0:
        logs = [math.log(max(r, 1e-6)) for _, r in earlier]
        new = [math.log(max(r, 1e-6)) for _, r in recent]
        spread = statistics.stdev(logs) / math.sqrt(MOVE_POSTS)
        if statistics.fmean(new) > statistics.fmean(logs) - move_z * spread:
            return None
    return recent[0][0]


def _level_to_scale(theta: list[float], fit: Fit) -> list[float]:
    """θ with the days' mean effect moved into ``fit.scale``. The level is then set by the M step's
    weighted fit alone: recomputed apart, as an unweighted ratio, it disagreed with the weighted
    one by a fixed factor, and the two, alternating, drove the level (and the series with it)
    off by that factor every round."""
    h = 2 * HARMONICS
    level = sum(theta[h:]) / 7
    fit.scale = max(fit.scale * math.exp(level), 1e-6)
    return theta[:h] + [t - level for t in theta[h:]]


def _newton(
    theta: list[float], z: list[float], e: list[float], steps: int = 1
) -> tuple[list[float], list[list[float]]]:
    """Newton steps on Σ_b z_b η_b - e_b e^η_b - ½ Σ λ θ² (the M step's Poisson GLM over the
    attributed reactions ``z`` and exposure ``e``); returns θ and the Hessian there. The sums run
    over the 24 hours and 7 days apart, since the series and the day effects only add."""
    h = 2 * HARMONICS
    hessian: list[list[float]] = []
    for _ in range(steps):
        mu = [eb * math.exp(x) for eb, x in zip(e, eta(theta), strict=True)]
        resid = [zb - m for zb, m in zip(z, mu, strict=True)]
        grad = [-lam * t for lam, t in zip(PRECISION, theta, strict=True)]
        hessian = [[PRECISION[i] if i == j else 0.0 for j in range(PARAMS)] for i in range(PARAMS)]
        for hour in range(24):
            phi = DAILY[hour]
            r_hour = sum(resid[hour::24])
            m_hour = sum(mu[hour::24])
            for i in range(h):
                grad[i] += r_hour * phi[i]
                for j in range(h):
                    hessian[i][j] += m_hour * phi[i] * phi[j]
            for day in range(7):
                m = mu[day * 24 + hour]
                for i in range(h):
                    hessian[i][h + day] += m * phi[i]
                    hessian[h + day][i] += m * phi[i]
        for day in range(7):
            grad[h + day] += sum(resid[day * 24 : day * 24 + 24])
            hessian[h + day][h + day] += sum(mu[day * 24 : day * 24 + 24])
        step = solve(cholesky(hessian), grad)
        # damped: a single post's huge count must not throw the series far in one step
        size = max(abs(s) for s in step)
        factor = 1.0 if size <= 1.0 else 1.0 / size
        theta = [t + factor * s for t, s in zip(theta, step, strict=True)]
        if size < 1e-4:
            break
    return theta, hessian


def covariance_times(smooth: SmoothFit, x: list[float]) -> list[float]:
    """H⁻¹ x: the posterior covariance of the series' numbers times ``x``."""
    return solve(smooth.chol, x)


def draw_series(smooth: SmoothFit, rng: random.Random, share: float) -> list[float]:
    """Multipliers of one Thompson draw from the Laplace posterior N(θ, share · H⁻¹)."""
    theta, low = smooth.theta, smooth.chol
    if smooth.components:
        theta, low = shapes.pick(smooth.components, rng.random())
    xi = [rng.gauss(0.0, math.sqrt(share)) for _ in theta]
    # θ + L⁻ᵀ ξ has covariance (L Lᵀ)⁻¹ = H⁻¹
    offset = backward(low, xi)
    return multipliers([t + o for t, o in zip(theta, offset, strict=True)])


def daily_sd(smooth: SmoothFit) -> list[float]:
    """The posterior sd of the series at each hour of the day, averaged over the week's days:
    √(xᵀ H⁻¹ x) with x the hour's harmonics and 1/7 for each day."""
    out: list[float] = []
    for hour in range(24):
        y = forward(smooth.chol, DAILY[hour] + [1 / 7] * 7)  # L y = x, so |y|² = xᵀ (L Lᵀ)⁻¹ x
        out.append(math.sqrt(sum(v * v for v in y)))
    return out

"""The mixture of audience shapes (policy/shapes.py): its closed-form weights against a numerical
integral, its prior weights without evidence, and a late-night audience found from its posts."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from bench.slots import poisson
from services.scheduler.policy import EngagementModel, InvalidRequest, shapes
from services.scheduler.policy.linalg import backward, cholesky
from services.scheduler.policy.priors import prior_shape
from services.scheduler.policy.series import HARMONICS, PRECISION

N = 2 * HARMONICS + 7
WEIGHT = 0.6  # the weight measured (docs/scheduling.md, "a prior over whole audience shapes")


def diagonal(values: list[float]) -> list[list[float]]:
    return [[values[i] if i == j else 0.0 for j in range(N)] for i in range(N)]


def log_evidence_by_quadrature(
    data_precision: list[float], data_mean: list[float], mean: list[float], precision: list[float]
) -> float:
    """log ∫ L(θ) prior(θ) dθ for a Gaussian likelihood with diagonal precision, one coordinate at
    a time on a grid (the integral factorises); L is exp(-½ Σ h_i (θ_i - t_i)²)."""
    total = 0.0
    for h, t, m, lam in zip(data_precision, data_mean, mean, precision, strict=True):
        step, acc = 0.001, 0.0
        for k in range(-12000, 12001):
            x = k * step
            acc += math.exp(-0.5 * h * (x - t) ** 2 - 0.5 * lam * (x - m) ** 2)
        total += math.log(acc * step * math.sqrt(lam / (2 * math.pi)))
    return total


def gaussian_data(
    rng: random.Random, precision: tuple[float, float], spread: float
) -> tuple[list[float], list[float], list[float], list[list[float]]]:
    """A Gaussian likelihood with diagonal precision drawn from ``precision`` and mean within
    ±``spread``, and the broad prior's posterior under it: (precision, mean, mode, Hessian)."""
    data_precision = [rng.uniform(*precision) for _ in range(N)]
    data_mean = [rng.uniform(-spread, spread) for _ in range(N)]
    posterior_precision = [h + lam for h, lam in zip(data_precision, PRECISION, strict=True)]
    # the broad prior's mode: the precision-weighted mean of the data's and the prior's (0)
    mode = [h * t / p for h, t, p in zip(data_precision, data_mean, posterior_precision, strict=True)]
    return data_precision, data_mean, mode, diagonal(posterior_precision)


def test_the_closed_form_weights_match_a_numerical_integral() -> None:
    data_precision, data_mean, mode, hessian = gaussian_data(random.Random(7), (0.5, 8.0), 1.0)
    prior = prior_shape()
    found = shapes.posterior(mode, hessian, cholesky(hessian), shapes.components(prior, WEIGHT))
    expected = []
    for part in shapes.components(prior, WEIGHT):
        evidence = log_evidence_by_quadrature(data_precision, data_mean, part.mean, part.lam)
        expected.append(math.log(part.weight) + evidence)
    top = max(expected)
    norm = sum(math.exp(x - top) for x in expected)
    wanted = sorted(math.exp(x - top) / norm for x in expected)
    got = sorted(c.weight for c in found)
    assert len(got) == len(wanted)
    for a, b in zip(got, wanted, strict=True):
        assert abs(a - b) < 1e-4 + 1e-3 * b


def test_without_evidence_each_shape_keeps_its_prior_weight() -> None:
    hessian = diagonal(list(PRECISION))
    found = shapes.posterior([0.0] * N, hessian, cholesky(hessian), shapes.components(prior_shape(), WEIGHT))
    wanted = [part.weight for part in shapes.components(prior_shape(), WEIGHT)]
    assert abs(sum(wanted) - 1) < 1e-9
    assert [c.weight for c in found] == pytest.approx(wanted, abs=1e-9)


MONDAY = datetime(2027, 1, 4, tzinfo=UTC)  # 07:00 WIB


def late_night(b: int) -> float:
    """An audience that is online from 21 h to 02 h and hardly by day: a shape none of the
    mixture's bumps is (a plateau, not a bump), against the national hours."""
    return 1.0 if (b % 24) in (21, 22, 23, 0, 1, 2) else 0.12


def shape_error(model: EngagementModel) -> float:
    """Mean gap between the learned and the true hours' logs, the level (the scale) removed."""
    gaps = [math.log(a / late_night(b)) for b, a in enumerate(model.hourly())]
    level = sum(gaps) / len(gaps)
    return sum(abs(g - level) for g in gaps) / len(gaps)


def learned(weight: float, seed: int, posts: int) -> EngagementModel:
    """A model fed ``posts`` posts at random instants of the late-night world, Poisson counts."""
    rng = random.Random(seed)
    world = EngagementModel("instagram", "Asia/Jakarta", prior_activity=[late_night(b) for b in range(168)])
    model = EngagementModel("instagram", "Asia/Jakarta", exploration=0.0, shapes_weight=weight)
    for n in range(posts):
        at = MONDAY + timedelta(minutes=5 * rng.randrange(14 * 288))
        quality = math.exp(rng.gauss(-0.245, 0.7))  # items vary several-fold (mean 1)
        total = poisson(rng, 200 * quality * world.expected(at) / max(world.hourly()))
        for horizon in (60, 360, 1440):
            model.observe(at, horizon, round(total * (1 - math.exp2(-horizon / 60))), post_id=f"p{n}")
    return model


def test_a_few_posts_learn_a_late_night_day_closer_with_the_shapes() -> None:
    """Eight posts at random hours, items of several-fold quality: the mixture's mean is nearer
    the truth than the broad prior's alone (0.69 against 0.78 over 20 seeds when measured)."""
    errors = {w: sum(shape_error(learned(w, seed, 8)) for seed in range(12)) / 12 for w in (0.0, WEIGHT)}
    assert errors[WEIGHT] < 0.95 * errors[0.0]


def test_the_weight_is_kept_in_the_state_and_none_follows_the_default() -> None:
    for given in (None, 0.0, 0.3):
        model = EngagementModel("x", "Asia/Makassar", shapes_weight=given)
        again = EngagementModel.from_dict(model.to_dict())
        assert again.to_dict()["shapes_weight"] == given
    old = EngagementModel("x", "Asia/Makassar").to_dict()
    del old["shapes_weight"]  # a state saved before the shapes existed
    assert EngagementModel.from_dict(old)._smooth.shapes_weight == shapes.SHAPES_WEIGHT


@pytest.mark.parametrize("weight", [-0.1, 1.5, math.nan, math.inf])
def test_a_weight_outside_zero_to_one_is_refused_at_construction_and_load(weight: float) -> None:
    with pytest.raises(InvalidRequest, match="shapes_weight"):
        EngagementModel("x", "Asia/Makassar", shapes_weight=weight)
    state = EngagementModel("x", "Asia/Makassar").to_dict()
    state["shapes_weight"] = weight
    with pytest.raises(InvalidRequest):
        EngagementModel.from_dict(state)


def test_the_whole_weight_on_the_shapes_still_fits() -> None:
    """At 1 the broad prior has no weight and is left out; the mixture alone fits and chooses."""
    model = learned(1.0, 3, 8)
    assert all(x > 0 and math.isfinite(x) for x in model.hourly())  # fits, lazily
    assert sum(c.weight for c in model._smooth.components) == pytest.approx(1.0)


def test_a_full_precision_parts_weight_matches_a_monte_carlo_evidence() -> None:
    """A component with a correlated (full) precision, as the siblings' is, against the broad
    prior: the closed-form weights against the evidence E_prior[L(θ)] estimated by sampling
    each component's prior (a judge that assumes nothing the closed form does)."""
    rng = random.Random(11)
    data_precision, data_mean, mode, hessian = gaussian_data(rng, (0.2, 0.8), 0.8)
    root = [[rng.gauss(0, 0.4) if j <= i else 0.0 for j in range(N)] for i in range(N)]
    for i in range(N):
        root[i][i] = 1.2 + rng.random()
    full = [[sum(root[i][k] * root[j][k] for k in range(N)) for j in range(N)] for i in range(N)]
    mean = [rng.uniform(-0.5, 0.5) for _ in range(N)]
    parts = [
        shapes.Part(0.5, [0.0] * N, list(PRECISION), broad=True),
        shapes.Part(0.5, mean, [1.0] * N, full=full),
    ]
    found = [c.weight for c in shapes.posterior(mode, hessian, cholesky(hessian), parts)]

    def likelihood(theta: list[float]) -> float:
        return math.exp(
            -0.5 * sum(h * (x - t) ** 2 for h, x, t in zip(data_precision, theta, data_mean, strict=True))
        )

    def draw(centre: list[float], low: list[list[float]]) -> list[float]:
        offset = backward(low, [rng.gauss(0, 1) for _ in range(N)])  # covariance (L Lᵀ)⁻¹
        return [c + o for c, o in zip(centre, offset, strict=True)]

    samples = 20000
    broad_low = cholesky(diagonal(list(PRECISION)))
    full_low = cholesky(full)
    z_broad = sum(likelihood(draw([0.0] * N, broad_low)) for _ in range(samples)) / samples
    z_full = sum(likelihood(draw(mean, full_low)) for _ in range(samples)) / samples
    wanted = z_full / (z_broad + z_full)
    assert found[1] == pytest.approx(wanted, abs=0.03)

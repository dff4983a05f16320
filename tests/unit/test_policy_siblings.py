"""A deployment's channels as each other's priors (policy/siblings.py): a sibling's shape turned
into a component of another channel's prior, the pool's membership, and what a channel with few
posts learns from a sibling whose audience is like its own, or unlike it."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from bench.slots import poisson
from services.scheduler.policy import EngagementModel, InvalidRequest, shapes, siblings
from services.scheduler.policy.linalg import cholesky
from services.scheduler.policy.priors import prior_shape
from services.scheduler.policy.series import HARMONICS, PARAMS, PRECISION, project
from services.scheduler.policy_chooser import PolicyChooser
from shared.channels import Channel

MONDAY = datetime(2027, 1, 4, tzinfo=UTC)  # 07:00 WIB
WEIGHT = 0.5


def late_night(b: int) -> float:
    return 1.0 if (b % 24) in (21, 22, 23, 0, 1, 2) else 0.12


def lunchtime(b: int) -> float:
    return 1.0 if (b % 24) in (11, 12, 13) else 0.12


def prior_diagonal() -> list[list[float]]:
    return cholesky([[PRECISION[i] if i == j else 0.0 for j in range(PARAMS)] for i in range(PARAMS)])


def test_a_siblings_shape_over_another_prior_is_the_series_between_them() -> None:
    """A sibling with the channel's prior gives back its own series (days centred). A sibling whose
    prior is flat gives its series plus the series that turns the channel's prior into flat hours:
    the projection of their log ratio, by hour of the day and by day."""
    rng = random.Random(3)
    theta = [rng.uniform(-0.8, 0.8) for _ in range(PARAMS)]
    h = 2 * HARMONICS
    centred = theta[:h] + [t - sum(theta[h:]) / 7 for t in theta[h:]]
    national = prior_shape()
    same = siblings.part_of(national, siblings.shape_of(national, theta, prior_diagonal()), 0.2)
    assert same.mean == pytest.approx(centred, abs=1e-9)
    assert same.weight == 0.2
    flat = [1.0] * 168
    other = siblings.part_of(national, siblings.shape_of(flat, theta, prior_diagonal()), 0.2)
    logs = [-math.log(p) for p in national]  # log flat - log national
    days = [sum(logs[d * 24 : d * 24 + 24]) / 24 for d in range(7)]
    hours = project([sum(logs[d * 24 + hour] for d in range(7)) / 7 for hour in range(24)])
    between = hours + [x - sum(days) / 7 for x in days]
    assert other.mean == pytest.approx([a + b for a, b in zip(centred, between, strict=True)], abs=1e-9)


def test_a_sibling_that_learned_nothing_is_as_wide_as_the_broad_prior() -> None:
    """Its variance is the prior's, so its component's precision is under the prior's: it cannot
    pull a channel anywhere the broad prior would not."""
    shape = siblings.shape_of(prior_shape(), [0.0] * PARAMS, prior_diagonal())
    assert shape.variance == pytest.approx([1 / p for p in PRECISION])
    part = siblings.part_of(prior_shape(), shape, 0.5)
    assert part.mean == pytest.approx([0.0] * PARAMS, abs=1e-9)
    assert all(lam < p for lam, p in zip(part.lam, PRECISION, strict=True))


def test_the_mixture_keeps_its_parts_and_shares_the_pooled_weight() -> None:
    parts = shapes.components(prior_shape(), 0.0)
    shape = siblings.shape_of(prior_shape(), [0.1] * PARAMS, prior_diagonal())
    mixed = siblings.mixed(parts, prior_shape(), siblings.Pooled(WEIGHT, [shape, shape]))
    assert [p.weight for p in mixed] == pytest.approx([1 - WEIGHT, WEIGHT / 2, WEIGHT / 2])
    assert mixed[0].broad
    assert not mixed[1].broad
    assert siblings.mixed(parts, prior_shape(), siblings.Pooled(WEIGHT, [])) == parts


def test_a_deployment_gives_each_channel_the_others_it_has_learned() -> None:
    deployment = siblings.Deployment(WEIGHT)
    shape = siblings.shape_of(prior_shape(), [0.0] * PARAMS, prior_diagonal())
    pool_a = deployment.join("a", lambda regime: shape)
    deployment.join("b", lambda regime: shape if regime is None else None)
    deployment.join("c", lambda regime: None)
    assert deployment.pooled("a", None).shapes == [shape]  # b's, not its own nor c's (nothing yet)
    assert pool_a.pooled().weight == WEIGHT
    assert pool_a.within("ramadan").pooled().shapes == []  # b has no Ramadan model yet
    assert deployment.pooled("b", None).shapes == [shape]


@pytest.mark.parametrize("weight", [-0.1, 1.5, math.nan])
def test_a_weight_outside_zero_to_one_is_refused(weight: float) -> None:
    with pytest.raises(InvalidRequest, match="pool weight"):
        siblings.Deployment(weight)
    with pytest.raises(InvalidRequest, match="pool weight"):
        PolicyChooser(pool_weight=weight)


def feed(model: EngagementModel, truth: list[float], rng: random.Random, posts: int, first: int) -> None:
    """``posts`` posts at random instants of two weeks, items of several-fold quality, Poisson
    counts of a channel whose hours are ``truth``."""
    world = EngagementModel("instagram", "Asia/Jakarta", prior_activity=truth)
    top = max(world.hourly())
    for n in range(posts):
        at = MONDAY + timedelta(minutes=5 * rng.randrange(14 * 288))
        quality = math.exp(rng.gauss(-0.245, 0.7))
        total = poisson(rng, 200 * quality * world.expected(at) / top)
        for horizon in (60, 360, 1440):
            count = round(total * (1 - math.exp2(-horizon / 60)))
            model.observe(at, horizon, count, post_id=f"p{first + n}")


def night_share(model: EngagementModel) -> float:
    """The share of the model's mean day in the late-night hours."""
    hours = model.hourly()
    return sum(x for b, x in enumerate(hours) if late_night(b) == 1.0) / sum(hours)


def pair(weight: float, seed: int, sibling: list[float], own: list[float], posts: int) -> EngagementModel:
    """A channel with ``posts`` posts of ``own`` hours beside a sibling with 40 of ``sibling``'s."""
    rng = random.Random(seed)
    deployment = siblings.Deployment(weight)
    models = {c: EngagementModel("instagram", "Asia/Jakarta", exploration=0.0) for c in ("old", "new")}
    for name, model in models.items():
        if weight > 0:
            model.pool = deployment.join(name, model.learned_shape)
    feed(models["old"], sibling, rng, 40, 0)
    models["old"].hourly()  # fitted, as the bench's choices fit it
    feed(models["new"], own, rng, posts, 100)
    return models["new"]


LATE = [late_night(b) for b in range(168)]
LUNCH = [lunchtime(b) for b in range(168)]


def test_a_young_channel_finds_the_late_night_its_sibling_learned() -> None:
    """Four posts of its own: beside a late-night sibling, more of its day is in the late night
    than without the sibling (the truth has 6 of 24 hours at 8 times the rest: 0.73)."""
    alone = sum(night_share(pair(0.0, seed, LATE, LATE, 4)) for seed in range(10)) / 10
    pooled = sum(night_share(pair(WEIGHT, seed, LATE, LATE, 4)) for seed in range(10)) / 10
    assert pooled > alone + 0.05


def test_a_sibling_unlike_the_channel_loses_its_weight_to_the_channels_own_posts() -> None:
    """A lunchtime channel beside a late-night sibling: after 20 posts of its own its day is about
    as late-night as it is alone (the sibling's component has lost its weight to the evidence)."""
    alone = sum(night_share(pair(0.0, seed, LATE, LUNCH, 20)) for seed in range(8)) / 8
    pooled = sum(night_share(pair(WEIGHT, seed, LATE, LUNCH, 20)) for seed in range(8)) / 8
    assert pooled < alone + 0.05


def test_a_chooser_pools_the_channels_it_makes_and_those_it_restores() -> None:
    chooser = PolicyChooser(pool_weight=WEIGHT)
    a = Channel(id="ig", platform="instagram", timezone="Asia/Jakarta")
    b = Channel(id="tg", platform="telegram", timezone="Asia/Makassar")
    assert chooser.expectation(a) is None
    chooser.restore_model(a, EngagementModel("instagram", "Asia/Jakarta").to_dict())
    chooser.restore_model(b, EngagementModel("telegram", "Asia/Makassar").to_dict())
    assert chooser._models["ig"].pool is not None
    assert chooser._models["tg"].pool is not None
    assert PolicyChooser()._deployment.weight == siblings.POOL_WEIGHT

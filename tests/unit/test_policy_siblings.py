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
from services.scheduler.policy.priors import prior_shape
from services.scheduler.policy.series import HARMONICS, PARAMS, PRECISION, eta
from services.scheduler.policy_chooser import PolicyChooser
from shared.channels import Channel

MONDAY = datetime(2027, 1, 4, tzinfo=UTC)  # 07:00 WIB
WEIGHT = 0.5


def late_night(b: int) -> float:
    return 1.0 if (b % 24) in (21, 22, 23, 0, 1, 2) else 0.12


def lunchtime(b: int) -> float:
    return 1.0 if (b % 24) in (11, 12, 13) else 0.12


def diagonal(values: list[float]) -> list[list[float]]:
    return [[values[i] if i == j else 0.0 for j in range(PARAMS)] for i in range(PARAMS)]


def shape(prior: list[float], precision: list[float], mean: list[float]) -> siblings.Shape:
    """A sibling whose posts say ``mean`` at diagonal ``precision`` (its likelihood alone)."""
    linear = [a * t for a, t in zip(precision, mean, strict=True)]
    return siblings.Shape([math.log(p) for p in prior], diagonal(precision), linear)


H = 2 * HARMONICS


def test_the_series_between_two_priors_is_their_log_ratios_projection() -> None:
    national = [math.log(p) for p in prior_shape()]
    assert siblings.between(national, national) == pytest.approx([0.0] * PARAMS, abs=1e-12)
    rng = random.Random(3)
    theta = [rng.uniform(-0.8, 0.8) for _ in range(PARAMS)]
    theta[H:] = [t - sum(theta[H:]) / 7 for t in theta[H:]]
    moved = [x + y for x, y in zip(national, eta(theta), strict=True)]
    assert siblings.between(national, moved) == pytest.approx(theta, abs=1e-9)


def test_siblings_evidence_adds_up_under_the_broad_prior() -> None:
    """One sibling whose posts say t at precision a gives the component mean a·t / (λ + a) on
    each harmonic; two such siblings, 2a·t / (λ + 2a). With no evidence at all the component is
    the broad prior widened by POOL_SD."""
    rng = random.Random(5)
    a = [rng.uniform(0.5, 6.0) for _ in range(H)] + [0.0] * 7
    t = [rng.uniform(-1.0, 1.0) for _ in range(H)] + [0.0] * 7
    one = siblings.joint_part(prior_shape(), [shape(prior_shape(), a, t)], 0.3)
    two = siblings.joint_part(prior_shape(), [shape(prior_shape(), a, t)] * 2, 0.3)
    for i in range(H):
        assert one.mean[i] == pytest.approx(a[i] * t[i] / (PRECISION[i] + a[i]))
        assert two.mean[i] == pytest.approx(2 * a[i] * t[i] / (PRECISION[i] + 2 * a[i]))
    assert one.weight == 0.3
    none = siblings.joint_part(prior_shape(), [shape(prior_shape(), [0.0] * PARAMS, [0.0] * PARAMS)], 0.3)
    assert none.mean == pytest.approx([0.0] * PARAMS, abs=1e-12)
    assert none.full is not None
    for i in range(PARAMS):
        assert none.full[i][i] == pytest.approx(1 / (1 / PRECISION[i] + siblings.POOL_SD**2))


def test_a_siblings_level_is_its_own_scale_and_does_not_move_the_component() -> None:
    """Posts that say only that every day is higher (the sibling's reach, not its hours) leave
    the component where the broad prior is."""
    a = [0.0] * H + [4.0] * 7
    level = siblings.joint_part(prior_shape(), [shape(prior_shape(), a, [0.0] * H + [0.8] * 7)], 0.3)
    assert level.mean == pytest.approx([0.0] * PARAMS, abs=1e-9)


def test_a_sibling_over_another_prior_is_moved_into_the_channels_numbers() -> None:
    """A sibling whose prior is flat and whose posts say its hours are the national ones (its
    series: flat → national), read by a channel whose prior is the national hours: with much
    evidence the component says the channel's own prior, 0."""
    national = [math.log(p) for p in prior_shape()]
    flat = [1.0] * 168
    says = siblings.between([0.0] * 168, national)
    part = siblings.joint_part(prior_shape(), [shape(flat, [1e4] * PARAMS, says)], 0.3)
    assert part.mean == pytest.approx([0.0] * PARAMS, abs=1e-3)


def test_the_mixture_keeps_its_parts_and_gives_the_siblings_the_pooled_weight() -> None:
    parts = shapes.components(prior_shape(), 0.0)
    sibling = shape(prior_shape(), [1.0] * PARAMS, [0.1] * PARAMS)
    mixed = siblings.mixed(parts, prior_shape(), siblings.Pooled(WEIGHT, [sibling, sibling]))
    assert [p.weight for p in mixed] == pytest.approx([1 - WEIGHT, WEIGHT])
    assert mixed[0].broad
    assert mixed[1].full is not None
    assert siblings.mixed(parts, prior_shape(), siblings.Pooled(WEIGHT, [])) == parts
    # a part with a full precision keeps it when the siblings' weight is taken from it
    again = siblings.mixed(mixed, prior_shape(), siblings.Pooled(WEIGHT, [sibling]))
    assert again[1].full == mixed[1].full
    assert [p.weight for p in again] == pytest.approx([(1 - WEIGHT) ** 2, WEIGHT * (1 - WEIGHT), WEIGHT])


def test_a_deployment_gives_each_channel_the_others_it_has_learned() -> None:
    deployment = siblings.Deployment(WEIGHT)
    learned = shape(prior_shape(), [1.0] * PARAMS, [0.0] * PARAMS)
    pool_a = deployment.join("a", lambda regime: learned)
    deployment.join("b", lambda regime: learned if regime is None else None)
    deployment.join("c", lambda regime: None)
    assert deployment.pooled("a", None).shapes == [learned]  # b's, not its own nor c's (nothing yet)
    assert pool_a.pooled().weight == WEIGHT
    assert pool_a.within("ramadan").pooled().shapes == []  # b has no Ramadan model yet
    assert deployment.pooled("b", None).shapes == [learned]


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


def young_together(weight: float, seed: int, posts: int) -> EngagementModel:
    """Three channels of one late-night audience, each with ``posts`` posts; the first returned."""
    rng = random.Random(seed)
    deployment = siblings.Deployment(weight)
    models = [EngagementModel("instagram", "Asia/Jakarta", exploration=0.0) for _ in range(3)]
    for n, model in enumerate(models):
        if weight > 0:
            model.pool = deployment.join(str(n), model.learned_shape)
        feed(model, LATE, rng, posts, 100 * n)
        model.hourly()
    models[0]._dirty = True  # refit beside what the others have learned since its own fit
    return models[0]


def test_channels_that_start_together_learn_a_shared_audience_sooner() -> None:
    """Three young channels of one late-night audience, four posts each: pooled, the first one's
    day is more late-night than alone (the truth: 0.73)."""
    alone = sum(night_share(young_together(0.0, seed, 4)) for seed in range(10)) / 10
    pooled = sum(night_share(young_together(WEIGHT, seed, 4)) for seed in range(10)) / 10
    assert pooled > alone + 0.05


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

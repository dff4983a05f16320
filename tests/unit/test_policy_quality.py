"""Cross-channel item quality: leave-one-out, shrunk, handed to the models, kept in their state."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.quality import MIN_POSTS, ItemQualities, estimate

MONDAY = datetime(2027, 1, 4, tzinfo=UTC)


def test_no_other_channel_or_no_reaction_means_unknown() -> None:
    assert estimate([], 0.1) is None
    assert estimate([(0.0, 50.0)], 0.1) is None


def test_estimate_is_shrunk_towards_one_by_the_measurement_noise() -> None:
    precise = estimate([(2000.0, 1000.0), (4000.0, 2000.0)], 0.16)
    rough = estimate([(8.0, 4.0)], 0.16)
    assert precise is not None
    assert rough is not None
    assert 1.0 < rough < precise < 2.0
    assert precise == pytest.approx(2.0, rel=0.12)
    below = estimate([(500.0, 1000.0)], 0.16)
    assert below is not None
    assert 0.5 < below < 1.0


def history(models: dict[str, EngagementModel], prior: EngagementModel, posts: dict[str, int]) -> None:
    """Past items of the usual ±40 % quality, so each model knows its scale and the spread."""
    rng = random.Random(5)
    for ch, count in posts.items():
        for day in range(count):
            at = MONDAY + timedelta(days=day, hours=11)
            mu = 1000 * prior.expected(at) * math.exp(rng.gauss(0, 0.4))
            models[ch].observe(at, 1440, round(mu), post_id=f"old{day}@{ch}")
        models[ch].expected(MONDAY)  # fit


def test_update_leaves_each_channel_out_of_its_own_quality() -> None:
    models = {c: EngagementModel("instagram", "Asia/Makassar", exploration=0.0) for c in ("a", "b", "c")}
    prior = EngagementModel("instagram", "Asia/Makassar")
    history(models, prior, {"a": MIN_POSTS, "b": MIN_POSTS, "c": MIN_POSTS})
    at = MONDAY + timedelta(days=MIN_POSTS + 1, hours=11)
    qualities = ItemQualities()
    for ch in ("a", "b"):  # item "i" drew twice the usual response on a and b
        models[ch].observe(at, 1440, round(2000 * prior.expected(at)), post_id=f"i@{ch}")
        qualities.record("i", ch, f"i@{ch}")
    qualities.record("i", "c", "i@c")  # on c it has no count yet
    out = qualities.update("i", models)
    assert set(out) == {"a", "b", "c"}
    for ch in ("a", "b", "c"):
        assert out[ch] == pytest.approx(2.0, rel=0.2)
    posts = {p["key"]: p for p in models["a"].to_dict()["posts"]}  # type: ignore[attr-defined]
    assert posts["i@a"]["quality"] == pytest.approx(out["a"])


def test_only_full_counts_of_experienced_channels_judge_an_item() -> None:
    prior = EngagementModel("instagram", "Asia/Makassar")
    models = {c: EngagementModel("instagram", "Asia/Makassar", exploration=0.0) for c in ("a", "b", "c")}
    history(models, prior, {"a": MIN_POSTS, "b": MIN_POSTS - 2})  # b: one short, with the item's post
    at = MONDAY + timedelta(days=MIN_POSTS + 1, hours=11)
    qualities = ItemQualities()
    for ch in ("a", "b", "c"):
        qualities.record("i", ch, f"i@{ch}")
    models["a"].observe(at, 60, round(1000 * prior.expected(at)), post_id="i@a")  # only +1 h so far
    models["b"].observe(at, 1440, round(3000 * prior.expected(at)), post_id="i@b")  # b is too young
    assert qualities.update("i", models) == {"a": None, "b": None, "c": None}
    models["a"].observe(at, 1440, round(2000 * prior.expected(at)), post_id="i@a")  # a's +24 h is in
    out = qualities.update("i", models)
    assert out["a"] is None  # its only judge is itself, which is left out
    assert out["b"] == pytest.approx(2.0, rel=0.2)
    assert out["c"] == pytest.approx(2.0, rel=0.2)


def test_item_registry_is_bounded() -> None:
    qualities = ItemQualities(max_items=3)
    for n in range(10):
        qualities.record(f"item-{n}", "a", f"p{n}")
    assert qualities.update("item-0", {}) == {}
    assert set(qualities.update("item-9", {})) == {"a"}


def _learn(known_quality: bool, seed: int) -> float:
    """Posts at 12:00 and 19:00 WITA where 12:00 is truly 1.5x the prior; the learned 12:00/19:00 ratio."""
    rng = random.Random(seed)
    model = EngagementModel("instagram", "Asia/Makassar", exploration=0.0)
    truth = EngagementModel("instagram", "Asia/Makassar", exploration=0.0)
    for day in range(12):
        for hour, boost in ((12, 1.5), (19, 1.0)):
            at = MONDAY + timedelta(days=day, hours=hour - 8)
            quality = math.exp(rng.gauss(0, 0.4))
            mu = 2000 * truth.expected(at) * boost * quality
            model.observe(
                at, 1440, round(mu), post_id=f"{day}/{hour}", quality=quality if known_quality else None
            )
    noon, evening = MONDAY + timedelta(hours=4), MONDAY + timedelta(hours=11)
    return (model.expected(noon) / model.expected(evening)) / (truth.expected(noon) / truth.expected(evening))


def test_a_known_quality_lets_the_hour_be_learned_with_fewer_posts() -> None:
    with_quality = [_learn(True, seed) for seed in range(4)]
    without = [_learn(False, seed) for seed in range(4)]
    err_with = sum(abs(math.log(r / 1.5)) for r in with_quality)
    err_without = sum(abs(math.log(r / 1.5)) for r in without)
    assert err_with < err_without
    assert all(abs(math.log(r / 1.5)) < 0.12 for r in with_quality)


def test_quality_survives_the_model_state() -> None:
    model = EngagementModel("x", "Asia/Jakarta")
    model.observe(MONDAY, 60, 40, post_id="p1", quality=1.7)
    model.observe(MONDAY + timedelta(hours=3), 60, 30, post_id="p2")
    again = EngagementModel.from_dict(model.to_dict())
    posts = {p["key"]: p for p in again.to_dict()["posts"]}  # type: ignore[attr-defined]
    assert posts["p1"]["quality"] == pytest.approx(1.7)
    assert posts["p2"]["quality"] is None
    again.set_quality("p2", 0.8)
    again.set_quality("missing", 2.0)  # an unknown post is ignored
    kept = again.to_dict()["posts"]
    assert isinstance(kept, list)
    assert {p["key"]: p["quality"] for p in kept}["p2"] == pytest.approx(0.8)

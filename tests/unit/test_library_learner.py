"""The reference learner over a library of audiences (bench/library_learner.py), and the audience
sampler it shares its rule with (bench/audiences.py).

Judged against what it did not write: the sampler's own draws, the simulator's feasibility check,
and sums over the posts recomputed from nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.adversarial import generate
from bench.audiences import AUDIENCES, archetypes, audience_curve, ramadan_curve, ramadan_shape
from bench.library_learner import Evidence, LibraryModel, library, library_model
from bench.policy_options import Knobs
from bench.slots import simulate
from bench.truth_model import Truth, tell_now
from services.scheduler.policy.calendar import Calendar
from tests.unit.adversarial_worlds import lunch_then_dawn_world

WITA_START = datetime.fromisoformat("2027-01-04T00:00:00+08:00")


def _log_distance(a: list[float], b: list[float]) -> float:
    return sum((math.log(x) - math.log(y)) ** 2 for x, y in zip(a, b, strict=True)) / len(a)


def test_the_generator_library_holds_every_audience_the_sampler_draws() -> None:
    shapes = archetypes()
    assert math.isclose(sum(p for p, _ in shapes), 1.0)
    rng = random.Random(7)
    for audience in AUDIENCES:
        for _ in range(5):
            drawn = audience_curve(rng, audience)
            nearest = min(_log_distance(drawn, a) for _, a in shapes)
            # the per-hour noise (log-sd 0.1) and a floor between the library's three points
            assert nearest < 0.12, (audience, nearest)


def test_ramadan_draws_are_the_noise_free_shape_within_their_noise() -> None:
    base = archetypes()[0][1]
    drawn = ramadan_curve(random.Random(3), base)
    assert _log_distance(drawn, ramadan_shape(base)) < 0.03


def test_the_adversarial_worlds_are_the_ones_the_figures_were_measured_on() -> None:
    """Seeds name worlds in docs/scheduling.md's figures: moving the sampler must not change them."""
    text = "\n".join(json.dumps(generate(seed), sort_keys=True) for seed in range(1, 9))
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == "8d113c84a20d3a31"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.floats(-2, 8), st.floats(0.1, 3), st.integers(0, 2015)),
        min_size=1,
        max_size=12,
    )
)
def test_evidence_kept_by_running_sums_is_evidence_summed_afresh(
    updates: list[tuple[int, float, float, int]],
) -> None:
    curves = [[1.0 + (k * 7 + s) % 5 for s in range(2016)] for k in range(3)]
    running = Evidence(curves, forget_us=7 * 86_400_000_000)
    latest: dict[str, tuple[int, float, float, int]] = {}
    for post, y, weight, step in updates:
        at = post * 3_600_000_000
        running.set(str(post), at, y, weight, step)
        latest[str(post)] = (at, y, weight, step)
    afresh = Evidence(curves, forget_us=7 * 86_400_000_000)
    for key, (at, y, weight, step) in sorted(latest.items(), key=lambda kv: kv[1][0]):
        afresh.set(key, at, y, weight, step)
    now = 10 * 3_600_000_000
    for a, b in zip(running.log_likelihoods(now)[0], afresh.log_likelihoods(now)[0], strict=True):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def _dawn_model(name: str) -> tuple[LibraryModel, Truth]:
    dawn = next(a for _, a in archetypes() if max(range(24), key=lambda h: a[h]) == 5)
    truth = Truth(dawn, 60.0, 500.0, 0.3)
    options = {"calendar": Calendar(())}
    return library_model("instagram", "Asia/Makassar", truth, WITA_START, name, "known", options), truth


def test_posts_at_their_expected_counts_lead_either_library_to_a_dawn_audience() -> None:
    for name in ("generator", "generic"):
        model, truth = _dawn_model(name)
        curve = truth.curve(truth.activity)
        for n in range(24):
            at = WITA_START + timedelta(days=n // 3, hours=(n * 7) % 24)
            step = model.step_of(at)
            model.observe(at, 24 * 60, round(curve[step]), post_id=f"p{n}")
        tell_now(model, WITA_START + timedelta(days=9))
        mean = model.curve()
        best = max(range(len(mean)), key=lambda s: mean[s])
        assert 3 <= (best // 12) % 24 <= 6, (name, best)


def test_the_library_learner_plans_within_the_rules() -> None:
    for name in ("generator", "generic"):
        line = simulate(lunch_then_dawn_world(2), knobs=Knobs(library=name))
        assert line["violations"] == 0
        assert 0 < line["captured_vs_oracle"] < 2


def test_a_generic_library_is_every_daily_shape_on_every_day_pattern() -> None:
    shapes = library("generic")
    assert len(shapes) == (24 * 2 * 2 + 2) * 10
    assert math.isclose(sum(p for p, _ in shapes), 1.0)

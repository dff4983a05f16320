"""The prior's mixture (shapes.py's audience shapes, siblings.py's other channels) under hostile
posts: any weights in [0, 1], counts from none to absurd, any instants and horizons. Whatever the
posts, the fit gives finite, positive hours and draws, and its components' weights sum to 1."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.policy import EngagementModel, siblings

START = datetime(2027, 1, 4, tzinfo=UTC)
posts = st.lists(
    st.tuples(
        st.integers(0, 21 * 1440),  # minutes from START
        st.sampled_from((60, 360, 1440)),
        st.one_of(st.just(0), st.integers(0, 50), st.integers(10**6, 10**9)),
    ),
    min_size=1,
    max_size=25,
)


def fed(model: EngagementModel, given_posts: list[tuple[int, int, int]], prefix: str) -> None:
    for n, (minute, horizon, count) in enumerate(given_posts):
        model.observe(START + timedelta(minutes=minute), horizon, count, post_id=f"{prefix}{n}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    posts,
    posts,
    st.sampled_from(("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")),
    st.integers(0, 2**32 - 1),
)
def test_any_weights_and_posts_fit_to_finite_positive_hours(
    shapes_weight: float,
    pool_weight: float,
    own: list[tuple[int, int, int]],
    sibling: list[tuple[int, int, int]],
    timezone: str,
    seed: int,
) -> None:
    deployment = siblings.Deployment(pool_weight)
    models = [EngagementModel(p, timezone, shapes_weight=shapes_weight) for p in ("instagram", "x")]
    for name, model in zip(("a", "b"), models, strict=True):
        model.pool = deployment.join(name, model.learned_shape)
    fed(models[1], sibling, "s")
    models[1].hourly()
    fed(models[0], own, "o")
    rng = random.Random(seed)
    for hours in (models[0].hourly(), models[0].hourly(rng), models[0].curve(rng)):
        assert all(math.isfinite(x) and x > 0 for x in hours)
    components = models[0]._smooth.components
    if components:
        assert math.isclose(sum(c.weight for c in components), 1.0, rel_tol=1e-9)

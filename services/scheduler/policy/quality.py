"""An item's quality, measured on its other channels, so each channel learns its hours faster.

One item goes to several channels, and how good it is (a flood warning against a ceremony) moves
its reactions on all of them alike. To a per-channel model that is noise, and most of the noise:
at ±35 % quality a post is one rough sample of its hour. Dividing it out removes it::

    q(i, -c) = Σ_{c' ≠ c} n(i, c') / Σ_{c' ≠ c} μ̂(i, c')

the item's reactions on its *other* channels over what their models expect of an average item
there. Leaving channel c out keeps c's own hour out of the estimate of what it divides c by. The
ratio is shrunk towards 1 in proportion to how much of its spread is measurement (Poisson counts
and the other models' own errors) rather than quality.

The estimate changes whenever the +24 h count of one of the item's posts arrives on a channel
whose model has ``MIN_POSTS`` posts (earlier counts are ignored, see below), so ``update`` recomputes it for all of the item's posts and hands it to their models
(``EngagementModel.set_quality``). The scheduler feeds it from ``engagement.observed``, whose
``content_id`` names the item (``PolicyChooser.observe``); the bench does the same.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping

from services.scheduler.policy.model import EngagementModel

# Relative error of a model's expectation of one post, besides the item's quality: its estimate
# of the hour and what it does not model. Tuned on bench.worldgen worlds (docs/scheduling.md).
MODEL_ERROR_CV2 = 0.03
# Only a post's +24 h count judges its item: an earlier count, extrapolated by the model's
# half-life, mixes the item with the model's error about the hours after the post. And only a
# model that has seen MIN_POSTS posts knows its hours well enough to judge an item by them; a young
# model's error would be divided out of its neighbours as "quality". Without these two rules the
# estimate lowered the mean capture over generated worlds 1-40 (0.976 against 0.982 without
# cross-channel quality); with them it raised it to 0.992 (docs/scheduling.md).
MIN_POSTS = 20
_MAX_ITEMS = 5000  # items whose posts may still get counts: a few weeks of a busy bureau


class ItemQualities:
    """Which post of which item went to which channel, and the quality that follows."""

    def __init__(self, max_items: int = _MAX_ITEMS) -> None:
        self._items: OrderedDict[str, dict[str, str]] = OrderedDict()  # item → channel → post id
        self._max = max_items

    def record(self, item_id: str, channel_id: str, post_id: str) -> None:
        posts = self._items.get(item_id)
        if posts is None:
            posts = self._items[item_id] = {}
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        posts[channel_id] = post_id

    def update(self, item_id: str, models: Mapping[str, EngagementModel]) -> dict[str, float | None]:
        """Recompute the item's quality for each of its channels and give it to their models."""
        posts = self._items.get(item_id, {})
        seen: dict[str, tuple[float, float]] = {}
        for channel, post_id in posts.items():
            model = models.get(channel)
            got = None
            if model is not None and model.observations >= MIN_POSTS:
                got = model.response(post_id, complete=True)
            if got is not None and got[1] > 0:
                seen[channel] = got
        out: dict[str, float | None] = {}
        for channel, post_id in posts.items():
            others = [v for c, v in seen.items() if c != channel]
            quality = estimate(others, models[channel].fitted.cv2) if channel in models else None
            out[channel] = quality
            if channel in models:
                models[channel].set_quality(post_id, quality)
        return out


def estimate(others: list[tuple[float, float]], quality_cv2: float) -> float | None:
    """Shrunk ratio of observed to expected reactions over the item's other channels, or None."""
    if not others:
        return None
    observed = sum(n for n, _ in others)
    expected = sum(mu for _, mu in others)
    if observed <= 0:
        return None  # no reaction anywhere yet says more about the hour than about the item
    # Poisson spread of the counts, and the models' errors (averaged over independent channels)
    noise = 1.0 / observed + MODEL_ERROR_CV2 / len(others)
    keep = quality_cv2 / (quality_cv2 + noise)
    return math.exp(keep * math.log(observed / expected))

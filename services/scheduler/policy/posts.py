"""A post the engagement model learned from, its form in the model's saved state, and the row
the fit reads of it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services.scheduler.policy.fit import FORGET_DAYS, Row
from services.scheduler.policy.reach import exposure
from services.scheduler.policy.rules import US_PER_MINUTE


@dataclass
class Post:
    at_us: int
    counts: dict[int, int] = field(default_factory=dict)  # horizon minutes → cumulative reactions
    value_factor: float = 1.0
    quality: float | None = None  # the item's quality as seen on its other channels (quality.py)
    exposure: list[tuple[int, float]] = field(default_factory=list)  # (hour-of-week, share)
    exposure_h: float = 0.0  # half-life the exposure was computed with

    def to_dict(self, key: str) -> dict[str, object]:
        """JSON-safe: what was observed (the exposure is re-derived)."""
        return {
            "key": key,
            "at_us": self.at_us,
            "counts": {str(h): c for h, c in sorted(self.counts.items())},
            "value_factor": self.value_factor,
            "quality": self.quality,
        }

    @classmethod
    def from_dict(cls, raw: object) -> tuple[str, Post]:
        """The key and post of a ``to_dict`` result; raises KeyError, TypeError, ValueError or
        AssertionError on anything else (the model says which state was unreadable)."""
        assert isinstance(raw, dict)
        quality = raw.get("quality")
        post = cls(
            int(raw["at_us"]),
            value_factor=float(raw["value_factor"]),
            quality=float(quality) if quality is not None else None,
        )
        post.counts = {int(h): int(c) for h, c in dict(raw["counts"]).items()}
        return str(raw["key"]), post


def clamp_quality(quality: float) -> float:
    """An item quality as the model uses it: within [0.1, 10], 1 when it is not a number."""
    return min(10.0, max(0.1, quality)) if math.isfinite(quality) else 1.0


def optional_float(value: object) -> float | None:
    """A saved number that may be absent (None)."""
    return None if value is None else float(str(value))


def rows_of(
    posts: list[Post],
    h: float,
    zone: ZoneInfo,
    crowding_at: Callable[[int, float], float],
    moved_weight: float,
    moved_at: int | None = None,
) -> list[Row]:
    """The posts as the fit reads them under half-life ``h``, their exposure refreshed when the
    half-life moved; the posts before ``moved_at``, an audience's move, count ``moved_weight`` as
    much. ``crowding_at(instant, h)`` is what the channel's earlier posts leave of its audience."""
    latest = max(p.at_us for p in posts)
    rows: list[Row] = []
    for p in posts:
        if abs(p.exposure_h - h) > 0.02 * h:
            p.exposure = exposure(p.at_us, h, zone)
            p.exposure_h = h
        horizon = max(p.counts)
        captured = 1.0 - math.exp2(-horizon / h)  # share of all reactions in by the horizon
        n = p.counts[horizon] / captured
        m = p.value_factor * crowding_at(p.at_us, h) * (p.quality or 1.0)
        # an audience that moves is followed: older posts count less (change over weeks)
        recency = math.exp2(-(latest - p.at_us) / (FORGET_DAYS * 1440 * US_PER_MINUTE))
        recency *= moved_weight if p.at_us < (moved_at or p.at_us) else 1.0
        rows.append((n, m, p.exposure, captured, p.quality is not None, recency))
    return rows

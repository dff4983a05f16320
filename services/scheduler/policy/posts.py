"""A post the engagement model learned from, and its form in the model's saved state."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


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

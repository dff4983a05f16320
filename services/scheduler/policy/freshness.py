"""How an item's value decays while it waits for its slot.

News loses value by the hour; evergreen content does not (design.md, "Choosing the slot"). The
decay is the one slot-world.md measures: ``F = 2^(-(t - arrived_at) / half_life)``.
"""

from __future__ import annotations

import math

URGENT, NORMAL, EVERGREEN = "urgent", "normal", "evergreen"
PRIORITIES = (URGENT, NORMAL, EVERGREEN)

# Defaults when the item does not say. Normal news: 12 h, the half-life slot-world.md's example
# uses; urgent: 2 h (breaking news is stale by the evening); evergreen: no decay.
DEFAULT_HALF_LIFE_HOURS: dict[str, float | None] = {URGENT: 2.0, NORMAL: 12.0, EVERGREEN: None}


def half_life_hours(priority: str, explicit: float | None) -> float | None:
    """The item's own half-life when given, else the default for its priority; None = no decay."""
    if explicit is not None:
        return explicit if explicit > 0 and math.isfinite(explicit) else None
    return DEFAULT_HALF_LIFE_HOURS.get(priority)


def freshness(wait_hours: float, half_life: float | None) -> float:
    """Share of the item's value left after waiting ``wait_hours`` since it arrived."""
    if half_life is None or wait_hours <= 0:
        return 1.0
    return float(math.exp2(-wait_hours / half_life))

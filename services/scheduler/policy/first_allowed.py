"""The first instant, at or after a given one, that no hard rule of the channel forbids.

Where a job goes that is not scored: a retry. The platform (or an operator) names the earliest
instant it may go again (``retry_at``); the policy already chose this job's hour once, so the
retry is not re-optimised, but it obeys every rule a fresh job obeys (blackouts and election
silences, the daily budget, platform caps, the minimum gap; rules.py). The search is exact, not
on the scoring grid: a blocked ``retry_at`` moves to the end of whatever blocks it, e.g. the
instant a silence ends or the gap around another post runs out.

Pure, like the rest of the policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.scheduler.policy.rules import PRECEDENCE, ChannelRules, blocks_for, from_us, to_us


@dataclass(frozen=True)
class FirstAllowed:
    """The instant found, and the rule that held it back from the earliest one (None when the
    earliest instant itself was allowed)."""

    instant: datetime
    held_by: str | None


def first_allowed(
    rules: ChannelRules,
    taken: Sequence[datetime],
    earliest: datetime,
    latest: datetime,
    *,
    urgent: bool,
) -> FirstAllowed | None:
    """The first instant in [earliest, latest] a post on ``rules.channel`` may take beside the
    channel's other posts ``taken``, or None when every instant there is forbidden. An urgent
    job is exempt from the minimum gap only, as in ``choose_slot``."""
    lo, hi = to_us(earliest, "earliest"), to_us(latest, "latest")
    if rules.paused or hi < lo:
        return None
    taken_us = sorted(to_us(t, "taken instant") for t in taken)
    blocks = blocks_for(rules, taken_us, lo, hi, exempt_min_gap=urgent)
    t, held_by = lo, None
    while t <= hi:
        covering = [b for b in blocks if b.start_us <= t < b.end_us]
        if not covering:
            return FirstAllowed(from_us(t), held_by)
        # Blocks are half-open, so the latest end among those covering ``t`` is the next
        # instant that may be free; the rule named is the one that held it back that long.
        t = max(b.end_us for b in covering)
        last = [b for b in covering if b.end_us == t]
        held_by = min(last, key=lambda b: PRECEDENCE.index(b.kind)).label
    return None

"""A ceiling for the slot policy: its model replaced by each channel's true response curve.

``python -m bench.slots --truth-from-day D`` asks what the real policy (``choose_slot``,
``replan``, ``place``, the same rules) would capture if, from day D of the world on, its model knew
the channel's truth; before day D it is the ordinary learning model. What the policy loses with
the truth known is placement; the rest of its gap to the oracle is learning (docs/scheduling.md).

The policy reads a model only through ``curve``, ``exploring_curve``, ``worth_curve``, ``calendar``,
``regime_model(...).curve``, ``half_life`` and ``crowding`` (policy/slots.py). Once the truth is
on, each answers with the simulator's truth (slot-world.md): ``base_reach`` times a post's reach
over the true hourly activity (``reach.curve_of``, the bench's ``World`` arithmetic on the cyclic
local week), the true half-life and crowding, and nothing left to explore. The model keeps
learning throughout, so that before day D it is exactly the normal one; after it no decision
reads what it learns.

The model sees no clock: the bench tells it the simulated now before each decision
(``tell_now``). The curve is one per decision while the truth changes at a season's bounds, so:
the ordinary curve is the truth at now, or, inside a calendar period (where the regime model
answers), at the period's end, the first instant the ordinary curve is read for; a regime model
answers with the season active at its period's start, or the base activity when none is.

``--truth-family`` replaces the base activity by ``in_family``'s fit, the best the smooth model
(policy/series.py) can express; the gap between the two ceilings is what the family costs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.scheduler.policy.calendar import Calendar, Period
from services.scheduler.policy.explore import Exploring
from services.scheduler.policy.model import DEFAULT_SHAPE, EngagementModel
from services.scheduler.policy.priors import prior_shape
from services.scheduler.policy.reach import curve_of
from services.scheduler.policy.rules import from_us, to_us
from services.scheduler.policy.series import eta
from services.scheduler.policy.siblings import between


@dataclass(frozen=True)
class Truth:
    """A channel's hidden truth as the world file gives it (slot-world.md)."""

    activity: Sequence[float]  # 168 hourly numbers, local Monday 00:00 first
    half_life: float  # minutes
    base_reach: float
    crowding: float
    # (start inclusive, end exclusive, activity): each season replaces ``activity`` meanwhile
    seasons: Sequence[tuple[datetime, datetime, Sequence[float]]] = field(default=())

    def activity_at(self, at_us: int) -> Sequence[float]:
        """The hourly activity in force at an instant: its season's, else the base one."""
        for start, end, activity in self.seasons:
            if to_us(start) <= at_us < to_us(end):
                return activity
        return self.activity

    def curve(self, activity: Sequence[float]) -> list[float]:
        """Expected reactions of an average post at each 5-minute step of the local week."""
        return [x * self.base_reach for x in curve_of(list(activity), self.half_life)]


def in_family(activity: Sequence[float], prior: Sequence[float] | None = None) -> list[float]:
    """The smooth model's closest hours to ``activity`` (168): its log ratio to the prior's hours
    (``prior_shape`` by default) as the series (``siblings.between``: least squares in logs, the
    basis being orthogonal over the week), at ``activity``'s total. Seasons are not projected: a
    regime's model has its own prior."""
    base = list(prior or prior_shape())
    logs = [math.log(max(a, 1e-9)) for a in activity]
    series = eta(between([math.log(p) for p in base], logs))
    fitted = [p * math.exp(x) for p, x in zip(base, series, strict=True)]
    level = sum(activity) / sum(fitted)
    return [level * x for x in fitted]


class TruthModel(EngagementModel):
    """An engagement model that answers with ``truth`` from ``truth_from`` on (module docstring)."""

    def __init__(
        self,
        platform: str,
        timezone: str,
        *,
        truth: Truth,
        truth_from: datetime,
        calendar: Calendar | None = None,
        shape: str = DEFAULT_SHAPE,
        exploring: Exploring | None = None,
        exploration: float | None = None,
        explore_days: float | None = None,
        shapes_weight: float | None = None,
    ) -> None:
        # set before the parent's __init__, which assigns half_life and crowding (properties here)
        self.truth = truth
        self.truth_from_us = to_us(truth_from, "truth_from")
        self.now_us: int | None = None  # the simulated now, told by the bench (tell_now)
        self._learning = False
        self._curves: dict[int, list[float]] = {}  # by id of the activity list
        self._truth_regimes: dict[tuple[str, int], TruthModel] = {}
        super().__init__(
            platform,
            timezone,
            calendar=calendar,
            shape=shape,
            exploring=exploring,
            exploration=exploration,
            explore_days=explore_days,
            shapes_weight=shapes_weight,
        )

    def truth_on(self) -> bool:
        """Whether decisions read the truth now; learning never does."""
        return not self._learning and self.now_us is not None and self.now_us >= self.truth_from_us

    # What the fit learns is kept apart, so that the model is the ordinary one before the truth.
    @property
    def half_life(self) -> float:
        return self.truth.half_life if self.truth_on() else self._learned_half_life

    @half_life.setter
    def half_life(self, value: float) -> None:
        self._learned_half_life = value

    @property
    def crowding(self) -> float:
        return self.truth.crowding if self.truth_on() else self._learned_crowding

    @crowding.setter
    def crowding(self, value: float) -> None:
        self._learned_crowding = value

    @contextmanager
    def _learned(self) -> Iterator[None]:
        """Within: the model reads what it learned, never the truth."""
        self._learning = True
        try:
            yield
        finally:
            self._learning = False

    def _ensure_fit(self) -> None:
        # the fit is lazy: it runs at a decision, and must read the learned half-life and crowding
        with self._learned():
            super()._ensure_fit()

    def observe(self, *args: Any, **kwargs: Any) -> None:
        # a post in a calendar period teaches the learned regime model, never the truth's
        with self._learned():
            super().observe(*args, **kwargs)

    def curve(self, rng: random.Random | None = None) -> list[float]:
        if not self.truth_on() or self.now_us is None:
            return super().curve(rng)
        return self._truth_curve(self.truth.activity_at(self._ordinary_instant(self.now_us)))

    def exploring_curve(self, planned_us: list[int], now_us: int) -> list[float] | None:
        if self.truth_on():
            return None  # the truth leaves nothing to try
        return super().exploring_curve(planned_us, now_us)

    def worth_curve(self, planned_us: list[int], now_us: int) -> list[float] | None:
        if self.truth_on():
            return None
        return super().worth_curve(planned_us, now_us)

    def regime_model(self, regime: str) -> EngagementModel:
        if not self.truth_on():
            return super().regime_model(regime)
        assert self.now_us is not None  # truth_on says so
        period = self._period_of(regime, self.now_us)
        key = (regime, period.start_us if period else 0)
        child = self._truth_regimes.get(key)
        if child is None:
            at = period.start_us if period else self.now_us
            # the regime's own truth: the season active at its start, with no seasons of its own
            truth = replace(self.truth, activity=self.truth.activity_at(at), seasons=())
            child = self._truth_regimes[key] = TruthModel(
                self.platform, self.timezone, truth=truth, truth_from=from_us(self.truth_from_us)
            )
        child.now_us = self.now_us
        return child

    def _truth_curve(self, activity: Sequence[float]) -> list[float]:
        curve = self._curves.get(id(activity))
        if curve is None:
            curve = self._curves[id(activity)] = self.truth.curve(activity)
        return curve

    def _ordinary_instant(self, now_us: int) -> int:
        """Now, or inside calendar periods the end of the latest containing it: the ordinary
        curve is read only for instants outside them."""
        ends = [p.end_us for p in self.calendar.periods if p.start_us <= now_us < p.end_us]
        return max([now_us, *ends])

    def _period_of(self, regime: str, now_us: int) -> Period | None:
        """The regime's period a decision at ``now_us`` reads: the one containing now, else the
        next to start, else the last one."""
        mine = [p for p in self.calendar.periods if p.regime == regime]
        current = [p for p in mine if p.start_us <= now_us < p.end_us]
        upcoming = [p for p in mine if p.start_us > now_us]
        found = current or upcoming or mine[-1:]
        return found[0] if found else None


def tell_now(model: EngagementModel, now: datetime) -> None:
    """Tell a ceiling model the simulated now before a decision; a learning model needs none."""
    if isinstance(model, TruthModel):
        model.now_us = to_us(now, "now")

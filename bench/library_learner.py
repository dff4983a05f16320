"""A reference learner: Bayes over a fixed library of audiences, to ask how far learning can go.

``--library-learner generator`` (bench.slots, bench.adversarial, bench.evaluation_like) replaces
each channel's model, for its decisions, by a posterior over the audiences bench.adversarial
draws its worlds from (bench/audiences.py's ``archetypes``, noise-free, with the sampler's own
probabilities); the policy's rules are unchanged, as with the ceiling of bench/truth_model.py. No
deployment could hold that library: it is what the worlds' generator knows. What such a learner
keeps of the oracle is the most the held-out worlds leave to learning, and where it stays under a
target, no learner without the truth can be expected to meet it there. ``generic`` is a library
nobody drew the worlds from: one daily bump at any hour (two widths, two floors) or the national
hours at full or half contrast, times a day pattern (every day alike, weekend only, weekdays
only, one day at 4 times the others).

What the learner is given besides the library: the truth's half-life, reach and crowding, and,
with ``--library-move known`` (the default), the instant a shift world's audience moves (its
season's start); with ``forgotten`` its posts fade as the policy's do (``fit.FORGET_DAYS``). In a
calendar period the generator library knows how Ramadan reshapes an audience
(``audiences.ramadan_shape``) and judges one archetype from both periods' posts; the generic one
learns a regime from the regime's posts alone.

The evidence: a post's log count (its +1 h or +6 h count extrapolated by the half-life) is
normal around the log of what the shape expects there (after its crowding and freshness), with
variance ``ITEM_LOG_VAR`` (items' log-sd 0.6, the middle of the generator's 0.3-0.9) plus the
count's own ``1/(count+1)``; each shape's level is profiled out (the weighted mean residual). A
decision draws one shape from the posterior (Thompson); the mean curve mixes the likeliest
``_MEAN_OF``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bench.audiences import archetypes, ramadan_shape
from bench.truth_model import Truth, TruthModel
from services.scheduler.policy.fit import FORGET_DAYS
from services.scheduler.policy.posts import Post
from services.scheduler.policy.priors import prior_shape
from services.scheduler.policy.reach import crowding_left
from services.scheduler.policy.rules import US_PER_MINUTE, to_us

LIBRARIES = ("generator", "generic")
MOVES = ("known", "forgotten")
ITEM_LOG_VAR = 0.36
_MEAN_OF = 20
_DAY_US = 1440 * US_PER_MINUTE
Library = list[tuple[float, list[float]]]  # (prior probability, 168 hourly activities)


def generic_library() -> Library:
    """Shapes of a day nobody drew the worlds from, times day patterns, all equally likely."""

    def bump(peak: int, width: float, floor: float) -> list[float]:
        gap = [min(abs(h - peak), 24 - abs(h - peak)) for h in range(24)]
        return [floor + math.exp(-0.5 * (g / width) ** 2) for g in gap]

    national = prior_shape()
    daily_national = [sum(national[d * 24 + h] for d in range(7)) / 7 for h in range(24)]
    dailies = [bump(p, w, f) for p in range(24) for w in (1.5, 3.0) for f in (0.05, 0.2)]
    dailies += [daily_national, [math.sqrt(x) for x in daily_national]]
    # a day's factor by weekday: every day alike, weekend only, weekdays only, one day x4
    patterns = [[1.0] * 7, [0.1] * 5 + [1.0] * 2, [1.0] * 5 + [0.1] * 2]
    patterns += [[4.0 if day == strong else 1.0 for day in range(7)] for strong in range(7)]
    share = 1.0 / (len(dailies) * len(patterns))
    return [(share, [d[b % 24] * p[b // 24] for b in range(168)]) for d in dailies for p in patterns]


def library(name: str) -> Library:
    if name == "generator":
        return archetypes()
    if name == "generic":
        return generic_library()
    raise ValueError(f"library must be one of {LIBRARIES}")


class Evidence:
    """What one group of posts says of each shape: running sums of their weighted log residuals,
    so that a post's new count costs one pass over the library, not over the posts."""

    def __init__(self, curves: Sequence[Sequence[float]], forget_us: float) -> None:
        self.curves = curves
        self.forget_us = forget_us  # posts' weights halve over this; inf: never
        self.origin_us: int | None = None
        self.rows: dict[str, tuple[float, float, int]] = {}  # key: (log count, weight, step)
        n = len(curves)
        self.sw, self.sr, self.srr = [0.0] * n, [0.0] * n, [0.0] * n

    def set(self, key: str, at_us: int, log_count: float, weight: float, step: int) -> None:
        """The post ``key``'s latest evidence (``log_count`` net of its crowding and freshness)."""
        if self.origin_us is None:
            self.origin_us = at_us
        old = self.rows.get(key)
        if old is not None:
            self._add(*old, sign=-1.0)
        # weights relative to the first post: the common fade up to now cancels in the posterior's shape
        growth = 0.0 if math.isinf(self.forget_us) else (at_us - self.origin_us) / self.forget_us
        row = (log_count, weight * math.exp2(growth), step)
        self.rows[key] = row
        self._add(*row, sign=1.0)

    def _add(self, y: float, w: float, step: int, *, sign: float) -> None:
        for k, curve in enumerate(self.curves):
            r = y - math.log(max(curve[step], 1e-12))
            self.sw[k] += sign * w
            self.sr[k] += sign * w * r
            self.srr[k] += sign * w * r * r

    def log_likelihoods(self, now_us: int) -> tuple[list[float], list[float]]:
        """Each shape's log likelihood (level profiled out) and its level, at ``now_us``."""
        n = len(self.curves)
        if not self.rows or self.origin_us is None:
            return [0.0] * n, [1.0] * n
        fade = 1.0 if math.isinf(self.forget_us) else math.exp2(-(now_us - self.origin_us) / self.forget_us)
        out, levels = [], []
        for sw, sr, srr in zip(self.sw, self.sr, self.srr, strict=True):
            mean = sr / sw if sw > 0 else 0.0
            out.append(-0.5 * fade * max(srr - sr * mean, 0.0))
            levels.append(math.exp(mean))
        return out, levels


def posterior_curve(
    prior: Sequence[float],
    parts: Sequence[tuple[list[float], list[float]]],
    curves: Sequence[Sequence[float]],
    rng: random.Random | None,
) -> list[float]:
    """One shape drawn from the posterior (``rng``) or the likeliest shapes' mixture, each at its
    level (the first part's, the one the curves are of)."""
    logs = [math.log(p) + sum(part[0][k] for part in parts) for k, p in enumerate(prior)]
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    levels = parts[0][1] if parts else [1.0] * len(prior)
    if rng is not None:
        k = rng.choices(range(len(weights)), weights=weights)[0]
        return [x * levels[k] for x in curves[k]]
    best = sorted(range(len(weights)), key=lambda k: -weights[k])[:_MEAN_OF]
    total = sum(weights[k] for k in best)
    out = [0.0] * len(curves[0])
    for k in best:
        share = weights[k] / total * levels[k]
        out = [o + share * c for o, c in zip(out, curves[k], strict=True)]
    return out


class LibraryModel(TruthModel):
    """A channel's decisions by the posterior over ``shapes`` (module docstring); the learning
    model underneath keeps the posts, as the ceiling's does."""

    def __init__(
        self, *args: Any, shapes: Library, library_name: str, move_us: int | None, forget_us: float, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.shapes = shapes
        self.library_name = library_name
        self.move_us = move_us
        self.curves = [self.truth.curve(a) for _, a in shapes]
        self.before = Evidence(self.curves, forget_us)  # the ordinary weeks (before a known move)
        self.after = Evidence(self.curves, forget_us)  # ... and after it
        self.regime_curves: list[list[float]] | None = None
        self.regime_evidence: dict[str, Evidence] = {}
        self._views: dict[str, RegimeView] = {}

    def observe(self, published_at: datetime, horizon_minutes: int, reactions: int, **kw: Any) -> None:
        super().observe(published_at, horizon_minutes, reactions, **kw)
        at = to_us(published_at, "published_at")
        key = kw.get("post_id") or str(at)
        regime = self.calendar.regime_at(at)
        holder = self._regimes[regime] if regime is not None else self
        post = holder._posts.get(key)
        if post is None or not post.counts:
            return
        y, weight = self._evidence_of(post, holder._times)
        step = self.step_of(published_at)
        if regime is not None:
            self._regime_evidence(regime).set(key, at, y, weight, step)
        elif self.move_us is not None and at >= self.move_us:
            self.after.set(key, at, y, weight, step)
        else:
            self.before.set(key, at, y, weight, step)

    def _evidence_of(self, post: Post, times: list[int]) -> tuple[float, float]:
        """A post's log count net of its crowding and freshness, and its weight."""
        h = self.truth.half_life
        horizon = max(post.counts)
        count = post.counts[horizon]
        captured = 1.0 - math.exp2(-horizon / h)
        crowd = crowding_left(times, post.at_us, h, self.truth.crowding)
        y = math.log((count + 0.5) / captured) - math.log(max(post.value_factor * crowd, 1e-12))
        return y, 1.0 / (ITEM_LOG_VAR + 1.0 / (count + 1))

    def _regime_evidence(self, regime: str) -> Evidence:
        found = self.regime_evidence.get(regime)
        if found is None:
            if self.regime_curves is None:
                generator = self.library_name == "generator"
                self.regime_curves = [
                    self.truth.curve(ramadan_shape(a) if generator else a) for _, a in self.shapes
                ]
            found = self.regime_evidence[regime] = Evidence(self.regime_curves, math.inf)
        return found

    def curve(self, rng: random.Random | None = None) -> list[float]:
        if not self.truth_on() or self.now_us is None:
            return super().curve(rng)
        now = self._ordinary_instant(self.now_us)
        own = self.after if self.move_us is not None and now >= self.move_us else self.before
        prior = [p for p, _ in self.shapes]
        return posterior_curve(prior, [own.log_likelihoods(self.now_us)], self.curves, rng)

    def regime_curve(self, regime: str, rng: random.Random | None) -> list[float]:
        """A regime's curve: its own posts' evidence, and with the generator library the ordinary
        weeks' too (one archetype lives through both)."""
        assert self.now_us is not None
        evidence = self._regime_evidence(regime)
        assert self.regime_curves is not None
        parts = [evidence.log_likelihoods(self.now_us)]
        if self.library_name == "generator":
            ordinary = self.before.log_likelihoods(self.now_us)
            parts.append(ordinary)
            if not evidence.rows:
                parts[0] = (parts[0][0], ordinary[1])
        prior = [p for p, _ in self.shapes]
        return posterior_curve(prior, parts, self.regime_curves, rng)

    def regime_model(self, regime: str) -> Any:
        if not self.truth_on():
            return super().regime_model(regime)
        view = self._views.get(regime)
        if view is None:
            view = self._views[regime] = RegimeView(self, regime)
        return view


class RegimeView:
    """What the policy reads of a regime's model (policy/slots.py): its curve, half-life and
    crowding, and no trials."""

    def __init__(self, parent: LibraryModel, regime: str) -> None:
        self.parent, self.regime = parent, regime

    @property
    def half_life(self) -> float:
        return self.parent.truth.half_life

    @property
    def crowding(self) -> float:
        return self.parent.truth.crowding

    def curve(self, rng: random.Random | None = None) -> list[float]:
        return self.parent.regime_curve(self.regime, rng)

    def worth_curve(self, planned_us: list[int], now_us: int) -> None:
        return None

    def exploring_curve(self, planned_us: list[int], now_us: int) -> None:
        return None


def library_model(
    platform: str,
    timezone: str,
    truth: Truth,
    start: datetime,
    name: str,
    move: str,
    options: dict[str, Any],
) -> LibraryModel:
    """A channel's reference learner; ``truth`` gives its half-life, reach and crowding, and its
    first season's start is a shift world's move (``move`` known) when the world has no calendar."""
    if move not in MOVES:
        raise ValueError(f"move must be one of {MOVES}")
    calendar = options.get("calendar")
    shifts = truth.seasons and not (calendar and calendar.periods)
    move_us = to_us(truth.seasons[0][0]) if shifts and move == "known" else None
    return LibraryModel(
        platform,
        timezone,
        truth=truth,
        truth_from=start,
        shapes=library(name),
        library_name=name,
        move_us=move_us,
        forget_us=FORGET_DAYS * _DAY_US if move == "forgotten" else math.inf,
        **options,
    )

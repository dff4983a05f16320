"""Per-channel model of audience response by local hour-of-week, learned from engagement.

What a post at instant t earns is modelled the way the research measures it (scheduling.md §3.1,
§3.4): the post's reach is spread over the hours after t by an exponential decay with the
network's half-life, and in each hour it meets that hour's audience activity::

    E[reactions] = scale · m · Σ_b X_b(t) · P_b · u_hod(b) · v_b

- ``X_b(t)`` share of the post's first 24 h spent in local hour-of-week b (from the half-life);
- ``P_b`` the prior activity: national Indonesian hours (62.5 % online 19:00-21:00, 51 % 07:00-
  10:00, lowest 24:00-05:00, Kominfo x Katadata 2021, §4.2), identical across platforms because
  no public per-platform Indonesian curve exists; platforms differ by half-life (§3.4); taken at
  half its contrast (``priors.prior_shape``) so that a channel's evidence can overturn it;
- ``u`` 24 hour-of-day, ``d`` 7 day and ``v`` 168 hour-of-week multipliers, Gamma-distributed
  around 1 under weak prior weights (fit.py): the daily shape first, then each hour of the week
  (§3.3's pooling); or, with ``shape="smooth"``, a 13-number series in ``v`` (smooth.py) whose
  prior is a mixture of audience shapes (shapes.py; ``shapes_weight=0``: its broad prior alone)
  and of the deployment's other channels' hours (siblings.py, with a ``pool``);
- ``m`` what the model knows besides the hour: the freshness the post was published with and the
  crowding by the channel's earlier posts (posts close together share the audience).

The fit is a Poisson EM, each post down-weighted by the dispersion its unknown quality adds (a
900-reaction post is one noisy sample of its hour). The half-life is learned from the horizons.
Exploration is Thompson sampling from the posteriors (§3.3).
"""

from __future__ import annotations

import bisect
import math
import random
from datetime import datetime
from functools import partial

from services.scheduler.policy import explore, siblings, smooth
from services.scheduler.policy.calendar import Calendar
from services.scheduler.policy.fit import Fit, Row, draw_hours, fit_em
from services.scheduler.policy.posts import Post, clamp_quality, optional_float, rows_of
from services.scheduler.policy.priors import (
    DEFAULT_CROWDING,
    DEFAULT_HALF_LIFE_MINUTES,
    PLATFORM_HALF_LIFE_MINUTES,
    REGIME_HOURS,
    REGIME_THOMPSON_SHARE,
    national_prior,
    prior_shape,
    regime_prior,
)
from services.scheduler.policy.reach import (
    HOURS_PER_WEEK,
    LIFE_MINUTES,
    crowding_left,
    curve_of,
    exposure,
    fit_half_life,
    local_step,
)
from services.scheduler.policy.rules import InvalidRequest, offset_us, to_us, zone
from services.scheduler.policy.shapes import weight_of

# The hourly shape's Thompson draws take this share of the posterior variance (tuning half of
# bench.adversarial): under a weak prior (fit.py) the hours not tried are drawn from, not assumed.
THOMPSON_SHARE = 0.25
EXPLORE_DAYS = 14.0  # deliberate exploration in a young channel's first days (explore.py)
SHAPES = ("hourly", "smooth")  # 24 free hours of the day (fit.py), or a short series (smooth.py)
SHAPE_EXPLORE_DAYS = {"hourly": EXPLORE_DAYS, "smooth": smooth.EXPLORE_DAYS}  # explore_days=None
DEFAULT_SHAPE = "smooth"  # also of a saved state from before the choice existed
_MAX_POSTS = 1500  # ~1 year of a busy channel; older posts are forgotten (audiences change)
# A calendar regime keeps fewer (a month or two a year), so a channel's whole state, its regimes'
# included, stays well inside one Kafka record (schedule.channels, 1 MB).
_REGIME_MAX_POSTS = 500


class EngagementModel:
    """Audience response of one channel; ``expected`` is in reactions once observations exist."""

    max_posts = _MAX_POSTS

    def __init__(
        self,
        platform: str,
        timezone: str,
        *,
        prior_activity: list[float] | None = None,
        prior_half_life_minutes: float | None = None,
        crowding: float = DEFAULT_CROWDING,
        exploration: float | None = None,
        explore_days: float | None = None,
        calendar: Calendar | None = None,
        shape: str = DEFAULT_SHAPE,
        exploring: explore.Exploring | None = None,
        shapes_weight: float | None = None,
    ) -> None:
        if shape not in SHAPES:
            raise InvalidRequest(f"shape must be one of {SHAPES}")
        self.shape = shape
        self.platform = platform
        self.timezone = timezone
        self._zone = zone(timezone)
        self.prior_activity = list(prior_activity or prior_shape())
        if len(self.prior_activity) != HOURS_PER_WEEK or min(self.prior_activity) <= 0:
            raise InvalidRequest("prior_activity needs 168 positive numbers, Monday 00:00 first")
        self.prior_half_life = prior_half_life_minutes or PLATFORM_HALF_LIFE_MINUTES.get(
            platform.lower(), DEFAULT_HALF_LIFE_MINUTES
        )
        self.crowding = crowding
        # Thompson draws at this share of the posterior variance (1 plain, 0 the mean; None: THOMPSON_SHARE)
        self.exploration = exploration
        # deliberate exploration of untried hours in the channel's first days; 0 turns it off
        self._explore_given = explore_days  # saved so: None follows the shape's default when loaded
        self.explore_days = SHAPE_EXPLORE_DAYS[shape] if explore_days is None else explore_days
        # how it explores beyond its first days: again after a move, and which trials (explore.py)
        self._exploring_given = exploring  # saved so: None follows the defaults when loaded
        self.exploring = explore.for_shape(exploring, shape)
        self.calendar = calendar or Calendar()
        self._regimes: dict[str, EngagementModel] = {}  # one model per calendar regime
        self._owner: dict[str, str] = {}  # post id -> the regime whose model holds it
        self._fitted_from: object = None  # the parent fit this regime model's prior follows
        self._posts: dict[str, Post] = {}
        self._times: list[int] = []  # sorted publication instants, for crowding
        # fitted state
        self.half_life = self.prior_half_life
        self.fitted = Fit(list(self.prior_activity))
        self._shapes_given = shapes_weight  # saved so: None follows shapes.SHAPES_WEIGHT when loaded
        self._smooth = smooth.SmoothFit(shapes_weight=weight_of(shapes_weight))
        self._moved_at: int | None = None  # where the smooth fit saw the audience move
        self.pool: siblings.Pool | None = None  # the deployment's other channels (siblings.py)
        self._dirty = False
        self._mean_curve: list[float] | None = None

    @classmethod
    def prior(
        cls,
        platform: str,
        timezone: str,
        *,
        calendar: Calendar | None = None,
        shape: str = DEFAULT_SHAPE,
        exploring: explore.Exploring | None = None,
    ) -> EngagementModel:
        """A channel with no history: the platform's half-life over the national Indonesian hours."""
        return cls(platform, timezone, calendar=calendar, shape=shape, exploring=exploring)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe state: the configuration and the observations (the fit is re-derived)."""
        return {
            "version": 3,
            "platform": self.platform,
            "timezone": self.timezone,
            "prior_activity": list(self.prior_activity),
            "prior_half_life_minutes": self.prior_half_life,
            "crowding": self.crowding,
            "exploration": self.exploration,
            "explore_days": self._explore_given,
            "exploring": None if self._exploring_given is None else self.exploring.to_dict(),
            "shape": self.shape,
            "shapes_weight": self._shapes_given,
            "moved_at": self._moved_at,
            "posts": [p.to_dict(key) for key, p in self._posts.items()],
            "regimes": {name: child.to_dict() for name, child in self._regimes.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, object], *, calendar: Calendar | None = None) -> EngagementModel:
        try:
            prior = d.get("prior_activity")
            if d.get("version") in (1, 2) and prior == national_prior():
                prior = None  # the default then, at full contrast: a saved default follows today's
            model = cls(
                str(d["platform"]),
                str(d["timezone"]),
                prior_activity=[float(x) for x in prior] if isinstance(prior, list) else None,
                prior_half_life_minutes=float(str(d["prior_half_life_minutes"])),
                crowding=float(str(d.get("crowding", DEFAULT_CROWDING))),
                # version 1 stored the then default, 0.0 (greedy), which now means "never explore"
                exploration=None if d.get("version") == 1 else optional_float(d.get("exploration")),
                explore_days=None if "shape" not in d else optional_float(d.get("explore_days")),
                calendar=calendar,
                shape=str(d.get("shape", DEFAULT_SHAPE)),
                exploring=explore.Exploring.from_dict(d.get("exploring")),
                shapes_weight=optional_float(d.get("shapes_weight")),
            )
            model._moved_at = None if d.get("moved_at") is None else int(str(d["moved_at"]))
            regimes = d.get("regimes", {})
            assert isinstance(regimes, dict)
            for name, raw_child in regimes.items():
                assert isinstance(raw_child, dict)
                assert name in REGIME_HOURS
                child = model._regimes[name] = cls.from_dict(raw_child)
                model._owner.update({key: str(name) for key in child._posts})
            posts = d.get("posts", [])
            assert isinstance(posts, list)
            for raw in posts:
                model._add_post(*Post.from_dict(raw))
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise InvalidRequest(f"not an EngagementModel state: {exc}") from exc
        return model

    def observe(
        self,
        published_at: datetime,
        horizon_minutes: int,
        reactions: int,
        *,
        post_id: str | None = None,
        value_factor: float = 1.0,
        quality: float | None = None,
    ) -> None:
        """Learn from an engagement.observed event (cumulative reactions at +horizon minutes).

        ``value_factor`` is the freshness the post was published with, so that a stale item's
        low response is not blamed on its hour. ``post_id`` tells apart two posts at one instant.
        ``quality`` is the item's quality measured on its other channels, when known (see
        ``quality.ItemQualities``, which can also revise it later through ``set_quality``).
        """
        if horizon_minutes <= 0 or reactions < 0:
            raise InvalidRequest("horizon_minutes must be positive and reactions non-negative")
        at = to_us(published_at, "published_at")
        key = post_id or str(at)
        regime = self.calendar.regime_at(at)
        if regime is not None:  # a Ramadan post teaches the Ramadan model, not the ordinary weeks
            self._owner[key] = regime
            self.regime_model(regime).observe(
                published_at,
                horizon_minutes,
                reactions,
                post_id=key,
                value_factor=value_factor,
                quality=quality,
            )
            return
        post = self._posts.get(key)
        if post is None:
            post = Post(at, value_factor=max(value_factor, 1e-9))
            self._add_post(key, post)
        post.counts[horizon_minutes] = max(reactions, post.counts.get(horizon_minutes, 0))
        if quality is not None:
            post.quality = clamp_quality(quality)
        self._dirty = True

    def set_quality(self, post_id: str, quality: float | None) -> None:
        """Revise what is known of a post's item quality (None = unknown); unknown posts are ignored."""
        if post_id in self._owner:
            self._regimes[self._owner[post_id]].set_quality(post_id, quality)
            return
        post = self._posts.get(post_id)
        if post is None:
            return
        new, old = (clamp_quality(quality) if quality is not None else None), post.quality
        if (new is None) != (old is None) or (new and old and abs(new / old - 1) > 0.005):
            post.quality = new
            self._dirty = True

    def response(self, post_id: str, *, complete: bool = False) -> tuple[float, float] | None:
        """(reactions extrapolated to the post's first 24 h, what the last fit expects of an average
        item there), or None before any count (with ``complete``, before the +24 h count). Not
        refitted: it is read for every count of the item's other channels, and the fit moves slowly."""
        if post_id in self._owner:
            return self._regimes[self._owner[post_id]].response(post_id, complete=complete)
        post = self._posts.get(post_id)
        if post is None or not post.counts or (complete and max(post.counts) < LIFE_MINUTES):
            return None
        h = self.half_life
        horizon = max(post.counts)
        captured = 1.0 - math.exp2(-horizon / h)
        reached = self._exposure_of(post, h)
        fit = self.fitted
        prior, u, d, v = fit.prior_eff, fit.u, fit.d, fit.v
        shape = sum(x * prior[b] * u[b % 24] * d[b // 24] * v[b] for b, x in reached)
        expected = fit.scale * post.value_factor * self._crowding_at(post.at_us, h) * shape
        return post.counts[horizon] / captured, expected

    def _add_post(self, key: str, post: Post) -> None:
        self._posts[key] = post
        bisect.insort(self._times, post.at_us)
        self._dirty = True
        while len(self._posts) > self.max_posts:
            oldest = min(self._posts, key=lambda k: self._posts[k].at_us)
            gone = self._posts.pop(oldest)
            del self._times[bisect.bisect_left(self._times, gone.at_us)]

    def _fit(self) -> None:
        self._dirty = False
        self._mean_curve = None
        posts = [p for p in self._posts.values() if p.counts]
        if not posts:
            return
        self.half_life = fit_half_life((p.counts for p in posts), self.prior_half_life)
        if self.shape == "smooth":
            rows, at = partial(self._rows, posts, self.half_life), [p.at_us for p in posts]
            detect = self.exploring.detector()  # which test dates a move (explore.py)
            self._smooth.pooled = None if self.pool is None else self.pool.pooled()
            args = (rows, at, self.fitted, self._smooth, self._moved_at, detect)
            self._moved_at = smooth.fit_following_moves(*args)
        else:
            fit_em(self._rows(posts, self.half_life), self.fitted)

    def _rows(self, posts: list[Post], h: float, moved_at: int | None = None) -> list[Row]:
        """The posts as the fit reads them (posts.rows_of); before ``moved_at`` they count less."""
        return rows_of(posts, h, self._zone, self._crowding_at, self.exploring.moved_weight, moved_at)

    def _exposure_of(self, post: Post, h: float) -> list[tuple[int, float]]:
        """The post's exposure under half-life ``h``: the one it keeps when fitted with about ``h``."""
        return post.exposure if abs(post.exposure_h - h) <= 0.02 * h else exposure(post.at_us, h, self._zone)

    def _crowding_at(self, at_us: int, h: float) -> float:
        """What the channel's posts in the 24 h before ``at_us`` leave of its audience."""
        return crowding_left(self._times, at_us, h, self.crowding)

    def _ensure_fit(self) -> None:
        if self._dirty:
            self._fit()

    def _tau(self) -> float:
        """Share of the posterior variance Thompson draws at."""
        default = smooth.THOMPSON_SHARE if self.shape == "smooth" else THOMPSON_SHARE
        return default if self.exploration is None else self.exploration

    def hourly(self, rng: random.Random | None = None) -> list[float]:
        """Activity by local hour-of-week in reaction units: the posterior mean, or one draw."""
        self._ensure_fit()
        fit = self.fitted
        prior, u, d, v = fit.prior_eff, fit.u, fit.d, fit.v
        tau = self._tau()
        if rng is not None and tau > 0 and self.shape == "smooth":
            v = smooth.draw_series(self._smooth, rng, tau)  # u and d are ones: the series is all in v
        elif rng is not None and tau > 0:
            u, d = draw_hours(fit, rng, tau)
        s = fit.scale
        return [s * prior[b] * u[b % 24] * d[b // 24] * v[b] for b in range(HOURS_PER_WEEK)]

    def curve(self, rng: random.Random | None = None) -> list[float]:
        """Expected reactions of a post at each 5-minute step of the local week (no crowding).

        Exact for the exponential reach of a post over piecewise-constant hourly activity
        (``reach.curve_of``). Assumes the local week runs on without a DST jump.
        """
        self._ensure_fit()
        if self._tau() <= 0:
            rng = None  # greedy: every draw is the mean, which is cached
        if rng is None and self._mean_curve is not None and not self._dirty:
            return self._mean_curve
        out = curve_of(self.hourly(rng), self.half_life)
        if rng is None:
            self._mean_curve = out
        return out

    def exploring_curve(self, planned_us: list[int], now_us: int) -> list[float] | None:
        """The mean curve with every untried hour of the day raised (explore.py), or None once the
        channel explores no more. An hour the planned posts ``planned_us`` (integer microseconds)
        will reach counts as tried, so that several jobs do not explore one hour at once."""
        if self.exploring.worth > 0 or self.exploring.gradient > 0:
            return None  # trials come from ``worth_curve``
        if self.exploring.reexplore_days > 0:
            self._ensure_fit()  # a move is found by the fit
        args = (self._times, planned_us, now_us, self.explore_days, self._moved_at)
        since = explore.exploring_since(*args, self.exploring.reexplore_days, self.exploring.seen_posts)
        if since is None:
            return None
        self._ensure_fit()
        h = self.half_life
        trials = [p for p in self._posts.values() if p.at_us >= since]
        exposures = [self._exposure_of(p, h) for p in trials]
        known = set(p.at_us for p in trials)
        exposures += [exposure(t, h, self._zone) for t in planned_us if t not in known and t >= since]
        gate = self.exploring.gate_z if self.shape == "smooth" else 0.0
        sd = smooth.daily_sd(self._smooth) if gate > 0 else None
        raised = explore.raise_untried(self.hourly(), exposures, sd, gate, self.exploring.spread)
        return None if raised is None else curve_of(raised, h)

    def worth_curve(self, planned_us: list[int], now_us: int) -> list[float] | None:
        """The mean curve raised where a trial could teach most (explore.py's ``worth`` or
        ``gradient``; None: both off), ``planned_us`` the channel's planned posts."""
        ex = self.exploring
        if ex.worth <= 0 and ex.gradient <= 0:
            return None
        self._ensure_fit()
        h, known = self.half_life, set(self._times)
        pending = [exposure(t, h, self._zone) for t in planned_us if t not in known]
        posts = [*self._times, *planned_us]
        if ex.gradient > 0:
            args = (self.curve(), self.hourly(), self._smooth, self.fitted.cv2, h, pending, posts, now_us)
            return explore.gradient_raise(*args, ex.gradient)
        raised = explore.worth_raise(
            self.hourly(), smooth.daily_sd(self._smooth), pending, posts, now_us, ex.worth
        )
        return curve_of(raised, h)

    def step_of(self, instant: datetime) -> int:
        at = to_us(instant)
        return local_step(at, offset_us(at, self._zone))

    def expected(self, instant: datetime) -> float:
        """Mean expected reactions of an average post at ``instant`` (before crowding and freshness)."""
        return self.curve()[self.step_of(instant)]

    def sample(self, instant: datetime, rng: random.Random) -> float:
        """One Thompson draw of the same quantity, for exploration."""
        return self.curve(rng)[self.step_of(instant)]

    @property
    def observations(self) -> int:
        return len(self._posts) + sum(len(child._posts) for child in self._regimes.values())

    def regime_model(self, regime: str) -> EngagementModel:
        """The model of a calendar regime (calendar.py): it starts from this channel's learned hours
        as the regime reshapes them (priors.regime_prior) and at its scale, learns from the
        regime's posts, and chooses by its mean (priors.REGIME_THOMPSON_SHARE)."""
        child = self._regimes.get(regime)
        if child is None:
            child = self._regimes[regime] = EngagementModel(
                self.platform,
                self.timezone,
                prior_half_life_minutes=self.prior_half_life,
                crowding=self.crowding,
                explore_days=0.0,
                shape=self.shape,
                exploring=self._exploring_given,
                shapes_weight=self._shapes_given,
            )
        child.exploration = REGIME_THOMPSON_SHARE  # also for a child restored from an older state
        child.max_posts = _REGIME_MAX_POSTS
        child.pool = None if self.pool is None else self.pool.within(regime)
        self._ensure_fit()
        if child._fitted_from is not self.fitted.u:  # the ordinary weeks were refit: refresh the prior
            child._set_prior(regime_prior(regime, [x / self.fitted.scale for x in self.hourly()]))
            child._fitted_from = self.fitted.u
        if not any(p.counts for p in child._posts.values()):
            child.fitted.scale, child.half_life = self.fitted.scale, self.half_life
        return child

    def learned_shape(self, regime: str | None = None) -> siblings.Shape | None:
        """What its last smooth fit's posts say of its hours, the ordinary weeks' or a regime's, for
        the other channels' priors (siblings.py); None before a fit there, or with the hourly shape."""
        model = self if regime is None else self._regimes.get(regime)
        if model is None or model.shape != "smooth" or model._smooth.laplace is None:
            return None
        return siblings.shape_of(model.fitted.prior_eff, siblings.likelihood(*model._smooth.laplace))

    def _set_prior(self, prior: list[float]) -> None:
        self.prior_activity = [max(x, 1e-9) for x in prior]
        self.fitted.prior_eff = list(self.prior_activity)
        self._dirty = True
        self._mean_curve = None

    def curve_at(self, at_us: int, rng: random.Random | None = None) -> list[float]:
        """The curve that holds at an instant: the regime's model inside a calendar period."""
        regime = self.calendar.regime_at(at_us) if self.calendar else None
        return self.curve(rng) if regime is None else self.regime_model(regime).curve(rng)

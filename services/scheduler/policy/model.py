"""Per-channel model of audience response by local hour-of-week, learned from engagement.

What a post at instant t earns is modelled the way the research measures it (scheduling.md §3.1,
§3.4): the post's reach is spread over the hours after t by an exponential decay with the
network's half-life, and in each hour it meets that hour's audience activity::

    E[reactions] = scale · m · Σ_b X_b(t) · P_b · u_hod(b) · v_b

- ``X_b(t)`` share of the post's first 24 h spent in local hour-of-week b (from the half-life);
- ``P_b`` the prior activity: national Indonesian hours (62.5 % online 19:00-21:00, 51 % 07:00-
  10:00, lowest 24:00-05:00, Kominfo x Katadata 2021, §4.2), identical across platforms because
  no public per-platform Indonesian curve exists; platforms differ by half-life (§3.4);
- ``u`` 24 hour-of-day and ``v`` 168 hour-of-week multipliers, both Gamma-distributed around 1, so
  a channel's own data first corrects the daily shape (pooled over 7 days) and only with more
  evidence each hour of the week (the global → segment → entity pooling of §3.3);
- ``m`` what the model knows besides the hour: the freshness the post was published with and the
  crowding by the channel's earlier posts (posts close together share the audience).

The fit is a Poisson EM (reactions are counts), with each post down-weighted by the dispersion a
post's unknown quality adds, so a 900-reaction post is one noisy sample of its hour, not 900.
The half-life is learned from the +60/+360/+1440 min horizons: the share of reactions already in
at +1 h pins it down. Exploration is Thompson sampling from the Gamma posteriors (§3.3).
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from datetime import datetime

from services.scheduler.policy.calendar import Calendar
from services.scheduler.policy.rules import (
    US_PER_MINUTE,
    InvalidRequest,
    from_us,
    offset_us,
    to_us,
    zone,
)

HOURS_PER_WEEK = 168
STEPS_PER_HOUR = 12  # 5-minute steps: Klout's 15-min grain is enough (§3.4); 5 min matches the grid
STEPS_PER_WEEK = HOURS_PER_WEEK * STEPS_PER_HOUR
LIFE_MINUTES = 1440  # slot-world.md and Klout count a post's first 24 h
THURSDAY_TO_MONDAY_MINUTES = 3 * 1440  # 1970-01-01 was a Thursday; the week starts Monday 00:00
MINUTES_PER_WEEK = 7 * 1440

# Share of Indonesians online by local hour (Kominfo x Katadata 2021 anchors 19-21 h at 62.5 % and
# 07-10 h at 51 %, 24-05 h lowest; Populix: most intense 18:00-21:00). Weekends: later mornings.
_WEEKDAY = (0.14, 0.08, 0.05, 0.05, 0.09, 0.20, 0.33, 0.47, 0.51, 0.51, 0.45, 0.41,
            0.44, 0.42, 0.38, 0.38, 0.41, 0.46, 0.55, 0.625, 0.625, 0.57, 0.40, 0.24)  # fmt: skip
_WEEKEND = (0.18, 0.10, 0.06, 0.05, 0.07, 0.14, 0.24, 0.36, 0.45, 0.50, 0.50, 0.47,
            0.46, 0.44, 0.42, 0.42, 0.44, 0.48, 0.55, 0.62, 0.625, 0.59, 0.45, 0.28)  # fmt: skip

# Minutes until half of a post's reactions are in (§3.4): X 24 min and Facebook 1 h 42 min (Klout),
# Instagram ~1 h (Takumi). The rest are assumptions until a channel's own horizons correct them.
PLATFORM_HALF_LIFE_MINUTES = {
    "x": 24.0, "twitter": 24.0, "threads": 30.0, "mastodon": 30.0, "facebook": 102.0,
    "instagram": 60.0, "telegram": 60.0, "whatsapp": 60.0, "tiktok": 120.0, "youtube": 720.0,
    "website": 720.0,
}  # fmt: skip
DEFAULT_HALF_LIFE_MINUTES = 60.0
# Thompson draws at a share of the posterior variance. Greedy where the prior holds: on 40 generated
# worlds Thompson at a quarter of the variance captured 0.6 % less (docs/scheduling.md), the model
# learning instead from the deliberate exploration of a young channel (EXPLORE_* below) and from
# the spill of each post's reach into the hours after it. Where the channel's evidence contradicts
# the prior, the hours it has not tried are truly unknown and plain Thompson is used (MISFIT_*).
DEFAULT_CROWDING = 0.3  # share of audience a post loses to one just before it (assumption)

# How each calendar regime reshapes a channel's ordinary day, by local hour (a prior the regime's
# own posts correct). Ramadan: up for sahur before dawn (02-04 h), away at iftar (18 h) and tarawih
# (19-20 h), back online after it (21-23 h), quieter while fasting in the afternoon. Holidays:
# people sleep in and are out in the afternoon. School holidays: the young stay up later.
REGIME_HOURS: dict[str, tuple[float, ...]] = {
    "ramadan": (1.0, 1.2, 2.5, 3.5, 3.0, 1.2, 0.8, 0.8, 0.9, 0.9, 0.9, 0.9,
                0.9, 0.85, 0.8, 0.8, 0.8, 0.7, 0.45, 0.55, 0.75, 1.3, 1.5, 1.3),
    "holiday": (1.1, 1.1, 1.0, 1.0, 1.0, 0.8, 0.7, 0.7, 0.85, 1.1, 1.15, 1.15,
                1.1, 1.0, 0.95, 0.95, 0.95, 0.95, 1.0, 1.0, 1.05, 1.05, 1.1, 1.1),
    "school_holiday": (1.2, 1.1, 1.0, 1.0, 1.0, 0.9, 0.85, 0.9, 0.95, 1.05, 1.1, 1.05,
                       1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.2, 1.25),
}  # fmt: skip
HORIZONS = (60, 360, 1440)  # engagement.observed is emitted at +1 h, +6 h, +24 h (design.md)
_PRIOR_CV2 = 0.16  # quality of items varies ~40 % (assumption), corrected from residuals
_PRIOR_CV2_KNOWN = 0.04  # what is left once the item's other channels have measured it
# Prior spread of the multipliers around the national hours. Fixed, not tied to the noise of a
# post: when posts are less noisy (quality known from other channels), fewer of them should move
# the curve, not more. An hour of the week is seen once a week at best, so v is held tighter.
HOUR_OF_DAY_SD = 0.3
HOUR_OF_WEEK_SD = 0.15
# Gamma shapes (= rates: mean 1) of the hour-of-day and day-of-week factors when the evidence does
# not say otherwise; the fit picks each from ALPHA_GRID by marginal likelihood (empirical Bayes).
ALPHA_HOUR_OF_DAY = 1.0 / HOUR_OF_DAY_SD**2
ALPHA_DAY = 1.0 / 0.2**2
ALPHA_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
ALPHA_PRIOR_SD = 1.5  # spread, in log, of the prior weight itself around its default
TEMPER_POWER = 1.0  # how fast the prior's shape flattens as its weight falls
FORGET_DAYS = 28.0  # a post's weight halves every 4 weeks behind the channel's latest post
# Thompson sampling is switched on for a channel whose evidence has contradicted its prior: the
# hours it has not tried are then truly unknown. Where the prior holds, the mean is used (greedy).
# Chosen on the tuning half of bench.adversarial (odd seeds 1-15, mean capture): plain Thompson
# (1.0) 0.70, none 0.74, half the variance 0.74, a quarter 0.78; switching on at half the default
# weight rather than a quarter 0.79.
MISFIT_ALPHA = ALPHA_HOUR_OF_DAY / 2
MISFIT_EXPLORATION = 0.25
# Deliberate exploration (docs/scheduling.md): while a channel is young, an hour of the day that no
# post has reached yet is scored as if it could match the channel's best hour, so each hour is
# tried about once. Bounded: only the channel's first EXPLORE_DAYS days (from its first post) and
# first EXPLORE_POSTS posts. On 40 generated worlds it lifted the worst capture from 0.852 to 0.879;
# without the day limit a quiet channel kept exploring into its third week and lost 2 % on average.
EXPLORE_POSTS = 30
EXPLORE_DAYS = 7.0
EXPLORE_SEEN = 0.5  # share of a post's reach an hour of the day needs to count as tried
EXPLORE_OPTIMISM = 1.0  # an untried hour may be as good as this share of the best hour
_HALF_LIFE_PRIOR_POSTS = 3.0
_MAX_EM_ROUNDS = 40
_EM_TOLERANCE = 0.002  # multipliers closer than 0.2 % change no slot choice
_MAX_POSTS = 1500  # ~1 year of a busy channel; older posts are forgotten (audiences change)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(str(value))


def national_prior() -> list[float]:
    """Relative audience activity by local hour-of-week, Monday 00:00 first."""
    prior: list[float] = []
    for day in range(7):
        prior.extend(_WEEKEND if day >= 5 else _WEEKDAY)
    return prior


def _clamp_quality(quality: float) -> float:
    return min(10.0, max(0.1, quality)) if math.isfinite(quality) else 1.0


def _eb_alpha(z: list[float], e: list[float], default: float) -> float:
    """The Gamma(a, a) prior weight of a factor under which its evidence is likeliest.

    Each cell's effective count z ~ Poisson(f·e) with f ~ Gamma(a, a) is negative binomial, so the
    marginal log-likelihood is Σ lgamma(a+z) - lgamma(a) + a·log a - (a+z)·log(a+e); a log-normal
    hyperprior around ``default`` keeps a channel with few posts near the default.
    """
    best, best_ll = default, -math.inf
    for a in (*ALPHA_GRID, default):
        ll = -((math.log(a / default)) ** 2) / (2 * ALPHA_PRIOR_SD**2)
        for zi, ei in zip(z, e, strict=True):
            if ei > 0:
                ll += math.lgamma(a + zi) - math.lgamma(a) + a * math.log(a) - (a + zi) * math.log(a + ei)
        if ll > best_ll:
            best, best_ll = a, ll
    return best


def local_step(us: int, offset: int) -> int:
    """5-minute step of the local week (0 = Monday 00:00-00:05) of an instant."""
    minutes = (us + offset) // US_PER_MINUTE
    return ((minutes + THURSDAY_TO_MONDAY_MINUTES) % MINUTES_PER_WEEK) // 5


@dataclass
class _Post:
    at_us: int
    counts: dict[int, int] = field(default_factory=dict)  # horizon minutes → cumulative reactions
    value_factor: float = 1.0
    quality: float | None = None  # the item's quality as seen on its other channels (quality.py)
    exposure: list[tuple[int, float]] = field(default_factory=list)  # (hour-of-week, share)
    exposure_h: float = 0.0  # half-life the exposure was computed with


class EngagementModel:
    """Audience response of one channel; ``expected`` is in reactions once observations exist."""

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
    ) -> None:
        self.platform = platform
        self.timezone = timezone
        self._zone = zone(timezone)
        self.prior_activity = list(prior_activity or national_prior())
        if len(self.prior_activity) != HOURS_PER_WEEK or min(self.prior_activity) <= 0:
            raise InvalidRequest("prior_activity needs 168 positive numbers, Monday 00:00 first")
        self.prior_half_life = prior_half_life_minutes or PLATFORM_HALF_LIFE_MINUTES.get(
            platform.lower(), DEFAULT_HALF_LIFE_MINUTES
        )
        self.crowding = crowding
        # Thompson draws at this share of the posterior variance (1 = plain Thompson, 0 = the mean)
        # None: automatic (Thompson only where the evidence contradicted the prior, see _tau)
        self.exploration = exploration
        # deliberate exploration of untried hours in the channel's first days; 0 turns it off
        self.explore_days = EXPLORE_DAYS if explore_days is None else explore_days
        self.calendar = calendar or Calendar()
        self._regimes: dict[str, EngagementModel] = {}  # one model per calendar regime
        self._owner: dict[str, str] = {}  # post id -> the regime whose model holds it
        self._fitted_from: object = None  # the parent fit this regime model's prior follows
        self._posts: dict[str, _Post] = {}
        self._times: list[int] = []  # sorted publication instants, for crowding
        # fitted state
        self.half_life = self.prior_half_life
        self.scale = 1.0
        self.cv2 = _PRIOR_CV2  # dispersion of posts whose item quality is unknown
        self.cv2_known = _PRIOR_CV2_KNOWN  # ... and of posts whose quality other channels measured
        self._u = [1.0] * 24
        self._d = [1.0] * 7
        self._v = [1.0] * HOURS_PER_WEEK
        self.alpha_u, self.alpha_d = ALPHA_HOUR_OF_DAY, ALPHA_DAY
        self._gamma = 1.0
        self._prior_eff = list(self.prior_activity)
        self._z = [0.0] * HOURS_PER_WEEK  # effective reactions attributed to each hour
        self._e = [0.0] * HOURS_PER_WEEK  # effective exposure of each hour
        self._dirty = False
        self._mean_curve: list[float] | None = None

    # ------------------------------------------------------------------ construction and state
    @classmethod
    def prior(cls, platform: str, timezone: str, *, calendar: Calendar | None = None) -> EngagementModel:
        """A channel with no history: the platform's half-life over the national Indonesian hours."""
        return cls(platform, timezone, calendar=calendar)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe state: the configuration and the observations (the fit is re-derived)."""
        return {
            "version": 2,
            "platform": self.platform,
            "timezone": self.timezone,
            "prior_activity": list(self.prior_activity),
            "prior_half_life_minutes": self.prior_half_life,
            "crowding": self.crowding,
            "exploration": self.exploration,
            "explore_days": self.explore_days,
            "posts": [
                {
                    "key": key,
                    "at_us": p.at_us,
                    "counts": {str(h): c for h, c in sorted(p.counts.items())},
                    "value_factor": p.value_factor,
                    "quality": p.quality,
                }
                for key, p in self._posts.items()
            ],
            "regimes": {name: child.to_dict() for name, child in self._regimes.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, object], *, calendar: Calendar | None = None) -> EngagementModel:
        try:
            prior = d.get("prior_activity")
            model = cls(
                str(d["platform"]),
                str(d["timezone"]),
                prior_activity=[float(x) for x in prior] if isinstance(prior, list) else None,
                prior_half_life_minutes=float(str(d["prior_half_life_minutes"])),
                crowding=float(str(d.get("crowding", DEFAULT_CROWDING))),
                # version 1 stored the then default, 0.0 (greedy), which now means "never explore"
                exploration=None if d.get("version") == 1 else _optional_float(d.get("exploration")),
                explore_days=float(str(d.get("explore_days", EXPLORE_DAYS))),
                calendar=calendar,
            )
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
                assert isinstance(raw, dict)
                quality = raw.get("quality")
                post = _Post(
                    int(raw["at_us"]),
                    value_factor=float(raw["value_factor"]),
                    quality=float(quality) if quality is not None else None,
                )
                post.counts = {int(h): int(c) for h, c in dict(raw["counts"]).items()}
                model._add_post(str(raw["key"]), post)
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise InvalidRequest(f"not an EngagementModel state: {exc}") from exc
        return model

    # ------------------------------------------------------------------ learning
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
            post = _Post(at, value_factor=max(value_factor, 1e-9))
            self._add_post(key, post)
        post.counts[horizon_minutes] = max(reactions, post.counts.get(horizon_minutes, 0))
        if quality is not None:
            post.quality = _clamp_quality(quality)
        self._dirty = True

    def set_quality(self, post_id: str, quality: float | None) -> None:
        """Revise what is known of a post's item quality (None = unknown); unknown posts are ignored."""
        if post_id in self._owner:
            self._regimes[self._owner[post_id]].set_quality(post_id, quality)
            return
        post = self._posts.get(post_id)
        if post is None:
            return
        new = _clamp_quality(quality) if quality is not None else None
        old = post.quality
        if (new is None) != (old is None) or (new and old and abs(new / old - 1) > 0.005):
            post.quality = new
            self._dirty = True

    def response(self, post_id: str, *, complete: bool = False) -> tuple[float, float] | None:
        """(reactions extrapolated to the post's first 24 h, reactions the model expects of an
        average item there), or None before any count, or with ``complete`` before the +24 h
        count. Uses the last fit, without refitting: it is read for every observation of the
        item's other channels, and the fit moves slowly.
        """
        if post_id in self._owner:
            return self._regimes[self._owner[post_id]].response(post_id, complete=complete)
        post = self._posts.get(post_id)
        if post is None or not post.counts or (complete and max(post.counts) < LIFE_MINUTES):
            return None
        h = self.half_life
        horizon = max(post.counts)
        captured = 1.0 - math.exp2(-horizon / h)
        exposure = post.exposure if abs(post.exposure_h - h) <= 0.02 * h else self._exposure(post.at_us, h)
        prior, u, d, v = self._prior_eff, self._u, self._d, self._v
        shape = sum(x * prior[b] * u[b % 24] * d[b // 24] * v[b] for b, x in exposure)
        expected = self.scale * post.value_factor * self._crowding_at(post.at_us, h) * shape
        return post.counts[horizon] / captured, expected

    def _add_post(self, key: str, post: _Post) -> None:
        self._posts[key] = post
        bisect.insort(self._times, post.at_us)
        self._dirty = True
        if len(self._posts) > _MAX_POSTS:
            oldest = min(self._posts, key=lambda k: self._posts[k].at_us)
            gone = self._posts.pop(oldest)
            del self._times[bisect.bisect_left(self._times, gone.at_us)]

    def _fit(self) -> None:
        self._dirty = False
        self._mean_curve = None
        posts = [p for p in self._posts.values() if p.counts]
        if not posts:
            return
        h = self.half_life = self._fit_half_life(posts)
        latest = max(p.at_us for p in posts)
        # n, m, exposure, G, quality known, recency
        rows: list[tuple[float, float, list[tuple[int, float]], float, bool, float]] = []
        for p in posts:
            if abs(p.exposure_h - h) > 0.02 * h:
                p.exposure = self._exposure(p.at_us, h)
                p.exposure_h = h
            horizon = max(p.counts)
            captured = 1.0 - math.exp2(-horizon / h)  # share of all reactions in by the horizon
            n = p.counts[horizon] / captured
            m = p.value_factor * self._crowding_at(p.at_us, h) * (p.quality or 1.0)
            # an audience that moves is followed: older posts count less (change over weeks)
            recency = math.exp2(-(latest - p.at_us) / (FORGET_DAYS * 1440 * US_PER_MINUTE))
            rows.append((n, m, p.exposure, captured, p.quality is not None, recency))
        u, d, v = self._u, self._d, self._v
        alpha_v = 1.0 / HOUR_OF_WEEK_SD**2
        for _ in range(_MAX_EM_ROUNDS):  # warm-started from the last fit, so usually a few rounds
            before = u + d + v
            prior = self._prior_eff
            shapes = [
                sum(x * prior[b] * u[b % 24] * d[b // 24] * v[b] for b, x in ex) for _, _, ex, _, _, _ in rows
            ]
            expected = sum(r[1] * r[5] * s for r, s in zip(rows, shapes, strict=True))
            # floored so a channel whose posts all got 0 reactions keeps the prior's shape
            self.scale = max(sum(r[0] * r[5] for r in rows) / max(expected, 1e-12), 1e-6)
            z = [0.0] * HOURS_PER_WEEK
            e = [0.0] * HOURS_PER_WEEK
            resid, norm, full = [0.0, 0.0], [0.0, 0.0], [0, 0]  # by quality unknown / known
            cv2 = (self.cv2, self.cv2_known)
            for (n, m, ex, captured, known, recency), shape in zip(rows, shapes, strict=True):
                mu = self.scale * m * shape
                # quasi-Poisson: var = mu·(1/G + cv²·mu), cv² the spread an item's quality adds
                weight = recency / (1.0 / captured + cv2[known] * mu)
                if captured > 0.9:
                    resid[known] += (n - mu) ** 2 - mu / captured
                    norm[known] += mu * mu
                    full[known] += 1
                if shape <= 0:
                    continue
                for b, x in ex:
                    part = x * prior[b] * u[b % 24] * d[b // 24] * v[b]
                    z[b] += weight * n * part / shape
                    e[b] += weight * self.scale * m * x * prior[b]
            if norm[0] > 0:
                data_cv2 = min(1.0, max(0.005, resid[0] / norm[0]))
                self.cv2 = (10 * _PRIOR_CV2 + full[0] * data_cv2) / (10 + full[0])
            if norm[1] > 0:
                data_cv2 = min(1.0, max(0.005, resid[1] / norm[1]))
                self.cv2_known = (10 * _PRIOR_CV2_KNOWN + full[1] * data_cv2) / (10 + full[1])
            # Empirical Bayes: each factor's prior weight is the one under which the channel's own
            # evidence is likeliest, so an audience unlike the prior soon outweighs it.
            zu = [sum(z[hod::24]) for hod in range(24)]
            eu = [sum(e[b] * d[b // 24] * v[b] for b in range(hod, HOURS_PER_WEEK, 24)) for hod in range(24)]
            self.alpha_u = _eb_alpha(zu, eu, ALPHA_HOUR_OF_DAY)
            u = [(self.alpha_u + zu[k]) / (self.alpha_u + eu[k]) for k in range(24)]
            zd = [sum(z[k * 24 : k * 24 + 24]) for k in range(7)]
            ed = [sum(e[b] * u[b % 24] * v[b] for b in range(k * 24, k * 24 + 24)) for k in range(7)]
            self.alpha_d = _eb_alpha(zd, ed, ALPHA_DAY)
            d = [(self.alpha_d + zd[k]) / (self.alpha_d + ed[k]) for k in range(7)]
            v = [(alpha_v + z[b]) / (alpha_v + e[b] * u[b % 24] * d[b // 24]) for b in range(HOURS_PER_WEEK)]
            self._temper()
            if max(abs(x - y) for x, y in zip(u + d + v, before, strict=True)) < _EM_TOLERANCE:
                break
        self._u, self._d, self._v, self._z, self._e = u, d, v, z, e

    def _temper(self) -> None:
        """The prior's shape counts as much as its weight: once the evidence has shown the national
        hours to be wrong for this channel (a small hour-of-day weight), the hours it has not
        reached yet are no longer assumed to follow them either."""
        gamma = min(1.0, self.alpha_u / ALPHA_HOUR_OF_DAY) ** TEMPER_POWER
        if abs(gamma - self._gamma) < 0.02:
            return
        self._gamma = gamma
        mean = sum(self.prior_activity) / HOURS_PER_WEEK
        self._prior_eff = [mean * (x / mean) ** gamma for x in self.prior_activity]

    def _fit_half_life(self, posts: list[_Post]) -> float:
        """Half-life from how much of the +24 h count was already in at +1 h and +6 h."""
        sums = {60: [0, 0], 360: [0, 0]}
        n = 0
        for p in posts:
            full = p.counts.get(1440)
            if not full:
                continue
            n += 1
            for early, acc in sums.items():
                if early in p.counts:
                    acc[0] += p.counts[early]
                    acc[1] += full
        if n == 0:
            return self.prior_half_life
        best, best_err = self.prior_half_life, math.inf
        h = 5.0
        while h < 4000:
            g_full = 1.0 - math.exp2(-1440 / h)
            err = 0.0
            for early, (num, den) in sums.items():
                if den:
                    err += den * (num / den - (1.0 - math.exp2(-early / h)) / g_full) ** 2
            if err < best_err:
                best, best_err = h, err
            h *= 1.03
        w = _HALF_LIFE_PRIOR_POSTS
        return math.exp((w * math.log(self.prior_half_life) + n * math.log(best)) / (w + n))

    def _exposure(self, at_us: int, h: float) -> list[tuple[int, float]]:
        """Share of a post's first 24 h in each local hour-of-week it spans (tiny tails dropped)."""
        out: list[tuple[int, float]] = []
        offset = offset_us(at_us, self._zone)
        end_offset = offset_us(at_us + LIFE_MINUTES * US_PER_MINUTE, self._zone)
        elapsed = 0.0
        t = at_us
        while elapsed < LIFE_MINUTES:
            if end_offset != offset:  # a DST change inside the post's life: convert each hour
                offset = offset_us(t, self._zone)
            local_min = (t + offset) / US_PER_MINUTE + THURSDAY_TO_MONDAY_MINUTES
            hour = int(local_min // 60) % HOURS_PER_WEEK
            span = min(60.0 - local_min % 60.0, LIFE_MINUTES - elapsed)
            share = math.exp2(-elapsed / h) - math.exp2(-(elapsed + span) / h)
            if share > 1e-4:
                out.append((hour, share))
            elif out:
                break
            elapsed += span
            t = at_us + int(elapsed * US_PER_MINUTE)
        return out

    def _crowding_at(self, at_us: int, h: float) -> float:
        """slot-world.md's crowding: 1 / (1 + κ Σ 2^(-(t - tj)/h)) over posts in the previous 24 h."""
        i = bisect.bisect_left(self._times, at_us)
        j = bisect.bisect_left(self._times, at_us - LIFE_MINUTES * US_PER_MINUTE)
        pressure = sum(math.exp2(-(at_us - t) / US_PER_MINUTE / h) for t in self._times[j:i])
        return 1.0 / (1.0 + self.crowding * pressure)

    # ------------------------------------------------------------------ prediction
    def _ensure_fit(self) -> None:
        if self._dirty:
            self._fit()

    def _tau(self) -> float:
        """Share of the posterior variance Thompson draws at: the configured one, or plain Thompson
        once the channel's evidence has contradicted the prior (MISFIT_ALPHA)."""
        if self.exploration is not None:
            return self.exploration
        misfit = self.alpha_u <= MISFIT_ALPHA or self.alpha_d <= MISFIT_ALPHA
        return MISFIT_EXPLORATION if misfit else 0.0

    def hourly(self, rng: random.Random | None = None) -> list[float]:
        """Activity by local hour-of-week in reaction units: the posterior mean, or one draw."""
        self._ensure_fit()
        prior, z, e, u, d, v = self._prior_eff, self._z, self._e, self._u, self._d, self._v
        tau = self._tau()
        if rng is not None and tau > 0:
            # Thompson sampling: a draw from the hour-of-day and day posteriors; ``tau`` scales
            # their variance (shape and rate divided alike keep the mean).
            zu = [sum(z[hod::24]) for hod in range(24)]
            eu = [sum(e[b] * d[b // 24] * v[b] for b in range(hod, HOURS_PER_WEEK, 24)) for hod in range(24)]
            a = self.alpha_u
            u = [rng.gammavariate((a + zu[k]) / tau, tau / (a + eu[k])) for k in range(24)]
            zd = [sum(z[k * 24 : k * 24 + 24]) for k in range(7)]
            ed = [sum(e[b] * u[b % 24] * v[b] for b in range(k * 24, k * 24 + 24)) for k in range(7)]
            a = self.alpha_d
            d = [rng.gammavariate((a + zd[k]) / tau, tau / (a + ed[k])) for k in range(7)]
        s = self.scale
        return [s * prior[b] * u[b % 24] * d[b // 24] * v[b] for b in range(HOURS_PER_WEEK)]

    def curve(self, rng: random.Random | None = None) -> list[float]:
        """Expected reactions of a post at each 5-minute step of the local week (no crowding).

        Exact for the exponential reach of a post over piecewise-constant hourly activity: with
        d = 2^(-5/h), R(step) = (1 - d)·a(step) + d·R(step + 1) around the week, and the first
        24 h are R(t) - d^288·R(t + 24 h). Assumes the local week runs on without a DST jump.
        """
        self._ensure_fit()
        if self._tau() <= 0:
            rng = None  # greedy: every draw is the mean, which is cached
        if rng is None and self._mean_curve is not None and not self._dirty:
            return self._mean_curve
        out = self._curve_of(self.hourly(rng))
        if rng is None:
            self._mean_curve = out
        return out

    def _curve_of(self, a: list[float]) -> list[float]:
        d = math.exp2(-5.0 / self.half_life)
        d_hour = d**STEPS_PER_HOUR
        # R at each hour start, around the cyclic week
        acc, weight = 0.0, 1.0
        for b in range(HOURS_PER_WEEK):
            acc += weight * a[b]
            weight *= d_hour
        r_start = [0.0] * (HOURS_PER_WEEK + 1)
        r_start[0] = (1.0 - d_hour) * acc / (1.0 - weight)
        r_start[HOURS_PER_WEEK] = r_start[0]
        for b in range(HOURS_PER_WEEK - 1, 0, -1):
            r_start[b] = (1.0 - d_hour) * a[b] + d_hour * r_start[b + 1]
        tails = [d ** (STEPS_PER_HOUR - j) for j in range(STEPS_PER_HOUR)]
        r = [0.0] * STEPS_PER_WEEK
        k = 0
        for b in range(HOURS_PER_WEEK):
            ab, nxt = a[b], r_start[b + 1]
            for tail in tails:
                r[k] = ab + tail * (nxt - ab)
                k += 1
        cut = d ** (LIFE_MINUTES // 5)
        day = LIFE_MINUTES // 5
        return [r[i] - cut * r[(i + day) % STEPS_PER_WEEK] for i in range(STEPS_PER_WEEK)]

    def exploring_curve(self, planned_us: list[int], now_us: int) -> list[float] | None:
        """The mean curve with every untried hour of the day raised to the channel's best hour, or
        None once the channel has EXPLORE_POSTS posts or every hour has been tried.

        ``planned_us`` are the channel's planned posts (integer microseconds): an hour they will
        reach counts as tried, so one untried hour is not explored by several jobs at once.
        """
        if self.explore_days <= 0 or len(self._posts) >= EXPLORE_POSTS:
            return None
        first = min([*self._times, *planned_us], default=now_us)
        if now_us - first > self.explore_days * 1440 * US_PER_MINUTE:
            return None
        self._ensure_fit()
        h = self.half_life
        seen = [0.0] * 24
        exposures = [
            p.exposure if abs(p.exposure_h - h) <= 0.02 * h else self._exposure(p.at_us, h)
            for p in self._posts.values()
        ]
        known = set(p.at_us for p in self._posts.values())
        exposures += [self._exposure(t, h) for t in planned_us if t not in known]
        for ex in exposures:
            for b, x in ex:
                seen[b % 24] += x
        untried = [hod for hod in range(24) if seen[hod] < EXPLORE_SEEN]
        if not untried:
            return None
        a = self.hourly()
        best = max(a) * EXPLORE_OPTIMISM
        for hod in untried:
            for b in range(hod, HOURS_PER_WEEK, 24):
                a[b] = max(a[b], best)
        return self._curve_of(a)

    def step_of(self, instant: datetime) -> int:
        at = to_us(instant)
        return local_step(at, offset_us(at, self._zone))

    def expected(self, instant: datetime) -> float:
        """Mean expected reactions of an average post at ``instant`` (before crowding and freshness)."""
        return self.curve()[self.step_of(instant)]

    def sample(self, instant: datetime, rng: random.Random) -> float:
        """One Thompson draw of the same quantity, for exploration."""
        return self.curve(rng)[self.step_of(instant)]

    def crowding_factor(self, instant: datetime, earlier: list[datetime]) -> float:
        """The share of audience left to a post at ``instant`` after the channel's ``earlier`` posts."""
        at = to_us(instant)
        pressure = sum(
            math.exp2(-(at - to_us(t)) / US_PER_MINUTE / self.half_life)
            for t in earlier
            if 0 <= at - to_us(t) < LIFE_MINUTES * US_PER_MINUTE
        )
        return 1.0 / (1.0 + self.crowding * pressure)

    @property
    def observations(self) -> int:
        return len(self._posts) + sum(len(child._posts) for child in self._regimes.values())

    # ------------------------------------------------------------------ calendar regimes
    def regime_model(self, regime: str) -> EngagementModel:
        """The model of a calendar regime (calendar.py): it starts from this channel's learned hours
        reshaped by the regime (REGIME_HOURS) and at its scale, and learns from the regime's posts."""
        child = self._regimes.get(regime)
        if child is None:
            child = self._regimes[regime] = EngagementModel(
                self.platform,
                self.timezone,
                prior_half_life_minutes=self.prior_half_life,
                crowding=self.crowding,
                exploration=self.exploration,
                explore_days=0.0,
            )
        self._ensure_fit()
        if child._fitted_from is not self._u:  # the ordinary weeks were refit: refresh the prior
            base = self.hourly()
            hours = REGIME_HOURS[regime]
            child._set_prior([base[b] / self.scale * hours[b % 24] for b in range(HOURS_PER_WEEK)])
            child._fitted_from = self._u
        if not any(p.counts for p in child._posts.values()):
            child.scale, child.half_life = self.scale, self.half_life
        return child

    def _set_prior(self, prior: list[float]) -> None:
        self.prior_activity = [max(x, 1e-9) for x in prior]
        self._prior_eff = list(self.prior_activity)
        self._gamma = 1.0
        self._dirty = True
        self._mean_curve = None

    def curve_at(self, at_us: int, rng: random.Random | None = None) -> list[float]:
        """The curve that holds at an instant: the regime's model inside a calendar period."""
        regime = self.calendar.regime_at(at_us) if self.calendar else None
        return self.curve(rng) if regime is None else self.regime_model(regime).curve(rng)

    def describe_hour(self, instant: datetime) -> str:
        local = from_us(to_us(instant)).astimezone(self._zone)
        return local.strftime("%a %H:%M ") + (local.tzname() or self.timezone)

"""Deliberate exploration: when a channel tries its untried hours, and which hours those are.

A young channel scores every hour of the day that no post has reached yet as EXPLORE_OPTIMISM
times its best hour, more the further the hour is from the hours trials started at, so each hour
is tried about once, the night's too (model.py's ``exploring_curve``). A channel whose audience
moved (smooth.py's move detector) is young again: the hours its posts reached before the move say
where the audience *was*, so for ``reexplore_days`` (7 by default) from the move the hours count
as tried only when a post reached them after it.
Without this the fit, its old posts down-weighted, still ranked the old hours first and no post
ever went where the audience had gone (bench.adversarial's shift worlds: the weeks after the move
earned 0.05-0.15 of the oracle on the moved channels, traced per channel and week).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from functools import partial

from services.scheduler.policy.change import CHANGE_MIN_RUN, change_point
from services.scheduler.policy.fit import FORGET_DAYS
from services.scheduler.policy.knowledge import gradients
from services.scheduler.policy.reach import HOURS_PER_WEEK, STEPS_PER_HOUR, by_hour_of_day
from services.scheduler.policy.rules import US_PER_MINUTE, InvalidRequest
from services.scheduler.policy.smooth import MOVE_POSTS, MOVE_Z, MOVED_WEIGHT, SmoothFit, moved_since

# Deliberate exploration (docs/scheduling.md): while a channel is young, an hour of the day that no
# post has reached yet is scored EXPLORE_OPTIMISM times the channel's best hour, so each hour is
# tried about once, even a night hour far from the items' arrival (the optimism outweighs the
# freshness lost by waiting for it). Bounded: the channel's first ``explore_days`` days (from its
# first post; model.py's and smooth.py's EXPLORE_DAYS) and first EXPLORE_POSTS posts. A dawn or
# late-night audience is only found by posting there: with a week's bound and an optimism of 1, a
# channel posting once or twice a day never reached 03-06 h. Chosen on the tuning half of bench.adversarial (mean capture): 14 days
# 0.78, 21 days 0.77; optimism 2 instead of 3 (21 days) 0.74.
EXPLORE_POSTS = 60
EXPLORE_SEEN = 0.5  # share of a post's reach an hour of the day needs to count as tried
EXPLORE_OPTIMISM = 3.0  # an untried hour scores as this multiple of the best hour
# Trials spread around the clock (``spread``; 0: every untried hour alike): an untried hour's
# optimism grows by ``spread`` times itself for each hour between it and the nearest hour a trial
# started at. With one optimism for every untried hour, the freshness an item loses while it
# waits chooses the untried hour nearest its arrival, so a channel whose items arrive by day tries
# the daytime hours one by one and its first days can run out before a night hour is tried
# (bench.adversarial adv-04's Threads, a dawn audience: no post at 03-06 h in 8 weeks, 0.10 of
# the oracle; 0.76-0.82 spread). Hours count from where trials *started*, so a long half-life,
# whose posts reach many hours without any counting as tried, spreads its start times too. On by
# default, with exploring again after a move (below): over 128 tuning worlds (odd seeds 1-255) the
# two gained +0.032 (s.e. 0.010) and on fresh held-out seeds +0.018 (s.e. 0.012, even 386-640) and
# +0.034 (s.e. 0.010, even 642-896, judged under a rule written before the run); night trials
# still cost a daytime audience some of its first days (docs/scheduling.md, "trials around the
# clock" and "settings compared over 128 worlds").
EXPLORE_SPREAD = 1.0
# Days of exploring again once a move is seen (``reexplore_days``; 0: never, the old hours then
# only weigh less). On by default with the spread (above), which judged the two together; alone,
# 7 days took bench.adversarial's tuning half (odd seeds 1-63) from 0.806 to 0.832 and a held-out
# half from 0.804 to 0.796, single runs of 32 worlds within chance of each other.
REEXPLORE_DAYS = 7.0
# The gate on which untried hours a young channel tries (``gate_z``, the smooth shape's posterior;
# 0: every untried hour, as before): an hour whose upper quantile, GATE_Z sd above its mean, stays
# under the best hour's mean is not worth a trial. Off by default; tuning half of
# bench.adversarial at 3 sd 0.486/0.882/0.806 -> 0.392/0.910/0.849, at 2 sd 0.176/0.839/0.773 (a
# narrow dawn peak between two tried quiet hours was ruled out by the smooth fit and never tried),
# the held-out half not run this round (docs/scheduling.md, "a gate on the first weeks' trials").
GATE_Z = 0.0
# How a move is found (``change_z``; 0: smooth.py's median of the last MOVE_POSTS posts): the
# change-point test of change.py at that many standard errors, which sees a move after a few
# misses and dates it at the first. Off by default: at 3 se with the older posts at 0.1
# (``moved_weight``) bench.adversarial's tuning half went from 0.806 to 0.844 (mean; a second
# draw 0.821 -> 0.832) but a fresh held-out set (even seeds 34-64) only from 0.779 to 0.781
# (docs/scheduling.md, "the moved audiences, a change-point test").
CHANGE_Z = 0.0
# Trials chosen by what they could teach (``worth``; 0: the first days' untried hours and Thompson
# draws): each hour of the day is scored by its mean plus the excess over the best hour that its
# posterior still allows (the expected excess of a lognormal at the smooth fit's mode and sd),
# times the posts that knowledge would serve, ``worth`` times the channel's posts in fit.py's
# FORGET_DAYS, the span over which a post's lesson still weighs.
# A night hour the prior rules out but no post has tested keeps its width, and with it a trial;
# a daytime hour near the tried ones does not; an audience that moved widens again as the posts
# before the move are down-weighted. Off by default: at 0.1 with the change-point test at 3 se and
# the moved posts at 0.1, the tuning half went from 0.752 to 0.804 (mean) but fresh held-out
# seeds (even 258-320) only from 0.762 to 0.782, their median from 0.780 to 0.770, and the
# project's worlds lost 0.01-0.04 (docs/scheduling.md, "trials chosen by what they could teach").
TRIAL_WORTH = 0.0
# Trials chosen by the knowledge gradient (``gradient``; 0: off; knowledge.py): an instant scores
# its expected engagement plus what a post there would add to the best hour's, over the posts
# ahead times ``gradient``. Unlike the worth above, it sees which hours one post's reach teaches
# together and what a count could change of the choice. Off by default: at 3 with the change-point
# test at 3 se and the moved posts at 0.1, the tuning half went from 0.752 to 0.799 (median 0.811
# to 0.868) but fresh held-out seeds (even 322-384) only from 0.741 to 0.759, their median from
# 0.792 to 0.778, and kaltim's Ramadan world fell to 0.915 (docs/scheduling.md, "knowledge
# gradient"). Over 128 tuning worlds it gains +0.040 (s.e. 0.010), the most of any option, at
# three times the policy's time; kaltim's Ramadan world keeps it off.
TRIAL_GRADIENT = 0.0

Detector = Callable[[list[int], list[float], int | None], int | None]


@dataclass(frozen=True)
class Exploring:
    """How a channel explores besides trying every untried hour while young: again after a move
    (``reexplore_days``), only the hours where the posterior allows a better one (``gate_z``),
    far from the hours already tried first (``spread``); how a move is found (``change_z``) and
    what the posts before it still weigh (``moved_weight``)."""

    reexplore_days: float = REEXPLORE_DAYS
    gate_z: float = GATE_Z
    change_z: float = CHANGE_Z
    moved_weight: float = MOVED_WEIGHT
    spread: float = EXPLORE_SPREAD
    worth: float = TRIAL_WORTH
    gradient: float = TRIAL_GRADIENT

    def detector(self) -> Detector:
        """The test that dates a move from the posts' times and ratios to the fit, counting the
        posts from its third argument on."""
        if self.change_z > 0:
            return partial(change_point, z=self.change_z)
        # a false move costs a week of trials when the channel explores again after one
        return partial(moved_since, move_z=MOVE_Z if self.reexplore_days > 0 else 0.0)

    @property
    def seen_posts(self) -> int:
        """How many posts after a move the detector needs before it can see it."""
        return CHANGE_MIN_RUN if self.change_z > 0 else MOVE_POSTS

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: object) -> Exploring | None:
        """The saved form; None (saved with the defaults) follows today's defaults."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ValueError("exploring must be an object")
        return cls(**{f.name: float(raw[f.name]) for f in fields(cls) if f.name in raw})


# the first days' trials only
OFF = Exploring(reexplore_days=0.0, gate_z=0.0, spread=0.0, worth=0.0, gradient=0.0)


def for_shape(given: Exploring | None, shape: str) -> Exploring:
    """The options a model of ``shape`` explores with (None: the shape's defaults). Only the
    smooth shape's fit dates moves and has a posterior width, so the hourly one explores in its
    first days only and takes no option turned on: a bench run asking for one there would measure
    the plain policy under its name."""
    if shape != "smooth":
        if given not in (None, OFF):
            raise InvalidRequest(
                "exploring again, the trial gate, the spread, the worth and the gradient need the smooth shape"
            )
        return OFF
    return given or Exploring()


_US_PER_DAY = 1440 * US_PER_MINUTE


def exploring_since(
    times: list[int],
    planned_us: list[int],
    now_us: int,
    explore_days: float,
    moved_at: int | None,
    reexplore_days: float,
    seen_posts: int = MOVE_POSTS,
) -> int | None:
    """The instant from which the channel's posts count as its trials, when it explores at
    ``now_us``; None when it does not. ``times`` are its published posts, ``planned_us`` its
    planned ones (all integer microseconds); a move is seen ``seen_posts`` posts after it."""
    if moved_at is not None and reexplore_days > 0:
        since = [t for t in times if t >= moved_at]
        # the move is seen once that many posts after it have counts: a week after it when a
        # channel posts once a day and the detector needs MOVE_POSTS, so the days run from there
        seen = since[min(len(since), seen_posts) - 1] if since else moved_at
        if now_us - seen <= reexplore_days * _US_PER_DAY and len(since) < EXPLORE_POSTS:
            return moved_at
    if explore_days <= 0 or len(times) >= EXPLORE_POSTS:
        return None
    first = min([*times, *planned_us], default=now_us)
    if now_us - first > explore_days * _US_PER_DAY:
        return None
    return first


def raise_untried(
    hourly: list[float],
    exposures: list[list[tuple[int, float]]],
    sd: list[float] | None = None,
    gate_z: float = 0.0,
    spread: float = 0.0,
) -> list[float] | None:
    """``hourly`` with every hour of the day that ``exposures`` (the trials' reach by hour-of-week)
    has not reached raised to EXPLORE_OPTIMISM times the best hour; None when all are tried.
    With ``sd``, the posterior sd of each hour's log activity, only the untried hours whose upper
    quantile (``gate_z`` sd above their mean) reaches the best hour's mean are raised. With
    ``spread``, an hour's optimism grows by that share for each hour from the nearest trial's start."""
    tried = tried_hours(exposures)
    untried = [hod for hod in range(24) if hod not in tried]
    if sd is not None:
        daily = [sum(hourly[hod::24]) for hod in range(24)]
        best_daily = max(daily)
        untried = [hod for hod in untried if daily[hod] * math.exp(gate_z * sd[hod]) >= best_daily]
    if not untried:
        return None
    out = list(hourly)
    best = max(out) * EXPLORE_OPTIMISM
    starts = {trial[0][0] % 24 for trial in exposures if trial}
    for hod in untried:
        raised = best * (1.0 + spread * (_hours_from(hod, starts) - 1))
        for b in range(hod, HOURS_PER_WEEK, 24):
            out[b] = max(out[b], raised)
    return out


def tried_hours(exposures: list[list[tuple[int, float]]]) -> set[int]:
    """The hours of the day that posts with these reaches (by hour-of-week) count as having tried:
    each holds at least EXPLORE_SEEN of one post's reach."""
    seen = by_hour_of_day(exposures)
    return {hod for hod in range(24) if seen[hod] >= EXPLORE_SEEN}


def _hours_from(hod: int, starts: set[int]) -> int:
    """Hours around the clock from ``hod`` to the nearest of ``starts`` (1 when there is none)."""
    return min((min(abs(hod - s), 24 - abs(hod - s)) for s in starts), default=1)


def worth_trying(hourly: list[float], sd: list[float], posts_ahead: float, pending: set[int]) -> list[float]:
    """``hourly`` with each hour of the day raised by what a trial there could gain: its expected
    excess over the best hour (``sd``, the posterior sd of its log activity) times ``posts_ahead``;
    the hours of day in ``pending``, which planned posts will reach, are not raised again."""
    daily = [sum(hourly[hod::24]) / 7 for hod in range(24)]
    best = max(daily)
    out = list(hourly)
    for hod in range(24):
        if hod in pending or daily[hod] <= 0:
            continue
        factor = 1.0 + posts_ahead * _expected_excess(daily[hod], sd[hod], best) / daily[hod]
        for b in range(hod, HOURS_PER_WEEK, 24):
            out[b] *= factor
    return out


def _expected_excess(median: float, sd: float, bar: float) -> float:
    """E[max(0, A - bar)] for a lognormal A of this median and log sd (Black-Scholes' call)."""
    if sd <= 1e-9:
        return max(0.0, median - bar)
    d = math.log(median / bar) / sd
    return median * math.exp(sd * sd / 2) * _normal_cdf(d + sd) - bar * _normal_cdf(d)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def worth_raise(
    hourly: list[float],
    sd: list[float],
    pending: list[list[tuple[int, float]]],
    posts: list[int],
    now_us: int,
    worth: float,
) -> list[float]:
    """``worth_trying`` for a channel: ``pending`` the exposures of its planned posts (their hours
    are not raised again), ``posts`` its published and planned instants (the posts ahead)."""
    ahead = posts_ahead(posts, now_us, FORGET_DAYS, worth)
    return worth_trying(hourly, sd, ahead, tried_hours(pending))


def gradient_raise(
    curve: list[float],
    hourly: list[float],
    fit: SmoothFit,
    cv2: float,
    half_life: float,
    pending: list[list[tuple[int, float]]],
    posts: list[int],
    now_us: int,
    gradient: float,
) -> list[float]:
    """``curve`` (a post's expected reactions by 5-minute step of the week) plus, at each step,
    the knowledge gradient of its start hour (knowledge.py) times the posts ahead; the hours the
    planned posts (``pending``, their exposures) will reach gain nothing more."""
    steps_per_day = STEPS_PER_HOUR * 24
    values = [
        sum(curve[day * steps_per_day + hod * STEPS_PER_HOUR] for day in range(7)) / 7 for hod in range(24)
    ]
    activity = [sum(hourly[hod::24]) / 7 for hod in range(24)]
    gains = gradients(values, activity, half_life, fit, cv2)
    planned = tried_hours(pending)
    ahead = posts_ahead(posts, now_us, FORGET_DAYS, gradient)
    bonus = [0.0 if hod in planned else ahead * gains[hod] for hod in range(24)]
    return [value + bonus[(step // STEPS_PER_HOUR) % 24] for step, value in enumerate(curve)]


def posts_ahead(times: list[int], now_us: int, days: float, worth: float) -> float:
    """``worth`` times the posts the channel will publish in the next ``days``, at the rate of its
    posts (``times``: published and planned) since ``days`` ago (a young channel's over a week)."""
    recent = sorted(t for t in times if t >= now_us - days * _US_PER_DAY)
    active = max(7.0, min(days, (now_us - recent[0]) / _US_PER_DAY)) if recent else 7.0
    return worth * (len(recent) + 1) * days / active  # + 1: the job being placed

"""Choosing a job's slot: the best allowed instant on a grid inside the job's window.

The window runs from max(now, arrived_at, not_before), rounded up to the grid, to the deadline
(inclusive), or 7 days after max(arrived_at, not_before) when there is none (slot-world.md).
Hard rules (rules.py) remove instants; the rest are scored as

    score(t) = draw of the channel's response curve at local t      (model.py, Thompson sampling)
               x crowding left by the channel's posts before t      (posts share an audience)
               x freshness 2^(-(t - arrived_at) / half_life)       (news loses value; evergreen not)

and the highest wins, ties to the earliest. Urgent jobs skip the scoring: they take the first
allowed instant and are exempt from the minimum gap (breaking news may follow a post at once), but
never from a blackout. An urgent item arriving during an election silence goes out at the first
instant after the silence ends: the silence is law, and no priority in this system outranks it.

``replan`` re-places a channel's planned jobs after the model has learned; ``place`` (room.py)
chooses a new job's slot and may move up to two planned jobs out of its way when that earns more
in total (arrival order alone gives a tight daily cap's best slot to whichever job came first).

All of it is pure: ``now`` and ``rng`` are arguments, nothing reads a clock or does I/O.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import methodcaller
from zoneinfo import ZoneInfo

from services.scheduler.policy.freshness import PRIORITIES, URGENT, half_life_hours
from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.reach import LIFE_MINUTES, MINUTES_PER_WEEK, THURSDAY_TO_MONDAY_MINUTES
from services.scheduler.policy.rules import (
    PRECEDENCE,
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_MINUTE,
    Block,
    ChannelRules,
    InvalidRequest,
    blocks_for,
    from_us,
    kinds_at,
    mark,
    offset_segments,
    to_us,
)

_mean_of: Callable[[EngagementModel], list[float]] = methodcaller("curve")  # a subclass's curve answers
WINDOW_WITHOUT_DEADLINE = 7 * US_PER_DAY  # slot-world.md: items without a deadline have 7 days
RUNNER_UP_DISTANCE = US_PER_HOUR  # report a real alternative, not the grid step next door


@dataclass(frozen=True)
class JobRequest:
    job_id: str
    priority: str  # "urgent" | "normal" | "evergreen"
    arrived_at: datetime
    not_before: datetime | None
    deadline: datetime | None
    # None = the priority's default (normal 12 h, urgent 2 h, evergreen no decay); math.inf = no decay
    freshness_half_life_hours: float | None = None


@dataclass(frozen=True)
class Terms:
    """What an instant's expected engagement is made of, so an explanation can add up."""

    audience: float  # expected reactions of an average post there (the model's mean curve)
    crowding: float  # share of that audience the channel's other posts leave to it
    freshness: float  # share of the item's value left by then
    score: float  # what the choice compared: expected, or the exploring draw in its place

    @property
    def expected(self) -> float:
        return self.audience * self.crowding * self.freshness


@dataclass(frozen=True)
class Decision:
    slot: datetime | None  # None = no feasible instant (reason says why)
    expected_engagement: float | None
    runner_up: datetime | None
    runner_up_engagement: float | None
    binding_constraint: str | None
    reason: str
    chosen_terms: Terms | None = None
    runner_up_terms: Terms | None = None


def _none(binding: str, reason: str) -> Decision:
    return Decision(None, None, None, None, binding, reason)


def fmt_instant(us: int, tz: ZoneInfo) -> str:
    """An instant as a reader in the channel's timezone sees it, for explanations."""
    return from_us(us).astimezone(tz).strftime("%a %d %b %H:%M %Z")


@dataclass(frozen=True)
class _Grid:
    """The instants a job may take, ``start + i * step`` for ``i < n``, with what is known of each."""

    start: int
    step: int
    n: int
    tz: ZoneInfo
    labels: list[str | None]  # the rule that blocks each instant, None where it is allowed
    free: list[int]  # the allowed ones
    mean: list[float]  # the model's mean curve
    factors: list[float]  # freshness x crowding
    fresh: list[float]  # freshness

    def at(self, i: int) -> int:
        return self.start + i * self.step

    def expected(self, i: int) -> float:
        return self.mean[i] * self.factors[i]

    def decision(self, best: int, runner: int | None, binding: str | None, reason: str) -> Decision:
        return Decision(
            slot=from_us(self.at(best)),
            expected_engagement=self.expected(best),
            runner_up=from_us(self.at(runner)) if runner is not None else None,
            runner_up_engagement=self.expected(runner) if runner is not None else None,
            binding_constraint=binding,
            reason=reason,
        )


def choose_slot(
    job: JobRequest,
    rules: ChannelRules,
    taken: Sequence[datetime],
    model: EngagementModel,
    now: datetime,
    rng: random.Random,
    grid_minutes: int = 5,
) -> Decision:
    """The slot for ``job`` on ``rules.channel``; ``taken`` = the channel's other posts (not this job)."""
    if job.priority not in PRIORITIES:
        raise InvalidRequest(f"job {job.job_id}: priority {job.priority!r} is not one of {PRIORITIES}")
    if grid_minutes < 1:
        raise InvalidRequest(f"grid_minutes must be at least 1, got {grid_minutes}")
    if rules.paused:
        return _none("paused", f"Channel {rules.channel} is paused; the job is planned again on resume.")
    tz = rules.zone
    step = grid_minutes * US_PER_MINUTE
    arrived, now_us = to_us(job.arrived_at, "arrived_at"), to_us(now, "now")
    not_before = to_us(job.not_before, "not_before") if job.not_before is not None else None
    start, end = job_window(job, now_us, step)
    if end < start:
        embargo = not_before is not None and not_before > end
        return _none(
            "not_before" if embargo else "deadline",
            f"The window is empty: the earliest allowed instant {fmt_instant(start, tz)} is after the "
            f"deadline {fmt_instant(end, tz)}.",
        )
    n = (end - start) // step + 1
    taken_us = sorted(to_us(t, "taken instant") for t in taken)
    urgent = job.priority == URGENT
    blocks = blocks_for(rules, taken_us, start, end, exempt_min_gap=urgent)
    labels = mark(blocks, start, step, n)
    free = [i for i, label in enumerate(labels) if label is None]
    if not free:
        return _infeasible(blocks, start, step, n, end, tz)
    steps = _local_steps(tz, start, step, n, grid_minutes)
    # In this order: the factors read the half-life the model had before ``curve`` refits it.
    factors = _factors(job, model, taken_us, start, step, n, arrived)
    fresh = _freshness(job, start, step, n, arrived)
    mean = _curve_values(model, _mean_of, steps, start, step)
    grid = _Grid(start, step, n, tz, labels, free, mean, factors, fresh)
    embargoed = not_before is not None and not_before > max(now_us, arrived)
    if urgent:
        return _first_allowed(grid, embargoed)

    def choice(m: EngagementModel) -> list[float]:  # trials while exploring (model.py), else a draw
        trials = m.exploring_curve(taken_us, now_us) if m is model else None  # a regime's: none
        return m.worth_curve(taken_us, now_us) or trials or m.curve(rng)

    draw = _curve_values(model, choice, steps, start, step)
    scores = [d * f for d, f in zip(draw, factors, strict=True)]
    return _best_scored(grid, scores, embargoed, has_deadline=job.deadline is not None)


def _first_allowed(grid: _Grid, embargoed: bool) -> Decision:
    """An urgent job's slot: the first allowed instant, bound by whatever held it back."""
    best = grid.free[0]
    held_by = grid.labels[best - 1] if best > 0 else None
    binding = held_by or ("not_before" if embargoed and best == 0 else "urgent")
    runner = grid.free[1] if len(grid.free) > 1 else None
    why = f"Urgent: first allowed instant {fmt_instant(grid.at(best), grid.tz)}"
    why += f", after {held_by}." if held_by else "."
    return grid.decision(best, runner, binding, why)


def _best_scored(grid: _Grid, scores: list[float], embargoed: bool, *, has_deadline: bool) -> Decision:
    """The allowed instant of the highest score (ties to the earliest), with a real runner-up."""
    free = grid.free
    best = max(free, key=scores.__getitem__)  # max keeps the first of equals: ties go earliest
    far = [i for i in free if abs(i - best) * grid.step >= RUNNER_UP_DISTANCE] or [
        i for i in free if i != best
    ]
    runner = max(far, key=scores.__getitem__) if far else None
    surest = max(free, key=grid.expected)
    if grid.expected(surest) > grid.expected(best):
        runner = surest  # exploration chose: compare with what the mean model would have taken

    def terms(i: int) -> Terms:
        return Terms(grid.mean[i], grid.factors[i] / grid.fresh[i], grid.fresh[i], scores[i])

    best_terms = terms(best)
    runner_terms = terms(runner) if runner is not None else None
    why = _why(best_terms, runner_terms, grid.at(best), grid.at(runner or 0), grid.tz)
    binding, bound = _what_bound(grid, scores, best, embargoed, has_deadline)
    decision = grid.decision(best, runner, binding, why + bound + ".")
    return replace(decision, chosen_terms=best_terms, runner_up_terms=runner_terms)


def _what_bound(
    grid: _Grid, scores: list[float], best: int, embargoed: bool, has_deadline: bool
) -> tuple[str | None, str]:
    """The constraint that kept the job from a better instant, and the words that say so."""
    top = max(range(grid.n), key=scores.__getitem__)
    blocked = grid.labels[top]
    if blocked is not None and scores[top] > scores[best]:
        return blocked, f"; the better {fmt_instant(grid.at(top), grid.tz)} is blocked by {blocked}"
    if best == 0 and embargoed:
        return "not_before", "; it would go earlier but for the embargo"
    if best == grid.n - 1 and has_deadline:
        return "deadline", "; later would be better but the deadline holds it"
    return None, ""


def _why(best: Terms, runner: Terms | None, best_us: int, runner_us: int, tz: ZoneInfo) -> str:
    """Why the chosen instant won, in the terms of its expected engagement."""
    head = f"Best expected audience in the window: {fmt_instant(best_us, tz)}"
    if runner is None:
        return head
    other = fmt_instant(runner_us, tz)
    if runner.expected > best.expected:
        return (
            f"Chosen to learn: the model is unsure of {fmt_instant(best_us, tz)}, whose draw scored "
            f"{best.score:.4g} against {runner.score:.4g} for {other}; expected {best.expected:.4g} "
            f"against {runner.expected:.4g}"
        )
    if runner.audience <= best.audience:
        return head
    crowd = best.crowding / runner.crowding if runner.crowding > 0 else math.inf
    stale = best.freshness / runner.freshness if runner.freshness > 0 else math.inf
    if crowd >= stale:
        loses = (
            f"the channel's posts near it leave it {runner.crowding:.0%} of it against {best.crowding:.0%}"
        )
    else:
        loses = f"by then the item keeps {runner.freshness:.0%} of its value against {best.freshness:.0%}"
    return (
        f"{head}; {other} has the larger audience ({runner.audience:.4g} against "
        f"{best.audience:.4g}) but {loses} (expected {runner.expected:.4g} against {best.expected:.4g})"
    )


def job_window(job: JobRequest, now_us: int, step: int) -> tuple[int, int]:
    """The job's window [start, end] in microseconds; start is on the grid, end may precede it."""
    arrived = to_us(job.arrived_at, "arrived_at")
    not_before = to_us(job.not_before, "not_before") if job.not_before is not None else None
    anchor = max(arrived, not_before or arrived)
    start = -(-max(now_us, anchor) // step) * step
    end = to_us(job.deadline, "deadline") if job.deadline is not None else anchor + WINDOW_WITHOUT_DEADLINE
    return start, end


def _infeasible(blocks: list[Block], start: int, step: int, n: int, end: int, tz: ZoneInfo) -> Decision:
    """Name the rule that, alone, forbids some instant; when several overlap everywhere, the commonest."""
    kinds = kinds_at(blocks, start, step, n)
    sole = Counter(next(iter(k)) for k in kinds if len(k) == 1)
    pool = sole or Counter(label for k in kinds for label in k)
    rank = {kind: r for r, kind in enumerate(PRECEDENCE)}
    binding = min(pool, key=lambda label: (rank[label.split(":", 1)[0]], -pool[label]))
    return _none(
        binding,
        f"No allowed instant between {fmt_instant(start, tz)} and {fmt_instant(end, tz)}: {binding} blocks the window.",
    )


def _local_steps(tz: ZoneInfo, start: int, step: int, n: int, grid_minutes: int) -> list[int]:
    """The 5-minute step of the local week of each candidate, converting once per offset piece."""
    out = [0] * n
    segments = offset_segments(tz, start, start + (n - 1) * step)
    for k, (seg_from, offset) in enumerate(segments):
        seg_to = segments[k + 1][0] if k + 1 < len(segments) else start + n * step
        lo = max(0, -((start - seg_from) // step))
        hi = min(n, -((start - seg_to) // step))
        if lo >= hi:
            continue
        m0 = ((start + lo * step + offset) // US_PER_MINUTE + THURSDAY_TO_MONDAY_MINUTES) % MINUTES_PER_WEEK
        out[lo:hi] = [((m0 + i * grid_minutes) % MINUTES_PER_WEEK) // 5 for i in range(hi - lo)]
    return out


def _curve_values(
    model: EngagementModel,
    curve_of_model: Callable[[EngagementModel], list[float]],
    steps: list[int],
    start: int,
    step: int,
) -> list[float]:
    """The value at each candidate of the curve ``curve_of_model`` reads from the channel's model;
    inside a calendar period, from the regime's model."""
    curve = curve_of_model(model)
    values = [curve[k] for k in steps]
    n = len(steps)
    end = start + (n - 1) * step
    regimes: dict[str, list[float]] = {}
    for period in model.calendar.periods:
        if period.end_us <= start or period.start_us > end:
            continue
        lo = max(0, -((start - period.start_us) // step))
        hi = min(n, -((start - period.end_us) // step))
        for i in range(lo, hi):
            regime = model.calendar.regime_at(start + i * step)
            if regime is None:
                continue
            own = regimes.get(regime)
            if own is None:
                own = regimes[regime] = curve_of_model(model.regime_model(regime))
            values[i] = own[steps[i]]
    return values


def _freshness(job: JobRequest, start: int, step: int, n: int, arrived: int) -> list[float]:
    half_life = half_life_hours(job.priority, job.freshness_half_life_hours)
    if half_life is None:
        return [1.0] * n
    hl_us = half_life * US_PER_HOUR
    return [math.exp2(-(start + i * step - arrived) / hl_us) for i in range(n)]


def _factors(
    job: JobRequest,
    model: EngagementModel,
    taken_us: list[int],
    start: int,
    step: int,
    n: int,
    arrived: int,
) -> list[float]:
    """Freshness x crowding for each candidate (what the hour-of-week curve does not know)."""
    factors = _freshness(job, start, step, n, arrived)
    life = LIFE_MINUTES * US_PER_MINUTE
    near = [t for t in taken_us if start - life < t <= start + (n - 1) * step]
    if not near or model.crowding <= 0:
        return factors
    # Crowding pressure S(t) = Σ 2^(-(t - tj)/h) over posts in the 24 h before t, swept along the
    # grid: each step multiplies S by 2^(-step/h); a post enters once and leaves after 24 h.
    h_us = model.half_life * US_PER_MINUTE
    enter, leave = [0.0] * (n + 1), [0.0] * (n + 1)
    for t in near:
        i0 = max(0, -((start - t) // step))
        enter[i0] += math.exp2(-(start + i0 * step - t) / h_us)
        i1 = -((start - t - life) // step)
        if i1 < n:
            leave[i1] += math.exp2(-(start + i1 * step - t) / h_us)
    decay = math.exp2(-step / h_us)
    kappa = model.crowding
    pressure = 0.0
    for i in range(n):
        pressure = max(0.0, pressure * decay + enter[i] - leave[i])
        if pressure > 1e-12:
            factors[i] /= 1.0 + kappa * pressure
    return factors


def planned_instants(
    pending: Sequence[tuple[JobRequest, datetime]], fixed: Sequence[datetime]
) -> tuple[list[int], list[int]]:
    """The planned jobs' slots and the posts that cannot move, as the policy's microseconds."""
    return [to_us(slot, "slot") for _, slot in pending], [to_us(t, "fixed instant") for t in fixed]


def keeps_every_slot(rules: ChannelRules, model: EngagementModel, posts_us: list[int], now: datetime) -> bool:
    """Whether no planned job may move at all, neither re-planned nor out of a new job's way: the
    channel is paused, or still exploring, whose planned explorations are kept (model.py,
    EXPLORE_DAYS)."""
    return rules.paused or model.exploring_curve(sorted(posts_us), to_us(now, "now")) is not None


REPLAN_MARGIN = 0.02  # move a planned job only for ≥ 2 % more expected engagement (no churn)


def replan(
    pending: Sequence[tuple[JobRequest, datetime]],
    rules: ChannelRules,
    fixed: Sequence[datetime],
    model: EngagementModel,
    now: datetime,
    rng: random.Random,
    grid_minutes: int = 5,
) -> list[Decision | None]:
    """Place a channel's planned, not yet published jobs again after the model has learned.

    ``pending`` holds each job with its current slot; ``fixed`` the channel's posts that cannot
    move (published, or about to fire). Jobs are taken earliest deadline first, each seeing every
    other job at its latest slot, so the plan stays feasible after every move. A job moves only
    when its new slot is expected to earn ``REPLAN_MARGIN`` more than its current one under the
    mean model; urgent jobs never move. The result is one entry per job, in ``pending``'s order:
    the new ``Decision``, or None to keep the current slot.
    """
    slots, fixed_us = planned_instants(pending, fixed)
    out: list[Decision | None] = [None] * len(pending)
    if keeps_every_slot(rules, model, fixed_us + slots, now):
        return out
    far = to_us(now, "now") + 100 * WINDOW_WITHOUT_DEADLINE

    def deadline_of(k: int) -> int:
        job = pending[k][0]
        return to_us(job.deadline, "deadline") if job.deadline is not None else far

    for k in sorted(range(len(pending)), key=lambda k: (deadline_of(k), slots[k])):
        job = pending[k][0]
        if job.priority == URGENT:
            continue
        others = sorted(fixed_us + slots[:k] + slots[k + 1 :])
        decision = choose_slot(job, rules, [from_us(t) for t in others], model, now, rng, grid_minutes)
        if decision.slot is None or decision.expected_engagement is None:
            continue
        new = to_us(decision.slot)
        if new == slots[k]:
            continue
        current = expected_at(job, model, others, slots[k], rules.zone, grid_minutes)
        if decision.expected_engagement <= current * (1.0 + REPLAN_MARGIN):
            continue
        slots[k] = new
        out[k] = decision
    return out


def expected_at(
    job: JobRequest, model: EngagementModel, taken_us: list[int], at_us: int, tz: ZoneInfo, grid_minutes: int
) -> float:
    """Mean expected engagement of ``job`` at ``at_us`` given the channel's other posts."""
    step = grid_minutes * US_PER_MINUTE
    arrived = to_us(job.arrived_at, "arrived_at")
    local = _local_steps(tz, at_us, step, 1, grid_minutes)
    value = _curve_values(model, _mean_of, local, at_us, step)[0]
    return value * _factors(job, model, taken_us, at_us, step, 1, arrived)[0]

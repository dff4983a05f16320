"""Slot simulator: replay a world against the real slot policy and the reference strategies.

Follows the slot-world definition (slot-world.md, the project's simulation brief): the true engagement of a post is
``mu = base_reach * quality * L * C * F`` (reach over the post's first 24 h, crowding by earlier
posts, freshness); the policy learns online from Poisson draws delivered at +1 h, +6 h and +24 h
of simulated time; oracle, habitual, immediate and random are computed on the same rules.

Usage: ``python -m bench.slots WORLD.json [WORLD.json ...]`` prints one JSON line per world;
``--truth-from-day D`` measures the policy's ceiling instead (bench/truth_model.py).

Conventions where slot-world.md leaves a choice (docs/scheduling.md repeats them):
- blackouts are half-open [start, end): the instant a silence ends is allowed;
- crowding counts posts at most 24 h earlier, strictly less than 24 h (a rolling window);
  a post precedes another at the same instant when it was placed first;
- the 7-day window of an item without a deadline starts at max(arrives_at, not_before);
- two posts closer than the minimum gap break it unless one of them is urgent;
- after an observation the channel's pending posts are re-placed with ``policy.replan``, at most
  once per ``REPLAN_EVERY_MINUTES`` of simulated time (slot-world.md lets a job move until it fires).

The reference strategies use this file's own feasibility code, not the policy's, so that the
violation count is an independent check of the policy.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import json
import math
import random
import sys
import time as clock
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.library_learner import library_model
from bench.policy_options import DEFAULT_KNOBS, Knobs, exploring_of, knobs_of, policy_arguments
from bench.truth_model import Truth, TruthModel, in_family, tell_now
from services.scheduler.policy import Blackout, ChannelRules, EngagementModel, JobRequest, choose_slot
from services.scheduler.policy.calendar import Calendar
from services.scheduler.policy.explore import Exploring
from services.scheduler.policy.model import DEFAULT_SHAPE
from services.scheduler.policy.quality import ItemQualities
from services.scheduler.policy.room import place
from services.scheduler.policy.siblings import Deployment
from services.scheduler.policy.slots import Decision, replan

STEP_MIN = 5  # slot-world.md sums a post's reach in 5-minute steps
LIFE_STEPS = 288  # 24 h of 5-minute steps
STEP = timedelta(minutes=STEP_MIN)
HORIZONS = (60, 360, 1440)
REPLAN_EVERY_MINUTES = 60  # re-place a channel's pending jobs after an observation, at most this often
# Learn with each item's quality as measured on its other channels (policy/quality.py), as
# PolicyChooser.observe does by the event's content_id; False gives the figures without it.
CROSS_CHANNEL = True
# A new job may move planned jobs out of its way (policy.place); False gives choose_slot alone.
MAKE_ROOM = True
STRATEGIES = ("policy", "oracle", "habitual", "immediate", "random")


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    return value.astimezone(UTC)


@dataclass
class Channel:
    id: str
    platform: str
    timezone: str
    tz: ZoneInfo
    activity: list[float]
    half_life: float
    base_reach: float
    crowding: float
    min_gap: int  # in 5-minute steps
    max_per_day: int | None
    habitual: list[time]
    blackouts: list[tuple[datetime, datetime]]
    # truth on the 5-minute grid, index 0 = the simulation's first instant
    life: list[float] = field(default_factory=list)
    day: list[int] = field(default_factory=list)  # local date ordinal of each grid instant
    day_range: dict[int, tuple[int, int]] = field(default_factory=dict)  # ordinal -> [first, last]
    blackout_ranges: list[tuple[int, int]] = field(default_factory=list)  # [first, last) indices
    seasons: list[tuple[datetime, datetime, list[float]]] = field(default_factory=list)  # hidden truth


@dataclass
class Item:
    id: str
    arrives: datetime
    channels: list[str]
    priority: str
    not_before: datetime | None
    deadline: datetime | None
    fresh_hours: float | None
    quality: float


@dataclass
class Job:
    key: str
    item: Item
    channel: Channel
    arrive: int  # grid index of arrives_at (may be fractional in time; see ``arrive_min``)
    arrive_min: float  # minutes since grid origin, for freshness
    lo: int  # first candidate index
    hi: int  # last candidate index (inclusive)
    skipped: bool
    counted: bool

    @property
    def urgent(self) -> bool:
        return self.item.priority == "urgent"


@dataclass
class Post:
    idx: int
    seq: int
    job: Job


@dataclass
class Schedule:
    """One strategy's posts on one channel."""

    idxs: list[int] = field(default_factory=list)  # sorted
    posts: list[Post] = field(default_factory=list)
    per_day: Counter[int] = field(default_factory=Counter)
    urgent_idxs: set[int] = field(default_factory=set)

    def add(self, post: Post, channel: Channel) -> None:
        bisect.insort(self.idxs, post.idx)
        self.posts.append(post)
        self.per_day[channel.day[post.idx]] += 1

    def remove(self, post: Post, channel: Channel) -> None:
        del self.idxs[bisect.bisect_left(self.idxs, post.idx)]
        self.posts.remove(post)
        self.per_day[channel.day[post.idx]] -= 1


class World:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.name = str(raw["name"])
        self.seed = raw["seed"]
        self.start = parse_instant(raw["start"])
        self.weeks = float(raw["weeks"])
        self.warmup = float(raw.get("warmup_weeks", 0))
        self.grid = int(raw.get("grid_minutes", 5))
        if self.grid % STEP_MIN:
            raise ValueError("grid_minutes must be a multiple of 5 (the reach is summed in 5-minute steps)")
        self.stride = self.grid // STEP_MIN
        self.items = sorted(
            (
                Item(
                    id=str(c["id"]),
                    arrives=parse_instant(c["arrives_at"]),
                    channels=list(c["channels"]),
                    priority=str(c.get("priority", "normal")),
                    not_before=parse_instant(c["not_before"]) if c.get("not_before") else None,
                    deadline=parse_instant(c["deadline"]) if c.get("deadline") else None,
                    fresh_hours=c.get("freshness_half_life_hours"),
                    quality=float(c.get("quality", 1.0)),
                )
                for c in raw["content"]
            ),
            key=lambda i: i.arrives,
        )
        first = min([self.start, *(i.arrives for i in self.items)])
        epoch_min = int((first - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 60)
        self.origin = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(minutes=epoch_min - epoch_min % self.grid)
        last = max([self.start + timedelta(weeks=self.weeks), *(self._end(i) for i in self.items)])
        self.size = self.index_floor(last) + LIFE_STEPS + 2 * self.stride
        self.channels = {c["id"]: self._channel(c) for c in raw["channels"]}
        # public: what production reads from deploy/calendar.yaml (the policy may use it)
        self.calendar = Calendar.from_periods(
            (str(p["name"]), parse_instant(p["start"]), parse_instant(p["end"]))
            for p in raw.get("calendar", [])
        )
        self.jobs = [self._job(item, self.channels[cid]) for item in self.items for cid in item.channels]

    @staticmethod
    def _end(item: Item) -> datetime:
        anchor = max(item.arrives, item.not_before or item.arrives)
        return item.deadline if item.deadline is not None else anchor + timedelta(days=7)

    def at(self, idx: int) -> datetime:
        return self.origin + idx * STEP

    def minutes(self, instant: datetime) -> float:
        return (instant - self.origin).total_seconds() / 60

    def index_floor(self, instant: datetime) -> int:
        return math.floor(self.minutes(instant) / STEP_MIN)

    def index_ceil_grid(self, instant: datetime) -> int:
        steps = math.ceil(self.minutes(instant) / self.grid)
        return steps * self.stride

    def _channel(self, c: dict[str, Any]) -> Channel:
        tz = ZoneInfo(c["timezone"])
        ch = Channel(
            id=str(c["id"]),
            platform=str(c["platform"]),
            timezone=str(c["timezone"]),
            tz=tz,
            activity=[float(x) for x in c["activity"]],
            half_life=float(c["half_life_minutes"]),
            base_reach=float(c["base_reach"]),
            crowding=float(c.get("crowding", 0.0)),
            min_gap=math.ceil(float(c.get("min_gap_minutes", 0)) / STEP_MIN),
            max_per_day=c.get("max_posts_per_day"),
            habitual=[time.fromisoformat(t) for t in c.get("habitual_times", [])],
            blackouts=[(parse_instant(b["start"]), parse_instant(b["end"])) for b in c.get("blackouts", [])],
        )
        if len(ch.activity) != 168:
            raise ValueError(f"channel {ch.id}: activity needs 168 numbers")
        if float(c.get("min_gap_minutes", 0)) % STEP_MIN:
            raise ValueError(f"channel {ch.id}: min_gap_minutes must be a multiple of 5")
        # a season's curve replaces the base one between its start (inclusive) and end (exclusive)
        seasons = [
            (parse_instant(s["start"]), parse_instant(s["end"]), [float(x) for x in s["activity"]])
            for s in c.get("seasons", [])
        ]
        if any(len(curve) != 168 for _, _, curve in seasons):
            raise ValueError(f"channel {ch.id}: a season's activity needs 168 numbers")
        ch.seasons = seasons
        activity: list[float] = []
        for i in range(self.size):
            instant = self.at(i)
            local = instant.astimezone(tz)
            curve = next((a for lo, hi, a in seasons if lo <= instant < hi), ch.activity)
            activity.append(curve[local.weekday() * 24 + local.hour])
            ordinal = local.date().toordinal()
            ch.day.append(ordinal)
            first, _ = ch.day_range.get(ordinal, (i, i))
            ch.day_range[ordinal] = (first, i)
        # L(t) = sum_{k<288} a(t+5k) * d^k (1-d), d = 2^(-5/h): via R(i) = (1-d) a(i) + d R(i+1) on
        # the finite grid, L(i) = R(i) - d^288 R(i+288) is exactly the truncated sum.
        d = math.exp2(-STEP_MIN / ch.half_life)
        r = [0.0] * (self.size + 1)
        for i in range(self.size - 1, -1, -1):
            r[i] = (1 - d) * activity[i] + d * r[i + 1]
        cut = d**LIFE_STEPS
        ch.life = [
            r[i] - cut * r[i + LIFE_STEPS] if i + LIFE_STEPS <= self.size else 0.0 for i in range(self.size)
        ]
        for start, end in ch.blackouts:
            lo = max(0, math.ceil(self.minutes(start) / STEP_MIN))
            hi = min(self.size, math.ceil(self.minutes(end) / STEP_MIN))
            if lo < hi:
                ch.blackout_ranges.append((lo, hi))
        return ch

    def _job(self, item: Item, ch: Channel) -> Job:
        anchor = max(item.arrives, item.not_before or item.arrives)
        lo = self.index_ceil_grid(anchor)
        hi_floor = self.index_floor(self._end(item))
        hi = hi_floor - hi_floor % self.stride
        job = Job(
            key=f"{item.id}@{ch.id}",
            item=item,
            channel=ch,
            arrive=self.index_floor(item.arrives),
            arrive_min=self.minutes(item.arrives),
            lo=lo,
            hi=hi,
            skipped=False,
            counted=item.arrives >= self.start + timedelta(weeks=self.warmup),
        )
        ok = self._mask(job, Schedule(), rules_on=False)
        job.skipped = not any(ok)
        return job

    # -------------------------------------------------------------- feasibility (independent)
    def _mask(self, job: Job, sched: Schedule, *, rules_on: bool = True) -> bytearray:
        """1 for each candidate lo, lo+stride, ..., hi that is allowed given ``sched``."""
        ch, lo, stride = job.channel, job.lo, self.stride
        n = (job.hi - lo) // stride + 1 if job.hi >= lo else 0
        ok = bytearray(b"\x01") * n

        def block(first: int, last_excl: int) -> None:  # grid indices [first, last)
            a = max(0, -((lo - first) // stride))
            b = min(n, -((lo - last_excl) // stride))
            if a < b:
                ok[a:b] = bytes(b - a)

        for first, last in ch.blackout_ranges:
            block(first, last)
        if not rules_on or n == 0:
            return ok
        if ch.min_gap and not job.urgent:
            i = bisect.bisect_right(sched.idxs, lo - ch.min_gap)
            j = bisect.bisect_left(sched.idxs, job.hi + ch.min_gap)
            for t in sched.idxs[i:j]:
                block(t - ch.min_gap + 1, t + ch.min_gap)
        if ch.max_per_day is not None:
            for ordinal, count in sched.per_day.items():
                if count >= ch.max_per_day:
                    first, last = ch.day_range[ordinal]
                    block(first, last + 1)
        return ok

    def feasible(self, job: Job, sched: Schedule) -> list[int]:
        ok = self._mask(job, sched)
        return [job.lo + k * self.stride for k, flag in enumerate(ok) if flag]

    def allowed_set(self, job: Job, sched: Schedule) -> list[int]:
        """Feasible instants, with slot-world.md's urgent rule (within 10 min, else the first)."""
        cands = self.feasible(job, sched)
        if job.urgent and cands:
            limit = self.minutes(job.item.arrives) + 10
            soon = [c for c in cands if c * STEP_MIN <= limit]
            return soon or cands[:1]
        return cands

    # -------------------------------------------------------------- truth
    def freshness(self, job: Job, idx: int) -> float:
        hours = job.item.fresh_hours
        if hours is None:
            return 1.0
        return math.exp2(-(idx * STEP_MIN - job.arrive_min) / (hours * 60))

    def mu(self, job: Job, idx: int, pressure: float) -> float:
        ch = job.channel
        crowd = 1.0 / (1.0 + ch.crowding * pressure)
        return ch.base_reach * job.item.quality * ch.life[idx] * crowd * self.freshness(job, idx)

    @staticmethod
    def pressure(ch: Channel, earlier: list[int], idx: int) -> float:
        return sum(
            math.exp2(-(idx - t) * STEP_MIN / ch.half_life) for t in earlier if 0 <= idx - t < LIFE_STEPS
        )

    def schedule_mu(self, ch: Channel, sched: Schedule) -> dict[str, float]:
        """Each post's mu on the final schedule: crowding counts the posts that precede it."""
        order = sorted(sched.posts, key=lambda p: (p.idx, p.seq))
        out: dict[str, float] = {}
        for k, post in enumerate(order):
            earlier = [q.idx for q in order[max(0, k - 400) : k] if post.idx - q.idx < LIFE_STEPS]
            out[post.job.key] = self.mu(post.job, post.idx, self.pressure(ch, earlier, post.idx))
        return out


# ------------------------------------------------------------------ reference strategies
def sweep_pressure(ch: Channel, cands: list[int], placed: list[int]) -> list[float]:
    """Crowding pressure at each candidate from ``placed`` posts at or before it, within 24 h."""
    out: list[float] = []
    i_in = i_out = 0
    total = 0.0
    cur = cands[0] if cands else 0
    h = ch.half_life
    for c in cands:
        total *= math.exp2(-(c - cur) * STEP_MIN / h)
        cur = c
        while i_in < len(placed) and placed[i_in] <= c:
            total += math.exp2(-(c - placed[i_in]) * STEP_MIN / h)
            i_in += 1
        while i_out < i_in and c - placed[i_out] >= LIFE_STEPS:
            total -= math.exp2(-(c - placed[i_out]) * STEP_MIN / h)
            i_out += 1
        if i_out == i_in:
            total = 0.0  # nothing left in the window: drop accumulated rounding
        out.append(total)
    return out


def run_reference(world: World, name: str, rng: random.Random) -> tuple[dict[str, Schedule], int]:
    scheds = {cid: Schedule() for cid in world.channels}
    missed = 0
    for seq, job in enumerate(world.jobs):
        if job.skipped:
            continue
        sched = scheds[job.channel.id]
        cands = world.allowed_set(job, sched)
        if not cands:
            missed += job.counted
            continue
        if name == "oracle":
            pressures = sweep_pressure(job.channel, cands, sched.idxs)
            best, best_mu = cands[0], -1.0
            for c, p in zip(cands, pressures, strict=True):
                value = world.mu(job, c, p)
                if value > best_mu:  # strict: ties go to the earliest instant
                    best, best_mu = c, value
            idx = best
        elif name == "habitual":
            idx = cands[0] if job.urgent else habitual_choice(world, job, cands)
        elif name == "immediate":
            idx = cands[0]
        else:
            idx = rng.choice(cands)
        sched.add(Post(idx, seq, job), job.channel)
    return scheds, missed


def habitual_choice(world: World, job: Job, cands: list[int]) -> int:
    times = {(t.hour, t.minute) for t in job.channel.habitual}
    for c in cands:
        local = world.at(c).astimezone(job.channel.tz)
        if (local.hour, local.minute) in times:
            return c
    return cands[0]


# ------------------------------------------------------------------ the policy, online
def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw: multiplication for small means, Hormann's PTRS rejection for large ones."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    slam, loglam = math.sqrt(lam), math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        accept = -lam + k * loglam - math.lgamma(k + 1)
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= accept:
            return k


def rules_of(ch: Channel) -> ChannelRules:
    return ChannelRules(
        channel=ch.id,
        platform=ch.platform,
        timezone=ch.timezone,
        min_gap=timedelta(minutes=ch.min_gap * STEP_MIN),
        max_posts_per_day=ch.max_per_day,
        blackouts=tuple(Blackout(s, e, "blackout") for s, e in ch.blackouts),
        habitual_times=tuple(ch.habitual),
    )


def request_of(job: Job) -> JobRequest:
    item = job.item
    return JobRequest(
        job_id=job.key,
        priority=item.priority,
        arrived_at=item.arrives,
        not_before=item.not_before,
        deadline=item.deadline,
        # null in a world means the item keeps its value; the policy spells that math.inf
        freshness_half_life_hours=item.fresh_hours if item.fresh_hours is not None else math.inf,
    )


def policy_model(
    world: World,
    ch: Channel,
    shape: str,
    exploring: Exploring | None,
    truth_from_day: float | None,
    knobs: Knobs = DEFAULT_KNOBS,
) -> EngagementModel:
    """A channel's model with no history; with ``truth_from_day``, the ceiling (bench/truth_model.py);
    with ``knobs.library``, a reference learner over that library (bench/library_learner.py)."""
    options: dict[str, Any] = {
        "calendar": world.calendar,
        "shape": shape,
        "exploring": exploring,
        "exploration": knobs.thompson_share,
        "explore_days": knobs.explore_days,
        "shapes_weight": knobs.shapes_weight,
    }
    if knobs.library is not None:
        truth = Truth(ch.activity, ch.half_life, ch.base_reach, ch.crowding, ch.seasons)
        return library_model(
            ch.platform, ch.timezone, truth, world.start, knobs.library, knobs.library_move, options
        )
    if truth_from_day is None:
        return EngagementModel(ch.platform, ch.timezone, **options)
    activity = in_family(ch.activity) if knobs.truth_family else ch.activity
    truth = Truth(activity, ch.half_life, ch.base_reach, ch.crowding, ch.seasons)
    truth_from = world.start + timedelta(days=truth_from_day)
    return TruthModel(ch.platform, ch.timezone, truth=truth, truth_from=truth_from, **options)


def policy_models(
    world: World,
    shape: str,
    exploring: Exploring | None,
    truth_from_day: float | None,
    knobs: Knobs = DEFAULT_KNOBS,
) -> dict[str, EngagementModel]:
    """Every channel's model, pooling their learned hours as PolicyChooser does (policy/siblings.py)."""
    models = {
        cid: policy_model(world, ch, shape, exploring, truth_from_day, knobs)
        for cid, ch in world.channels.items()
    }
    deployment = Deployment(knobs.pool_weight)
    if deployment.weight > 0:
        for cid, model in models.items():
            model.pool = deployment.join(cid, model.learned_shape)
    return models


def randomness(world: World, draw: int) -> tuple[random.Random, random.Random]:
    """The policy's own random draws and the observations' Poisson counts; ``draw`` 0 is the
    world's own pair, any other another pair (a second run of the same world and policy)."""
    again = f"/{draw}" if draw else ""
    return random.Random(f"{world.seed}/policy{again}"), random.Random(f"{world.seed}/observations{again}")


def run_policy(
    world: World,
    shape: str = DEFAULT_SHAPE,
    exploring: Exploring | None = None,
    truth_from_day: float | None = None,
    knobs: Knobs = DEFAULT_KNOBS,
) -> tuple[dict[str, Schedule], int, int, float]:
    rng_policy, rng_obs = randomness(world, knobs.draw)
    rules = {cid: rules_of(ch) for cid, ch in world.channels.items()}
    models = policy_models(world, shape, exploring, truth_from_day, knobs)
    scheds = {cid: Schedule() for cid in world.channels}
    qualities = ItemQualities()
    published: dict[str, list[int]] = {cid: [] for cid in world.channels}
    events: list[tuple[int, int, int, Any]] = []  # (minute, kind, seq, payload)
    arrive, fire, observe = 2, 1, 0  # at one instant: learn, then publish, then plan
    for seq, job in enumerate(world.jobs):
        heapq.heappush(events, (math.ceil(job.arrive_min), arrive, seq, job))
    missed = violations = 0
    spent = 0.0
    counter = len(world.jobs)
    pending: dict[str, list[Post]] = {cid: [] for cid in world.channels}
    last_replan: dict[str, int] = {cid: -(10**9) for cid in world.channels}
    while events:
        _minute, kind, seq, payload = heapq.heappop(events)
        if kind == arrive:
            job = payload
            if job.skipped:
                continue
            cid = job.channel.id
            post, moved, bad, took = place_arriving(
                world, job, seq, scheds[cid], pending[cid], _minute, rules[cid], models[cid], rng_policy
            )
            spent += took
            violations += bad
            for other in moved:
                counter += 1
                heapq.heappush(events, (other.idx * STEP_MIN, fire, counter, other))
            if post is None:
                missed += job.counted
                continue
            heapq.heappush(events, (post.idx * STEP_MIN, fire, seq, post))
        elif kind == fire:
            post = payload
            waiting = pending[post.job.channel.id]
            if post.idx * STEP_MIN != _minute or post not in waiting:
                continue  # re-planned since: its new instant has its own event
            waiting.remove(post)
            ch = post.job.channel
            earlier = published[ch.id]
            value = world.mu(post.job, post.idx, world.pressure(ch, earlier[-400:], post.idx))
            earlier.append(post.idx)
            # Disjoint delay intervals of a Poisson count are independent Poisson counts.
            cumulative, previous = 0, 0.0
            for horizon in HORIZONS:
                share = 1 - math.exp2(-horizon / ch.half_life)
                cumulative += poisson(rng_obs, value * (share - previous))
                previous = share
                counter += 1
                heapq.heappush(
                    events, (post.idx * STEP_MIN + horizon, observe, counter, (post, horizon, cumulative))
                )
        else:
            post, horizon, reactions = payload
            job = post.job
            t0 = clock.perf_counter()
            models[job.channel.id].observe(
                reported_instant(world, post),
                horizon,
                reactions,
                post_id=job.key,
                value_factor=world.freshness(job, post.idx),
            )
            if CROSS_CHANNEL:  # as PolicyChooser.observe does, by the event's content_id
                qualities.record(job.item.id, job.channel.id, job.key)
                qualities.update(job.item.id, models)
            spent += clock.perf_counter() - t0
            cid = job.channel.id
            if REPLAN_EVERY_MINUTES and pending[cid] and _minute - last_replan[cid] >= REPLAN_EVERY_MINUTES:
                # The model has learned: re-place what has not fired yet (slot-world.md allows it).
                last_replan[cid] = _minute
                moved, bad, took = replan_channel(
                    world, rules[cid], models[cid], scheds[cid], pending[cid], _minute, rng_policy
                )
                spent += took
                violations += bad
                for post in moved:
                    counter += 1
                    heapq.heappush(events, (post.idx * STEP_MIN, fire, counter, post))
    return scheds, missed, violations, spent


def reported_instant(world: World, post: Post) -> datetime:
    """The instant a publisher reports a post was taken, which production's engagement.observed
    carries: the slot plus the platform call's latency, under 3 s and to the microsecond. Off the
    grid on purpose: the model once lost most of a post's reach at such instants, which a bench
    feeding it whole minutes never saw. Drawn from the post's key, so no other draw moves."""
    latency_us = 1 + zlib.crc32(post.job.key.encode()) % 3_000_000
    return world.at(post.idx) + timedelta(microseconds=latency_us)


def policy_instant(world: World, post: Post, waiting: set[int]) -> datetime:
    """A post as production hands it to the policy: one still waiting (its ``id`` in ``waiting``)
    at its slot, a published one at the instant its publisher reported (``reported_instant``)."""
    return world.at(post.idx) if id(post) in waiting else reported_instant(world, post)


def place_arriving(
    world: World,
    job: Job,
    seq: int,
    sched: Schedule,
    pending: list[Post],
    minute: int,
    rules: ChannelRules,
    model: EngagementModel,
    rng: random.Random,
) -> tuple[Post | None, list[Post], int, float]:
    """Place an arriving job with the policy and add it to ``sched`` and ``pending``; planned posts
    may move out of its way. Returns (its post or None, the moved posts, violations, policy seconds).
    Its own function so that tests/unit/test_bench_production_path.py runs the same calls."""
    ch = job.channel
    reference = world.allowed_set(job, sched)
    lo, hi = job.lo - 3 * LIFE_STEPS, job.hi + 3 * LIFE_STEPS
    waiting = set(map(id, pending))
    taken = [policy_instant(world, p, waiting) for p in sched.posts if lo <= p.idx <= hi]
    movable = [p for p in pending if p.idx * STEP_MIN > minute] if MAKE_ROOM else []
    tell_now(model, job.item.arrives)
    t0 = clock.perf_counter()
    if movable:  # the channel's planned posts may make room for the new job (policy.place)
        keep = set(map(id, movable))
        fixed = [
            policy_instant(world, p, waiting) for p in sched.posts if id(p) not in keep and lo <= p.idx <= hi
        ]
        decision, moves = place(
            request_of(job),
            [(request_of(p.job), world.at(p.idx)) for p in movable],
            rules,
            fixed,
            model,
            job.item.arrives,
            rng,
            world.grid,
        )
    else:
        decision, moves = (
            choose_slot(request_of(job), rules, taken, model, job.item.arrives, rng, world.grid),
            [],
        )
    took = clock.perf_counter() - t0
    moved, bad = move_posts(world, sched, movable, moves, minute)
    if moved:  # the new job is checked against the plan it joins
        reference = world.allowed_set(job, sched)
    if decision.slot is None:
        if reference:  # the policy gave up while an instant was allowed
            print(f"warning: {job.key}: policy found no slot ({decision.reason})", file=sys.stderr)
        return None, moved, bad, took
    idx = round(world.minutes(decision.slot) / STEP_MIN)
    if world.at(idx) != decision.slot or idx % world.stride or idx not in set(reference):
        bad += 1
        print(f"violation: {job.key} at {decision.slot.isoformat()}: {decision.reason}", file=sys.stderr)
    post = Post(idx, seq, job)
    sched.add(post, ch)
    pending.append(post)
    return post, moved, bad, took


def replan_channel(
    world: World,
    rules: ChannelRules,
    model: EngagementModel,
    sched: Schedule,
    pending: list[Post],
    minute: int,
    rng: random.Random,
) -> tuple[list[Post], int, float]:
    """Re-place a channel's pending posts with ``policy.replan``: (moved posts, violations, seconds)."""
    movable = [p for p in pending if p.idx * STEP_MIN > minute]
    if not movable:
        return [], 0, 0.0
    keep = set(map(id, movable))
    now = world.origin + timedelta(minutes=minute)
    recent = minute // STEP_MIN - 2 * LIFE_STEPS  # older posts bind no gap, day or crowding now
    waiting = set(map(id, pending))
    fixed = [policy_instant(world, p, waiting) for p in sched.posts if id(p) not in keep and p.idx >= recent]
    tell_now(model, now)
    t0 = clock.perf_counter()
    decisions = replan(
        [(request_of(p.job), world.at(p.idx)) for p in movable], rules, fixed, model, now, rng, world.grid
    )
    took = clock.perf_counter() - t0
    moved, bad = move_posts(world, sched, movable, decisions, minute)
    return moved, bad, took


def move_posts(
    world: World, sched: Schedule, movable: list[Post], decisions: list[Decision | None], minute: int
) -> tuple[list[Post], int]:
    """Apply the policy's moves of planned posts, re-checking each new slot: (moved, violations)."""
    moved = [p for p, d in zip(movable, decisions, strict=True) if d is not None and d.slot is not None]
    for post in moved:  # out first: each new slot is then checked against the final plan
        sched.remove(post, post.job.channel)
    bad = 0
    for post, decision in zip(movable, decisions, strict=True):
        if decision is None or decision.slot is None:
            continue
        idx = round(world.minutes(decision.slot) / STEP_MIN)
        reference = set(world.allowed_set(post.job, sched))
        if (
            world.at(idx) != decision.slot
            or idx % world.stride
            or idx not in reference
            or idx * STEP_MIN < minute
        ):
            bad += 1
            print(f"violation: re-plan {post.job.key} at {decision.slot.isoformat()}", file=sys.stderr)
        post.idx = idx
        sched.add(post, post.job.channel)
    return moved, bad


def final_violations(world: World, scheds: dict[str, Schedule]) -> int:
    """Constraint breaks on the final schedule, checked pairwise (gaps) and per local day."""
    bad: set[str] = set()
    for cid, sched in scheds.items():
        ch = world.channels[cid]
        order = sorted(sched.posts, key=lambda p: p.idx)
        for k, post in enumerate(order):
            job = post.job
            if post.idx < job.lo or post.idx > job.hi:
                bad.add(job.key)
            if any(first <= post.idx < last for first, last in ch.blackout_ranges):
                bad.add(job.key)
            for other in order[k + 1 :]:
                if other.idx - post.idx >= ch.min_gap:
                    break
                if not (job.urgent or other.job.urgent):
                    bad.add(other.job.key)
        if ch.max_per_day is not None:
            for ordinal, count in Counter(ch.day[p.idx] for p in sched.posts).items():
                if count > ch.max_per_day:
                    bad.add(f"{cid}:{ordinal}")
    return len(bad)


def simulate(
    raw: dict[str, Any],
    shape: str = DEFAULT_SHAPE,
    exploring: Exploring | None = None,
    truth_from_day: float | None = None,
    knobs: Knobs = DEFAULT_KNOBS,
) -> dict[str, Any]:
    """The world's JSON line; ``truth_from_day``: the policy's ceiling (bench/truth_model.py);
    ``knobs``: the model's own settings changed."""
    world = World(raw)
    results: dict[str, tuple[dict[str, Schedule], int]] = {}
    policy_scheds, policy_missed, decision_violations, spent = run_policy(
        world, shape, exploring, truth_from_day, knobs
    )
    results["policy"] = (policy_scheds, policy_missed)
    for name in STRATEGIES[1:]:
        results[name] = run_reference(world, name, random.Random(f"{world.seed}/{name}"))
    counted = {j.key for j in world.jobs if j.counted and not j.skipped}
    sums: dict[str, float] = {}
    for name, (scheds, _) in results.items():
        total = 0.0
        for cid, sched in scheds.items():
            for key, value in world.schedule_mu(world.channels[cid], sched).items():
                if key in counted:
                    total += value
        sums[name] = total

    def ratio(x: str) -> float:
        return round(sums["policy"] / sums[x] - 1, 4) if sums[x] > 0 else 0.0

    violations = max(decision_violations, final_violations(world, policy_scheds))
    return {
        "world": world.name,
        "items": sum(1 for i in world.items if i.arrives >= world.start + timedelta(weeks=world.warmup)),
        "captured_vs_oracle": round(sums["policy"] / sums["oracle"], 4) if sums["oracle"] > 0 else 0.0,
        "lift_vs_habitual": ratio("habitual"),
        "lift_vs_immediate": ratio("immediate"),
        "lift_vs_random": ratio("random"),
        "violations": violations,
        "missed": {name: results[name][1] for name in STRATEGIES},
        "policy_seconds": round(spent, 2),
        "sum_mu": {name: round(sums[name], 3) for name in STRATEGIES},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slots", description=__doc__.splitlines()[0])
    parser.add_argument("worlds", nargs="+", type=Path, help="world JSON files (slot-world.md)")
    policy_arguments(parser)
    args = parser.parse_args(argv)
    for path in args.worlds:
        raw = json.loads(path.read_text(encoding="utf-8"))
        line = simulate(raw, args.shape, exploring_of(args), args.truth_from_day, knobs_of(args))
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Production places arriving jobs as ``bench/slots.py`` measures them.

The bench calls ``policy.place`` itself (``place_arriving``); production reaches it through
``Plan._place_new`` → ``PolicyChooser.place`` with the jobs kept in a ``JobStore``. Given the same
world, model state and rng seed, both must end with every job at the same slot, moves included.
Only arrivals are replayed: the bench's event loop adds firing and learning, which production
receives as other events (``Plan.fire``, ``EngagementObserved``).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bench.slots import STEP_MIN, Post, Schedule, World, place_arriving, rules_of
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.policy.model import EngagementModel
from services.scheduler.policy.priors import national_prior
from services.scheduler.policy_chooser import PolicyChooser
from services.scheduler.store import JobStore
from services.scheduler.store_memory import MemoryJobStore
from shared.channels import Channel, ChannelDirectory
from shared.events import Approval, ChannelVariant, Content, ContentApproved, Priority, job_id_for

WITA = timezone(timedelta(hours=8))
MONDAY = datetime(2027, 1, 4, 9, 0, tzinfo=WITA)
SEED = 23
# Facebook and WordPress have no default caps (shared/capabilities.py), so production's rules are
# the world's rules exactly: the bench's ``rules_of`` knows no platform caps.
CHANNELS: list[dict[str, Any]] = [
    {"id": "fb", "platform": "facebook", "min_gap_minutes": 0, "max_posts_per_day": 1},
    {"id": "web", "platform": "wordpress", "min_gap_minutes": 360, "max_posts_per_day": None},
]


def item(
    content_id: str,
    minute: int,
    deadline_hours: float,
    priority: str = "evergreen",
    freshness: float | None = None,
    channels: tuple[str, ...] = ("fb", "web"),
) -> dict[str, Any]:
    return {
        "id": content_id,
        "arrives_at": (MONDAY + timedelta(minutes=minute)).isoformat(),
        "channels": list(channels),
        "priority": priority,
        "deadline": (MONDAY + timedelta(hours=deadline_hours)).isoformat(),
        "freshness_half_life_hours": freshness,
    }


# Arrivals on the 5-minute grid, all before the first slot: nothing fires or is learned between
# them. Each item's freshness reaches production as the sender gives it on POST /v1/content
# (None: the priority's default; evergreen items keep their value). With this seed (chosen so that no slot
# falls before the last arrival) later items move planned ones under fb's daily cap of one and
# web's 6 h gap: the test checks that at least one move happens.
ITEMS = [
    item("a", 0, 72),
    item("b", 5, 13),
    item("c", 10, 36, "normal", 12),
    item("d", 15, 60),
    item("e", 20, 14, channels=("web",)),
]


def world(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "equivalence",
        "seed": SEED,
        "start": MONDAY.isoformat(),
        "weeks": 1,
        "channels": [
            {
                **c,
                "timezone": "Asia/Makassar",
                "activity": national_prior(),
                "half_life_minutes": 90,
                "base_reach": 1000,
            }
            for c in CHANNELS
        ],
        "content": items,
    }


def model_state(platform: str) -> dict[str, object]:
    # Past its exploring days (nothing moves while a channel explores) and drawing Thompson
    # samples, so the two paths must also consume the rng in the same order.
    return EngagementModel(platform, "Asia/Makassar", exploration=1.0, explore_days=0.0).to_dict()


def bench_path(raw: dict[str, Any]) -> tuple[dict[str, datetime | None], int]:
    sim = World(raw)
    rng = random.Random(SEED)
    models = {cid: EngagementModel.from_dict(model_state(ch.platform)) for cid, ch in sim.channels.items()}
    scheds = {cid: Schedule() for cid in sim.channels}
    pending: dict[str, list[Post]] = {cid: [] for cid in sim.channels}
    slots: dict[str, datetime | None] = {}
    moves = 0
    for seq, job in enumerate(sim.jobs):
        cid = job.channel.id
        minute = math.ceil(job.arrive_min)  # as run_policy's event loop
        # run_policy would have fired (and later learned from) a post due by now: not replayed here
        assert all(p.idx * STEP_MIN > minute for p in pending[cid])
        post, moved, bad, _ = place_arriving(
            sim, job, seq, scheds[cid], pending[cid], minute, rules_of(job.channel), models[cid], rng
        )
        assert bad == 0
        moves += len(moved)
        slots[job_id_for(job.item.id, cid)] = None if post is None else sim.at(post.idx)
    for sched in scheds.values():
        for post in sched.posts:
            slots[job_id_for(post.job.item.id, post.job.channel.id)] = sim.at(post.idx)
    return slots, moves


def production_path(raw: dict[str, Any], store: JobStore) -> tuple[dict[str, datetime | None], int]:
    channels = [
        Channel(
            id=c["id"],
            platform=c["platform"],
            timezone=c["timezone"],
            min_gap_minutes=c["min_gap_minutes"],
            max_posts_per_day=c["max_posts_per_day"],
        )
        for c in raw["channels"]
    ]
    chooser = PolicyChooser(random.Random(SEED))
    for channel in channels:
        chooser.restore_model(channel, model_state(channel.platform))
    plan = Plan(ChannelDirectory(channels=tuple(channels)), chooser, PlanSettings(), store=store)
    moves = 0
    for c in raw["content"]:
        at = datetime.fromisoformat(c["arrives_at"])
        event = ContentApproved(
            event_id=f"e-{c['id']}",
            occurred_at=at,
            content_id=c["id"],
            priority=Priority(c["priority"]),
            deadline=datetime.fromisoformat(c["deadline"]),
            freshness_half_life_hours=c["freshness_half_life_hours"],
            author="rina",
            approval=Approval(approved_by="yuyun", approved_at=at),
            submitted_by="yuyun",
            variants=tuple(
                ChannelVariant(channel=cid, content=Content(text=c["id"])) for cid in c["channels"]
            ),
        )
        for cid in c["channels"]:  # the bench's job order: by arrival, then the item's channels
            fx = plan.handle(cid, event, at)
            moves += sum(j.job_id != job_id_for(c["id"], cid) for j in fx.jobs)
    slots: dict[str, datetime | None] = {}
    for c in raw["content"]:
        for cid in c["channels"]:
            job = plan.job(job_id_for(c["id"], cid))
            assert job is not None
            slots[job.job_id] = job.slot
    return slots, moves


@pytest.mark.parametrize(
    "items",
    [
        pytest.param(ITEMS, id="as-planned"),
        # A 24 h item: production once used the priority's 12 h here and chose other slots.
        pytest.param([*ITEMS[:2], item("c", 10, 36, "normal", 24), *ITEMS[3:]], id="item-freshness"),
    ],
)
def test_production_gives_the_benchs_slots_moves_included(
    store: JobStore, items: list[dict[str, Any]]
) -> None:
    raw = world(items)
    bench, bench_moves = bench_path(raw)
    production, production_moves = production_path(raw, store)
    assert bench_moves >= 1, "no planned job moved: the comparison would not cover place's moves"
    assert production == bench
    assert production_moves == bench_moves


# Where the two paths part on inputs the bench's worlds do use (bench/worlds/*.json).
@pytest.mark.parametrize(
    "items",
    [
        pytest.param(
            [*ITEMS, item("u", 23, 2, "urgent", 2.0, channels=("web",))],
            marks=pytest.mark.xfail(
                strict=True,
                raises=AssertionError,
                reason="an urgent job arriving off the 5-minute grid: PolicyChooser.choose posts it at "
                "now (09:23), the bench's choose_slot at the next grid instant (09:25)",
            ),
            id="urgent-off-grid",
        ),
    ],
)
def test_where_production_parts_from_the_bench(items: list[dict[str, Any]]) -> None:
    raw = world(items)
    assert production_path(raw, MemoryJobStore())[0] == bench_path(raw)[0]

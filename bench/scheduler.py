"""Scheduler benchmark: memory per pending job, restore and restart time, and firing lateness,
against APScheduler 3 doing the same work in the same run, with its in-memory job store and with
its on-disk SQLAlchemy (SQLite) job store.

    python -m bench.scheduler [--jobs 100000 1000000] [--burst 10000] [--only warta ...]

For each size N the parent writes N planned jobs to a fresh ``schedule.jobs`` (as a scheduler that
had planned them would have), then runs each contender in its own process so that resident
memory is measured cleanly:

- **warta**: the real ``Planner`` with the SQLite job store kept on disk (``KeptStore``) joins a
  fresh consumer group, restores the plan from the changelog in full (cold), then fires a burst of
  ``--burst`` jobs due within one minute (firing = the JobDue acknowledged on
  ``publish.<platform>``, plus its plan record), stops cleanly and writes its checkpoint.
- **warta-restart**: a new process on the same state directory and group: the warm restart,
  replaying only the changelogs' tail after the checkpoint (the burst's own records).
- **apscheduler**: ``AsyncIOScheduler`` with the memory job store is loaded with the same N jobs
  (it has no restore: loading is its equivalent, and its restart) and fires the same burst with
  the same action (produce the JobDue, wait for the acknowledgement).
- **apscheduler-sqlite**: the same with ``SQLAlchemyJobStore`` on a SQLite file (the on-disk
  baseline, tuned like Warta's file: WAL, synchronous=OFF), its rows written in one transaction
  (``aps_bulk.py``: one transaction per job took over an hour at a million);
  **apscheduler-sqlite-restart**: a new process on that file, from construction until the
  scheduler runs with its jobs.

Every contender runs on the event loop the services run on (``WARTA_EVENT_LOOP``: uvloop by
default, ``asyncio`` for the standard library's). The Warta worker runs on a shifted clock so
that the burst minute starts two seconds after its restore ends; lateness is measured on that
clock. Prints one JSON line per (contender, N).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from shared.codec import encode
from shared.events import Content, JobPlanned, JobState, Priority
from shared.partitioning import partition_for
from shared.topics import TopicRegistry

BASE = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)  # the burst minute, on the bench clock
CHANNELS = [f"bench-ch-{i:03d}" for i in range(50)]
TEXT = (
    "Gubernur Kalimantan Timur meresmikan jembatan baru di Samarinda hari ini. "
    "Jembatan ini menghubungkan dua kecamatan dan diharapkan memperlancar arus barang. "
    "Informasi lengkap: https://kaltimprov.go.id/berita"
)


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def job(i: int, slot: datetime, *, hex_ids: bool = False) -> JobPlanned:
    channel = CHANNELS[i % len(CHANNELS)]
    # Ingest's content ids are digests (``draft_content_id``): in no order, unlike ``b000000001``.
    content_id = hashlib.sha256(b"%d" % i).hexdigest()[:24] if hex_ids else f"b{i:09d}"
    return JobPlanned(
        event_id=f"e{i}",
        occurred_at=BASE - timedelta(days=1),
        job_id=f"{content_id}:{channel}",
        content_id=content_id,
        channel=channel,
        platform="mastodon",
        state=JobState.SCHEDULED,
        slot=slot,
        priority=Priority.NORMAL,
        arrived_at=BASE - timedelta(days=1),
        approved_at=BASE - timedelta(days=1),
        content=Content(text=TEXT),
    )


def slots(n: int, burst: int, seed: int = 7) -> list[datetime]:
    """``burst`` jobs spread over the burst minute; the rest over the following week."""
    rng = random.Random(seed)
    out = [BASE + timedelta(seconds=60 * i / burst) for i in range(burst)]
    out += [BASE + timedelta(hours=1, seconds=rng.uniform(0, 7 * 86400)) for _ in range(n - burst)]
    return out


def directory_yaml(path: Path) -> Path:
    lines = ["channels:"]
    for cid in CHANNELS:
        lines += [
            f"  - id: {cid}",
            "    platform: mastodon",
            "    timezone: Asia/Makassar",
            "    min_gap_minutes: 0",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def write_plan(
    bootstrap: str, topics: TopicRegistry, n: int, burst: int, *, hex_ids: bool = False
) -> float:
    from aiokafka import AIOKafkaProducer

    from shared.kafka import ensure_topics

    await ensure_topics(bootstrap, topics.specs())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50, max_batch_size=1 << 20, acks=1)
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for i, slot in enumerate(slots(n, burst)):
            record = job(i, slot, hex_ids=hex_ids)
            fut = await producer.send(
                topics.schedule_jobs,
                encode(record),
                key=record.job_id.encode(),
                partition=partition_for(record.channel, topics.partitions),
            )
            pending.append(fut)
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(ordered[-1] * 1000, 2)}


# ---- contenders (each in its own process) --------------------------------------------------------
async def run_warta(
    bootstrap: str, prefix: str, n: int, burst: int, state: Path, *, restart: bool = False
) -> dict[str, object]:
    from services.scheduler.chooser import NaiveChooser
    from services.scheduler.plan import Plan, PlanSettings
    from services.scheduler.planner import Planner
    from services.scheduler.restore import KeptStore
    from shared.channels import load_channels
    from shared.kafka import make_producer

    topics = TopicRegistry(prefix=prefix)
    channels = load_channels(directory_yaml(state / "channels.yaml"))
    producer = make_producer(bootstrap, "bench-warta")
    await producer.start()
    offset = timedelta(0)

    def clock() -> datetime:
        return datetime.now(UTC) + offset

    kept = KeptStore.open(state / "plan.sqlite3")
    plan = Plan(
        channels,
        NaiveChooser(),
        PlanSettings(),
        store=kept.store,
        partition_of=lambda c: partition_for(c, topics.partitions),
    )
    planner = Planner(
        bootstrap, topics, f"{prefix}scheduler", channels, plan, producer, clock=clock, kept=kept
    )
    if restart:
        return await restart_warta(planner, producer, kept, n, state)
    lateness: list[float] = []
    burst_done = asyncio.Event()

    def fired(late: float) -> None:
        lateness.append(late)
        if len(lateness) >= burst:
            burst_done.set()

    planner.on_fired = fired
    # The clock stays before the burst until the restore is done.
    offset = BASE - timedelta(hours=1) - datetime.now(UTC)
    before = rss()
    stop = asyncio.Event()
    task = asyncio.create_task(planner.run(stop))
    while planner.restore_seconds == 0.0:
        await asyncio.sleep(0.05)
        if task.done():
            task.result()
    restore_s = planner.restore_seconds  # the cold one: a rebalance later restores again
    after = rss()
    offset = BASE - timedelta(seconds=2) - datetime.now(UTC)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(burst_done.wait(), 180)
    stop.set()
    await task
    started = time.perf_counter()
    await planner.checkpoint()
    checkpoint_s = time.perf_counter() - started
    kept.close()
    await producer.stop()
    disk = (state / "plan.sqlite3").stat().st_size
    return {
        "impl": "warta",
        "checkpoint_on_stop_s": round(checkpoint_s, 2),
        "pending_jobs": n,
        "rss_bytes_per_job": round((after - before) / n, 1),
        "rss_mb_after_restore": round(after / 2**20, 1),
        "plan_cache_on_disk_mb": round(disk / 2**20, 1),
        "restore_s": round(restore_s, 2),
        "restores": planner.restores,
        "burst": burst,
        "fired": len(lateness),
        "lateness_ms": percentiles(lateness),
    }


async def restart_warta(planner: Any, producer: Any, kept: Any, n: int, state: Path) -> dict[str, object]:
    """The warm restart: restore on the kept file, replaying the tail after its checkpoint."""
    before = rss()
    stop = asyncio.Event()
    task = asyncio.create_task(planner.run(stop))
    while planner.restore_seconds == 0.0:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    after = rss()
    jobs = planner.plan.store.count()
    stop.set()
    await task
    kept.close()
    await producer.stop()
    return {
        "impl": "warta-restart",
        "pending_jobs": n,
        "jobs_after_restart": jobs,
        "warm_partitions": sorted(planner.warm_partitions),
        "tail_records_replayed": planner.restored_records,
        "restart_s": round(planner.restore_seconds, 2),
        "rss_bytes_per_job": round((after - before) / n, 1),
        "rss_mb_after_restore": round(after / 2**20, 1),
    }


_APS_PRODUCER: Any = None
_APS_FIRED: list[float] = []
_APS_BURST_DONE = asyncio.Event()
_APS_BURST = [0]


async def aps_fire(payload: bytes, key: bytes, slot: float, topic: str) -> None:
    """APScheduler's job, importable by reference (a persistent job store pickles the call)."""
    await _APS_PRODUCER.send_and_wait(topic, payload, key=key)
    _APS_FIRED.append(time.time() - slot)
    if len(_APS_FIRED) >= _APS_BURST[0]:
        _APS_BURST_DONE.set()


def load_jobs(
    scheduler: Any, plan_slots: list[datetime], shift: timedelta, extra: tuple[Any, ...], action: Any
) -> None:
    """The bench's jobs as APScheduler date jobs, run ``shift`` later than planned: each calls
    ``action(JobDue, key, run instant, *extra)``, which produces the JobDue."""
    from shared.events import JobDue

    for i, slot in enumerate(plan_slots):
        record = job(i, slot)
        due = JobDue(
            event_id=f"d{i}",
            occurred_at=slot,
            job_id=record.job_id,
            content_id=record.content_id,
            channel=record.channel,
            platform="mastodon",
            attempt=1,
            slot=slot,
            content=record.content,
        )
        run_at = slot + shift
        args = (encode(due), record.job_id.encode(), run_at.timestamp(), *extra)
        scheduler.add_job(action, "date", run_date=run_at, args=args, id=record.job_id)


async def run_apscheduler_sqlite(
    bootstrap: str, prefix: str, n: int, burst: int, state: Path, *, restart: bool = False
) -> dict[str, object]:
    global _APS_PRODUCER
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bench.aps_bulk import aps_sqlite_store
    from shared.kafka import make_producer

    topics = TopicRegistry(prefix=prefix)
    topic = topics.publish("mastodon")
    path = state / "apscheduler.sqlite3"
    _APS_PRODUCER = make_producer(bootstrap, "bench-apscheduler-sqlite")
    await _APS_PRODUCER.start()
    before = rss()
    started = time.perf_counter()
    store = aps_sqlite_store(path)
    scheduler = AsyncIOScheduler(
        jobstores={"default": store},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    if restart:
        # A restart: open the file, look for due jobs and the next run time (the first pass of
        # the scheduler's loop, queued by start()).
        scheduler.start()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        restart_s = time.perf_counter() - started
        after = rss()
        scheduler.shutdown(wait=False)
        await _APS_PRODUCER.stop()
        return {
            "impl": "apscheduler-sqlite-restart",
            "pending_jobs": n,
            "restart_s": round(restart_s, 2),
            "rss_bytes_per_job": round((after - before) / n, 1),
            "rss_mb_after_restart": round(after / 2**20, 1),
        }
    _APS_BURST[0] = burst
    now = datetime.now(UTC)
    plan_slots = slots(n, burst)
    # Loading (in one transaction, aps_bulk.py): give it its measured pace before the burst.
    shift = now + timedelta(seconds=max(30.0, n / 1000)) - BASE
    with store.bulk():
        load_jobs(scheduler, plan_slots, shift, (topic,), aps_fire)
        scheduler.start()  # adds the jobs added before it to the store: in bulk
    load_s = time.perf_counter() - started
    after = rss()
    first = plan_slots[0] + shift
    if datetime.now(UTC) > first:
        print(
            f"apscheduler-sqlite: loading overran the burst start by {datetime.now(UTC) - first}",
            file=sys.stderr,
        )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            _APS_BURST_DONE.wait(), max(240.0, (first - datetime.now(UTC)).total_seconds() + 180)
        )
    scheduler.shutdown(wait=False)
    await _APS_PRODUCER.stop()
    return {
        "impl": "apscheduler-sqlite",
        "pending_jobs": n,
        "rss_bytes_per_job": round((after - before) / n, 1),
        "rss_mb_after_load": round(after / 2**20, 1),
        "job_store_on_disk_mb": round(path.stat().st_size / 2**20, 1),
        "load_s": round(load_s, 2),
        "burst": burst,
        "fired": len(_APS_FIRED),
        "lateness_ms": percentiles(list(_APS_FIRED)),
    }


async def run_apscheduler(bootstrap: str, prefix: str, n: int, burst: int) -> dict[str, object]:
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from shared.kafka import make_producer

    topics = TopicRegistry(prefix=prefix)
    producer = make_producer(bootstrap, "bench-apscheduler")
    await producer.start()
    lateness: list[float] = []
    burst_done = asyncio.Event()
    topic = topics.publish("mastodon")

    async def fire(payload: bytes, key: bytes, slot: float) -> None:
        await producer.send_and_wait(topic, payload, key=key)
        lateness.append(time.time() - slot)
        if len(lateness) >= burst:
            burst_done.set()

    scheduler = AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    before = rss()
    started = time.perf_counter()
    now = datetime.now(UTC)
    # The same jobs; the burst minute starts once loading is done (estimated, then checked).
    plan_slots = slots(n, burst)
    shift = now + timedelta(seconds=max(30.0, n / 2000)) - BASE
    load_jobs(scheduler, plan_slots, shift, (), fire)
    load_s = time.perf_counter() - started
    after = rss()
    scheduler.start()
    first = plan_slots[0] + shift
    if datetime.now(UTC) > first:
        print(f"apscheduler: loading overran the burst start by {datetime.now(UTC) - first}", file=sys.stderr)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            burst_done.wait(), max(240.0, (first - datetime.now(UTC)).total_seconds() + 180)
        )
    scheduler.shutdown(wait=False)
    await producer.stop()
    return {
        "impl": "apscheduler",
        "pending_jobs": n,
        "rss_bytes_per_job": round((after - before) / n, 1),
        "rss_mb_after_load": round(after / 2**20, 1),
        "load_s": round(load_s, 2),
        "burst": burst,
        "fired": len(lateness),
        "lateness_ms": percentiles(lateness),
    }


CONTENDERS = ("warta", "warta-restart", "apscheduler", "apscheduler-sqlite", "apscheduler-sqlite-restart")


def child(args: argparse.Namespace) -> None:
    from shared.runtime import use_event_loop
    from shared.settings import CommonSettings

    use_event_loop(CommonSettings().event_loop)
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    n, burst = args.jobs[0], args.burst
    result: dict[str, object]
    if args.child in ("warta", "warta-restart"):
        restart = args.child == "warta-restart"
        result = asyncio.run(run_warta(args.bootstrap, args.prefix, n, burst, state, restart=restart))
    elif args.child in ("apscheduler-sqlite", "apscheduler-sqlite-restart"):
        restart = args.child.endswith("restart")
        result = asyncio.run(
            run_apscheduler_sqlite(args.bootstrap, args.prefix, n, burst, state, restart=restart)
        )
    else:
        result = asyncio.run(run_apscheduler(args.bootstrap, args.prefix, n, burst))
    print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--only", choices=CONTENDERS, nargs="+")
    parser.add_argument("--child", choices=CONTENDERS)
    parser.add_argument("--bootstrap")
    parser.add_argument("--prefix")
    parser.add_argument("--state")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from bench._system import own_broker
    from shared.kafka import delete_topics

    with own_broker("scheduler") as bootstrap:
        for n in args.jobs:
            prefix = f"bench{uuid.uuid4().hex[:8]}."
            topics = TopicRegistry(prefix=prefix)
            wrote = asyncio.run(write_plan(bootstrap, topics, n, min(args.burst, n)))
            print(
                json.dumps(
                    {
                        "bench": "scheduler",
                        "setup": "plan written",
                        "pending_jobs": n,
                        "seconds": round(wrote, 1),
                    }
                ),
                flush=True,
            )
            for impl in CONTENDERS:
                if args.only and impl not in args.only:
                    continue
                state = Path("var") / "bench" / prefix.rstrip(".")
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.scheduler",
                        "--child",
                        impl,
                        "--bootstrap",
                        bootstrap,
                        "--prefix",
                        prefix,
                        "--jobs",
                        str(n),
                        "--burst",
                        str(min(args.burst, n)),
                        "--state",
                        str(state),
                    ],
                    capture_output=True,
                    text=True,
                    env=dict(os.environ, PYTHONPATH="."),
                    check=False,
                )
                line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
                if out.returncode != 0 or not line:
                    print(
                        json.dumps(
                            {
                                "bench": "scheduler",
                                "impl": impl,
                                "pending_jobs": n,
                                "error": out.stderr[-2000:],
                            }
                        ),
                        flush=True,
                    )
                    continue
                print(json.dumps({"bench": "scheduler", **json.loads(line)}), flush=True)
            # A shared broker and disk serve others too: leave nothing behind.
            asyncio.run(delete_topics(bootstrap, prefix))
            shutil.rmtree(Path("var") / "bench" / prefix.rstrip("."), ignore_errors=True)


if __name__ == "__main__":
    main()

"""A cold restore alone, and where its time goes: the restore of ``bench/scheduler.py`` without the
burst, so that two versions of the code can be compared on the same topic minutes apart.

    python -m bench.scheduler_restore --jobs 1000000 [--prefix P] [--keep] [--hex-ids]

Writes N planned jobs to a fresh ``schedule.jobs`` (or reuses the topics of ``--prefix``, written by
an earlier ``--keep`` run), restores them into an empty kept store and prints one JSON line: the
restore's wall time, the SQLite writer's wall time (in its thread, overlapping the fetch) and the
index builds', and the CPU seconds of each (``*_cpu_s``: on a machine whose cores are shared, the
wall time of the same run varies by 2x, its CPU seconds far less). Topics are deleted at the end
unless ``--keep``. ``--hex-ids`` writes job ids in no order, as ingest's digest content ids make
them (the default ``b000000001`` ids arrive sorted, which spares the job-id index its random
inserts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from bench._system import own_broker
from bench.scheduler import directory_yaml, write_plan
from services.scheduler.chooser import NaiveChooser
from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.planner import restore_row
from services.scheduler.restore import KeptStore, Restorer
from services.scheduler.store import RestoreRow, SqliteJobStore
from shared.channels import load_channels
from shared.kafka import delete_topics
from shared.partitioning import partition_for
from shared.topics import TopicRegistry


class TimedStore(SqliteJobStore):
    """The kept store, adding up the wall and CPU time its bulk writes and index builds take
    (CPU of the calling thread, whichever it is: the writer thread for most batches, the event
    loop's for the last one)."""

    writing_s = writing_cpu_s = 0.0
    indexing_s = indexing_cpu_s = 0.0

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        super().put_raw(rows)
        self.writing_s += time.perf_counter() - started
        self.writing_cpu_s += time.thread_time() - cpu

    def build_indexes(self) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        super().build_indexes()
        self.indexing_s += time.perf_counter() - started
        self.indexing_cpu_s += time.thread_time() - cpu


async def restore(bootstrap: str, topics: TopicRegistry, state: Path) -> dict[str, object]:
    channels = load_channels(directory_yaml(state / "channels.yaml"))
    store = TimedStore(state / "plan.sqlite3", keep=True)
    plan = Plan(
        channels,
        NaiveChooser(),
        PlanSettings(),
        store=store,
        partition_of=lambda c: partition_for(c, topics.partitions),
    )
    restorer = Restorer(bootstrap, topics, plan, restore_row, KeptStore(store))
    started, cpu = time.perf_counter(), time.process_time()
    jobs, skipped, _ = await restorer.restore(set(range(topics.partitions)))
    took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
    store.close()
    return {
        "restored": jobs,
        "unreadable": skipped,
        "restore_s": round(took, 2),
        "writer_s": round(store.writing_s, 2),
        "index_builds_s": round(store.indexing_s, 2),
        "restore_cpu_s": round(took_cpu, 2),
        "writer_cpu_s": round(store.writing_cpu_s, 2),
        "index_builds_cpu_s": round(store.indexing_cpu_s, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--prefix")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--hex-ids", action="store_true")
    args = parser.parse_args()
    prefix = args.prefix or f"benchrestore{uuid.uuid4().hex[:6]}."
    # --keep and --prefix reuse a plan across runs: give them KAFKA_BOOTSTRAP_SERVERS, since a
    # broker of the bench's own is gone with its run.
    with own_broker("scheduler-restore") as bootstrap:
        _run(bootstrap, prefix, args)


def _run(bootstrap: str, prefix: str, args: argparse.Namespace) -> None:
    topics = TopicRegistry(prefix=prefix)
    if not args.prefix:
        burst = min(10_000, args.jobs)
        wrote = asyncio.run(write_plan(bootstrap, topics, args.jobs, burst, hex_ids=args.hex_ids))
        print(json.dumps({"setup": "plan written", "prefix": prefix, "seconds": round(wrote, 1)}))
    try:
        with tempfile.TemporaryDirectory() as state:
            result = asyncio.run(restore(bootstrap, topics, Path(state)))
        print(json.dumps({"bench": "scheduler_restore", "prefix": prefix, **result}), flush=True)
    finally:
        if not args.keep:
            asyncio.run(delete_topics(bootstrap, prefix))


if __name__ == "__main__":
    main()

"""What a page of ingest's calendar (``GET /v1/content``) costs as the view grows, and what
keeping the calendar ordered costs each event folded in.

    python -m bench.ingest_listing [--items 400000]

Builds a status view of N items on one channel each (every item then planned once, as the
scheduler does), and prints JSON lines: the fold time per event, then the time of a first page,
a page deep in the calendar (by cursor), and a page filtered by state, each the median of
repeated calls.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from services.ingest.status_view import StatusView
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    JobPlanned,
    JobState,
)

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CHANNELS = ("mastodon-demo", "x-demo", "telegram-demo", "facebook-demo")


def events(n: int) -> tuple[list[ContentApproved], list[JobPlanned]]:
    approved, planned = [], []
    for i in range(n):
        cid = f"c{i:08d}"
        ch = CHANNELS[i % len(CHANNELS)]
        approved.append(
            ContentApproved(
                event_id=f"a{i}",
                occurred_at=T0 + timedelta(seconds=i),
                content_id=cid,
                author="rina",
                approval=Approval(approved_by="yuyun", approved_at=T0),
                submitted_by="yuyun",
                variants=(ChannelVariant(channel=ch, content=Content(text="Jembatan")),),
            )
        )
        planned.append(
            JobPlanned(
                event_id=f"p{i}",
                occurred_at=T0 + timedelta(seconds=i, milliseconds=1),
                job_id=f"{cid}:{ch}",
                content_id=cid,
                channel=ch,
                platform=ch.split("-")[0],
                arrived_at=T0,
                approved_at=T0,
                content=Content(text="Jembatan"),
                state=JobState.PUBLISHED if i % 10 == 0 else JobState.SCHEDULED,
                slot=T0 + timedelta(minutes=(i * 7919) % 50_000),
            )
        )
    return approved, planned


def median_ms(call: object, repeat: int = 21) -> float:
    assert callable(call)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=400_000)
    args = parser.parse_args()
    approved, planned = events(args.items)
    # As ingest does once its view is read back (shared.runtime.freeze_survivors): otherwise the
    # collector's full walks over the events made here would be counted as folding time.
    gc.collect()
    gc.freeze()
    view = StatusView()
    started = time.perf_counter()
    for ev in approved:
        view.apply(ev)
    for ev2 in planned:
        view.apply(ev2)
    fold = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "ingest_listing",
                "items": args.items,
                "fold_us_per_event": round(fold / (2 * args.items) * 1e6, 2),
            }
        )
    )
    deep = view.jobs(limit=args.items // 2)[1].next_key
    pages = {
        "first_page": lambda: view.jobs(limit=50),
        "deep_page": lambda: view.jobs(limit=50, after=deep),
        "state_page": lambda: view.jobs(limit=50, state="published"),
        "channel_window_page": lambda: view.jobs(
            limit=50, channel="x-demo", start=T0 + timedelta(days=10), end=T0 + timedelta(days=11)
        ),
    }
    for name, call in pages.items():
        print(
            json.dumps(
                {"bench": "ingest_listing", "items": args.items, "page": name, "median_ms": median_ms(call)}
            )
        )


if __name__ == "__main__":
    main()

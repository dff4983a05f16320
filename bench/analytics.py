"""The analytics fold and report without Kafka: how fast events are folded, how fast a report reads.

Usage: ``python -m bench.analytics [--items 50000] [--channels 5]`` prints JSON lines:

- ``fold``: events per second through ``ledger.apply`` into a dict in batches of
  ``--batch`` (``batch.Overlay`` and ``batch.flush``, as the worker folds: its table minus
  faust and the changelog), and table writes per event (each one a changelog record in the
  worker, the journal included);
- ``report``: seconds to answer every ``/v1/reach`` query (4 dimensions x their windows) over
  the resulting table: a year of ``--items`` items on ``--channels`` channels, with 3 readings
  (+1 h, +6 h, +24 h) per post;
- ``report_render``: seconds to build the last week's report document with a 52-week trend
  from that table (``weekly.weekly_report``, what ``GET /v1/report`` does), and to render it as
  HTML (en, id), CSV and JSON (``reach_render``), beside a baseline taken in the same run:
  ``json.dumps`` of the same document, the least any rendering must do.

``--broker [--burst 100000] [--workers 1]`` measures the worker end to end on a real broker instead
(``bench.analytics_broker``: events/s through producer, faust worker and table, and the
consumer lag back to 0 after the burst).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from services.analytics.batch import Overlay, flush
from services.analytics.ledger import Position, Zones, apply
from services.analytics.reach_render import render_csv, render_html, render_json
from services.analytics.report import reach
from services.analytics.weekly import weekly_report
from shared.events import (
    Approval,
    ChannelVariant,
    Content,
    ContentApproved,
    EngagementObserved,
    OutcomeStatus,
    PublishOutcome,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
TAGS = ("gubernur", "wakil-gubernur", "banjir", "infrastruktur", "kesehatan", "pendidikan")


def year_of_events(items: int, channels: list[str], rnd: random.Random) -> list[Any]:
    events: list[Any] = []
    for c in range(items):
        content_id = f"c{c}"
        events.append(
            ContentApproved(
                event_id=f"a{c}",
                occurred_at=START,
                content_id=content_id,
                topic_key=f"topic-{rnd.randrange(200)}",
                tags=tuple(rnd.sample(TAGS, 2)),
                author="rina",
                approval=Approval(approved_by="yuyun", approved_at=START),
                submitted_by="yuyun",
                variants=(ChannelVariant(channel=channels[0], content=Content(text="t")),),
            )
        )
        published_at = START + timedelta(minutes=rnd.randrange(365 * 24 * 60))
        for channel in channels:
            common = {"job_id": f"{content_id}:{channel}", "content_id": content_id, "channel": channel}
            events.append(
                PublishOutcome(
                    event_id=f"o{c}{channel}",
                    occurred_at=published_at,
                    platform="p",
                    attempt=1,
                    status=OutcomeStatus.PUBLISHED,
                    **common,
                )
            )
            for horizon in (60, 360, 1440):
                events.append(
                    EngagementObserved(
                        event_id=f"e{c}{channel}{horizon}",
                        occurred_at=published_at + timedelta(minutes=horizon),
                        platform="p",
                        published_at=published_at,
                        horizon_minutes=horizon,
                        reactions=rnd.randrange(1000),
                        comments=rnd.randrange(100),
                        shares=rnd.randrange(100),
                        reach=rnd.randrange(10**5),
                        **common,
                    )
                )
    return events


def _apply(store: Any, *, event: Any, at: Position, zones: Zones) -> bool:
    return apply(store, event, at, zones)


class CountingStore(dict[str, Any]):
    writes = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--broker", action="store_true", help="the worker on a real broker instead")
    parser.add_argument("--burst", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="analytics workers sharing the partitions")
    parser.add_argument("--batch", type=int, default=1000, help="records per batch, as the worker takes them")
    args = parser.parse_args()
    if args.broker:
        from bench.analytics_broker import run

        run(args.burst, args.workers)
        return
    channels = [f"ch{i}" for i in range(args.channels)]
    events = year_of_events(args.items, channels, random.Random(7))
    zones = Zones(zone_of=lambda _: ZoneInfo("Asia/Jakarta"), report=ZoneInfo("Asia/Jakarta"))
    sources: dict[type, str] = {
        ContentApproved: "approved",
        PublishOutcome: "outcomes",
        EngagementObserved: "engagement",
    }
    store = CountingStore()
    started = time.perf_counter()
    for first in range(0, len(events), args.batch):
        overlay = Overlay(store)
        for offset, event in enumerate(events[first : first + args.batch], start=first):
            at = Position(sources[type(event)], 0, offset)
            overlay.attempt(partial(_apply, event=event, at=at, zones=zones))
        flush(overlay, 0, f"b{first}", store.__setitem__)
    took = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "fold",
                "events": len(events),
                "seconds": round(took, 2),
                "events_per_s": round(len(events) / took),
                "batch": args.batch,
                "writes_per_event": round(store.writes / len(events), 2),
            }
        ),
        flush=True,
    )
    queries = [(by, w) for by in ("channel", "topic", "tag") for w in ("day", "week", "all")]
    queries += [("hour", "week"), ("hour", "all")]
    started = time.perf_counter()
    rows = sum(len(reach(list(store.items()), by, w)) for by, w in queries)
    took = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "report",
                "items": args.items,
                "channels": args.channels,
                "table_entries": len(store),
                "queries": len(queries),
                "rows": rows,
                "seconds": round(took, 2),
            }
        ),
        flush=True,
    )

    report_render(store, ZoneInfo("Asia/Jakarta"), args.items, args.channels)


def _timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def report_render(store: dict[str, Any], zone: ZoneInfo, items: int, channels: int) -> None:
    entries = list(store.items())
    doc, assemble = _timed(lambda: weekly_report(entries, "2026-W52", zone, trend_weeks=52))
    _, baseline = _timed(lambda: json.dumps(doc))
    html, html_s = _timed(lambda: (render_html(doc, "en"), render_html(doc, "id")))
    text, csv_s = _timed(lambda: render_csv(doc))
    _, json_s = _timed(lambda: render_json(doc))
    print(
        json.dumps(
            {
                "bench": "report_render",
                "items": items,
                "channels": channels,
                "trend_weeks": len(doc["weeks"]),
                "document_s": round(assemble, 3),
                "html_en_id_s": round(html_s, 3),
                "csv_s": round(csv_s, 3),
                "json_s": round(json_s, 3),
                "total_s": round(assemble + html_s + csv_s + json_s, 3),
                "baseline_json_dumps_s": round(baseline, 4),
                "html_bytes": len(html[0].encode()),
                "csv_rows": text.count("\n"),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()

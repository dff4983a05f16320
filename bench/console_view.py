"""Console view benchmark: the cost of the dashboard's queries, and the view's size, as jobs pile up.

    python -m bench.console_view [--jobs 100000 400000] [--days 60]

Folds N job records spread evenly over ``--days`` of history into a ``ConsoleView`` (one record
per job, most of them published, a few failed or unconfirmed, the last day's still scheduled),
across the thirteen local demo channels, then times what one dashboard refresh asks for: one
channel's plan for a day, the first page of jobs needing attention, jobs by state. Then it lets
the default retention run at the end of the history and reports how many jobs the view still
holds. Prints one JSON line per N. No broker: the view is pure.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.console.view import ConsoleView
from shared.channels import load_channels
from shared.events import Content, JobPlanned, JobState
from shared.settings import ROOT

START = datetime(2026, 1, 1, tzinfo=UTC)
CONTENT = Content(text="Gubernur meresmikan jembatan baru.")


def state_of(n: int, at: datetime, end: datetime) -> JobState:
    if end - at < timedelta(days=1):
        return JobState.SCHEDULED
    if n % 97 == 0:
        return JobState.FAILED
    if n % 997 == 0:
        return JobState.UNCONFIRMED
    return JobState.PUBLISHED


def fill(view: ConsoleView, jobs: int, days: int, channels: list[tuple[str, str]]) -> datetime:
    step = timedelta(days=days) / jobs
    end = START + timedelta(days=days)
    for n in range(jobs):
        at = START + step * n
        channel, platform = channels[n % len(channels)]
        view.apply(
            JobPlanned(
                event_id=f"e{n}",
                occurred_at=at,
                job_id=f"c{n}:{channel}",
                content_id=f"c{n}",
                channel=channel,
                platform=platform,
                state=state_of(n, at, end),
                slot=at,
                arrived_at=at,
                approved_at=at,
                content=CONTENT,
            )
        )
    return end


def best_ms(query: Callable[[], object], repeat: int = 20) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        query()
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 3)


def run(jobs: int, days: int) -> dict[str, object]:
    directory = load_channels(ROOT / "deploy" / "channels.local.yaml")
    channels = [(c.id, c.platform) for c in directory.channels]
    view = ConsoleView()
    t0 = time.perf_counter()
    end = fill(view, jobs, days, channels)
    fold_s = time.perf_counter() - t0
    day = end - timedelta(days=2)
    figures: dict[str, object] = {
        "jobs": jobs,
        "days": days,
        "fold_us_per_record": round(fold_s / jobs * 1e6, 2),
        "plan_day_ms": best_ms(lambda: view.plan(channels[0][0], day, day + timedelta(days=1))),
        "problems_page_ms": best_ms(lambda: view.problems(limit=200)),
        "jobs_by_state_ms": best_ms(view.jobs_by_state),
        "held_before_expiry": len(view.jobs),
    }
    t0 = time.perf_counter()
    figures["expired"] = view.expire(end)
    figures["expire_s"] = round(time.perf_counter() - t0, 3)
    figures["held_after_expiry"] = len(view.jobs)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    for jobs in args.jobs:
        print(json.dumps({"bench": "console_view", **run(jobs, args.days)}), flush=True)


if __name__ == "__main__":
    main()

"""The planner's cost of one job whose window is as long as the scheduling horizon allows.

    python -m bench.horizon [--days 30 400 3650]

The learned slot policy scores every 5-minute step of a job's window, so a job with a deadline
at the horizon's edge is the costliest one the plan can be asked to place; the horizon
(``shared.horizon``) is what bounds it. One JSON line per horizon: CPU seconds for planning one
normal-priority job with its deadline a minute inside the horizon, best of three.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from services.scheduler.plan import Plan, PlanSettings
from services.scheduler.policy_chooser import PolicyChooser
from shared.channels import Channel, ChannelDirectory
from shared.events import Approval, ChannelVariant, Content, ContentApproved, Priority

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CHANNEL = Channel(id="bench-x", platform="x", timezone="Asia/Makassar")


def _item(deadline: datetime) -> ContentApproved:
    return ContentApproved(
        event_id="e-edge",
        occurred_at=NOW,
        content_id="edge",
        priority=Priority.NORMAL,
        deadline=deadline,
        author="rina",
        approval=Approval(approved_by="yuyun", approved_at=NOW),
        submitted_by="yuyun",
        variants=(ChannelVariant(channel=CHANNEL.id, content=Content(text="edge of the horizon")),),
    )


def cpu_seconds(days: int, repeat: int = 3) -> tuple[float, str]:
    horizon = timedelta(days=days)
    best, state = float("inf"), ""
    for _ in range(repeat):
        plan = Plan(ChannelDirectory(channels=(CHANNEL,)), PolicyChooser(), PlanSettings(horizon=horizon))
        item = _item(NOW + horizon - timedelta(minutes=1))
        started = time.process_time()
        fx = plan.handle(CHANNEL.id, item, NOW)
        best = min(best, time.process_time() - started)
        state = fx.jobs[0].state.value
    return best, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, nargs="+", default=[30, 400, 3650])
    for days in parser.parse_args().days:
        seconds, state = cpu_seconds(days)
        print(json.dumps({"horizon_days": days, "cpu_s": round(seconds, 4), "state": state}))


if __name__ == "__main__":
    main()

"""The scheduler's settings, read once at start (environment prefix ``WARTA_``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from services.scheduler.plan import PlanSettings
from services.scheduler.policy.calendar import Calendar, load_calendar
from shared.settings import CALENDAR_FILE, ROOT, CommonSettings


class SchedulerSettings(CommonSettings):
    policy: Literal["learned", "naive"] = "learned"
    late_grace_s: float = 120.0
    # Engagement is measured this long after publishing (seconds); tests shrink them.
    engagement_horizons_s: tuple[float, ...] = (3600.0, 6 * 3600.0, 24 * 3600.0)
    tick_s: float = 0.2  # longest sleep between looking at the heap: bounds firing lateness
    # How often the planner forgets jobs past finished_retention_s (CommonSettings).
    retention_sweep_s: float = 60.0
    # How often each owned channel's expected engagement by hour-of-week is written to
    # model.expectations for the analytics service (seconds; 0 = never). The model moves slowly.
    expectation_every_s: float = 900.0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # 0 = no metrics endpoint
    # Local cache of the plan (safe to delete: rebuilt from schedule.jobs and schedule.channels).
    state_dir: Path = ROOT / "var" / "state"
    # Keep it across restarts with a checkpoint, so a restart replays only the changelogs' tail;
    # one name per worker sharing a state_dir (a second worker on a held name gets a throwaway).
    keep_store: bool = True
    store_name: str = "scheduler"
    # Public calendar (Ramadan, holidays, school holidays); None = no calendar regimes. The file
    # ships inside the package (the wheel carries it); deploy/calendar.yaml links to it.
    calendar_path: Path | None = CALENDAR_FILE

    def load_calendar(self) -> Calendar:
        """The deployment's calendar; a broken file stops the start with its path and the reason."""
        return load_calendar(self.calendar_path) if self.calendar_path is not None else Calendar()

    def plan_settings(self) -> PlanSettings:
        return PlanSettings(
            late_grace=timedelta(seconds=self.late_grace_s),
            horizons=tuple(timedelta(seconds=s) for s in self.engagement_horizons_s),
            horizon=self.schedule_horizon,
            retention=self.finished_retention,
        )

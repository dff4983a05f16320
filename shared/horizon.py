"""How far ahead an item may be scheduled: one rule for ingest (which refuses a later
``not_before`` or ``deadline`` with 422) and the scheduler (which stores a job past it as
unschedulable with the reason, since a record on the topic is not bound by ingest's rules).

Both read it from ``CommonSettings.schedule_horizon_days`` (``WARTA_SCHEDULE_HORIZON_DAYS``), so
the two can never disagree. The bound also bounds the planner's work: the slot policy scores
every 5-minute step of a job's window, so a window as long as the horizon is the costliest job
(``python -m bench.horizon`` prints the figure).
"""

from __future__ import annotations

from datetime import timedelta

# Past any embargo a press office sets a year ahead; a later date is a typo (year 9999).
DEFAULT_DAYS = 400
# The largest horizon a deployment may set: ten years of 5-minute steps is ~1M candidates
# per job for the slot policy, about a second of CPU.
MAX_DAYS = 3650


def schedule_horizon(days: int = DEFAULT_DAYS) -> timedelta:
    return timedelta(days=days)


DEFAULT_HORIZON = schedule_horizon()

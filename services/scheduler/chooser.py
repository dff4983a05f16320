"""The port between the plan and the slot policy: given a job and its channel, when should it fire.

``NaiveChooser`` (due at not_before, or now) is the walking skeleton's rule and a baseline in
benchmarks; ``services.scheduler.policy_chooser.PolicyChooser`` wraps the learning policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from shared.channels import Channel
from shared.events import EngagementObserved, JobPlanned, SlotExplanation


class SlotChooser(Protocol):
    def choose(
        self,
        job: JobPlanned,
        channel: Channel,
        taken: Sequence[datetime],
        now: datetime,
        *,
        not_before: datetime | None,
    ) -> SlotExplanation:
        """Pick the job's instant. ``not_before`` already includes retry_at when retrying."""
        ...

    def observe(self, channel: Channel, event: EngagementObserved, job: JobPlanned | None) -> None:
        """Learn from a post's engagement; ``job`` (if still held) tells its priority and wait."""
        ...

    def replan(
        self, jobs: Sequence[JobPlanned], channel: Channel, fixed: Sequence[datetime], now: datetime
    ) -> list[SlotExplanation | None]:
        """After learning: a better slot for each scheduled job, or None to keep it."""
        ...

    def place(
        self,
        job: JobPlanned,
        channel: Channel,
        pending: Sequence[JobPlanned],
        fixed: Sequence[datetime],
        now: datetime,
    ) -> tuple[SlotExplanation, list[SlotExplanation | None]]:
        """A new job's slot, with planned ``pending`` jobs (each with a slot) moved out of its way
        where that earns more in total: the new job's explanation, and per pending job its new
        slot's explanation or None to keep it. ``fixed`` are the channel's posts that cannot move."""
        ...

    def model_state(self, channel_id: str) -> dict[str, object]: ...

    def restore_model(self, channel: Channel, state: dict[str, object]) -> None: ...


class NaiveChooser:
    """Fire at not_before, or now; no learning. Keeps the skeleton honest about hard limits."""

    def choose(
        self,
        job: JobPlanned,
        channel: Channel,
        taken: Sequence[datetime],
        now: datetime,
        *,
        not_before: datetime | None,
    ) -> SlotExplanation:
        slot = max(now, not_before) if not_before else now
        if job.deadline is not None and slot > job.deadline:
            return SlotExplanation(
                chosen=None, binding_constraint="deadline", reason="the deadline has passed"
            )
        binding = "not_before" if not_before and not_before > now else None
        return SlotExplanation(chosen=slot, binding_constraint=binding, reason="naive: as early as allowed")

    def observe(self, channel: Channel, event: EngagementObserved, job: JobPlanned | None) -> None:
        return None

    def replan(
        self, jobs: Sequence[JobPlanned], channel: Channel, fixed: Sequence[datetime], now: datetime
    ) -> list[SlotExplanation | None]:
        return [None] * len(jobs)

    def place(
        self,
        job: JobPlanned,
        channel: Channel,
        pending: Sequence[JobPlanned],
        fixed: Sequence[datetime],
        now: datetime,
    ) -> tuple[SlotExplanation, list[SlotExplanation | None]]:
        taken = sorted([*fixed, *(j.slot for j in pending if j.slot is not None)])
        return self.choose(job, channel, taken, now, not_before=job.not_before), [None] * len(pending)

    def model_state(self, channel_id: str) -> dict[str, object]:
        return {}

    def restore_model(self, channel: Channel, state: dict[str, object]) -> None:
        return None

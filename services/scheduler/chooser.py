"""The port between the plan and the slot policy: given a job and its channel, when should it fire.

The plan asks with a ``SlotAsk`` (plain data) and gets a ``SlotExplanation`` back.
``NaiveChooser`` (due at not_before, or now) is the walking skeleton's rule and a baseline in
benchmarks; ``services.scheduler.policy_chooser.PolicyChooser`` wraps the learning policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from shared.channels import Channel
from shared.events import EngagementObserved, JobPlanned, SlotExplanation

Moves = list[SlotExplanation | None]
"""Per planned job, in order: the explanation of its new slot, or None to keep it."""


@dataclass(frozen=True)
class SlotAsk:
    """One job to place: its record, its channel, the channel's other posts (``taken``: every
    post that stays where it is), the time, and the earliest instant the job may take
    (``not_before``, which already includes retry_at when retrying)."""

    job: JobPlanned
    channel: Channel
    taken: Sequence[datetime]
    now: datetime
    not_before: datetime | None


@dataclass(frozen=True)
class ChannelExpectation:
    """What a chooser's model expects of a channel: expected engagement of an average post at each
    step of the local week (Monday 00:00 first), learned from ``observations`` posts."""

    steps: Sequence[float]
    observations: int


class SlotChooser(Protocol):
    def choose(self, ask: SlotAsk) -> SlotExplanation:
        """Pick the job's instant."""
        ...

    def observe(self, channel: Channel, event: EngagementObserved, job: JobPlanned | None) -> None:
        """Learn from a post's engagement; ``job`` (if still held) tells its priority and wait."""
        ...

    def replan(
        self, jobs: Sequence[JobPlanned], channel: Channel, fixed: Sequence[datetime], now: datetime
    ) -> Moves:
        """After learning: a better slot for each scheduled job, or None to keep it."""
        ...

    def place(self, ask: SlotAsk, pending: Sequence[JobPlanned]) -> tuple[SlotExplanation, Moves]:
        """A new job's slot, with planned ``pending`` jobs (each with a slot) moved out of its way
        where that earns more in total: the new job's explanation, and per pending job its new
        slot's explanation or None to keep it. ``ask.taken`` are the posts that cannot move."""
        ...

    def model_state(self, channel_id: str) -> dict[str, object]: ...

    def expectation(self, channel: Channel) -> ChannelExpectation | None:
        """The model's expectation of ``channel``, or None when this chooser holds no model of it."""
        ...

    def restore_model(self, channel: Channel, state: dict[str, object]) -> None: ...


def with_pending(ask: SlotAsk, pending: Sequence[JobPlanned]) -> SlotAsk:
    """``ask`` with the planned jobs' slots among the posts it must keep clear of."""
    return replace(ask, taken=sorted([*ask.taken, *(j.slot for j in pending if j.slot is not None)]))


class NaiveChooser:
    """Fire at not_before, or now; no learning. Keeps the skeleton honest about hard limits."""

    def choose(self, ask: SlotAsk) -> SlotExplanation:
        now, not_before = ask.now, ask.not_before
        slot = max(now, not_before) if not_before else now
        if ask.job.deadline is not None and slot > ask.job.deadline:
            return SlotExplanation(
                chosen=None, binding_constraint="deadline", reason="the deadline has passed"
            )
        binding = "not_before" if not_before and not_before > now else None
        return SlotExplanation(chosen=slot, binding_constraint=binding, reason="naive: as early as allowed")

    def observe(self, channel: Channel, event: EngagementObserved, job: JobPlanned | None) -> None:
        return None

    def replan(
        self, jobs: Sequence[JobPlanned], channel: Channel, fixed: Sequence[datetime], now: datetime
    ) -> Moves:
        return [None] * len(jobs)

    def place(self, ask: SlotAsk, pending: Sequence[JobPlanned]) -> tuple[SlotExplanation, Moves]:
        return self.choose(with_pending(ask, pending)), [None] * len(pending)

    def model_state(self, channel_id: str) -> dict[str, object]:
        return {}

    def expectation(self, channel: Channel) -> ChannelExpectation | None:
        return None

    def restore_model(self, channel: Channel, state: dict[str, object]) -> None:
        return None

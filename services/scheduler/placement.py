"""Placing a channel's jobs on its timeline through the slot chooser (the ``SlotChooser`` port).

Pure: no Kafka, no clock. A job is placed when it is approved, released, resumed or fell due
while the scheduler was down, and a retry when its outcome arrives, or, when its channel was held
then, once the channel is released; planned jobs move when a new job earns more in their slot
(``place_new``) or when the channel has learned (``replan``). Every answer is stored through the
plan's ``JobBook``, so a step that raises is undone with the rest of it.

The chooser is handed the channel's posts from ``reach`` before a job's window to ``reach``
after it: every post that can bear on an instant of the window under the channel's rules (a
rolling cap counts posts either side of an instant within its window, a month for X's free
tier), so the read grows with the channel's longest cap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from services.scheduler.chooser import SlotAsk, SlotChooser
from services.scheduler.job_book import JobBook
from services.scheduler.plan_records import beyond_horizon
from services.scheduler.plan_state import ChannelPlan, PlanSettings, S
from shared.capabilities import UnknownPlatform, capabilities_for
from shared.channels import Channel
from shared.events import JobPlanned, Priority, SlotExplanation

# The span the plan reads a deadline-less job's channel over (the policy's own window is 7 days
# from when the job is allowed, slot-world.md), with ``reach`` of the channel's posts either side.
_OPEN_WINDOW = timedelta(days=8)
# A local calendar day lasts at most 25 h (a daylight-saving fall-back): posts sharing a day with
# an instant (max_posts_per_day) lie within that of it.
_LOCAL_DAY = timedelta(hours=25)


def reach(channel: Channel) -> timedelta:
    """How far from an instant another post of ``channel`` can still forbid it: the longest
    rolling cap, the minimum gap, a local day. The caps are the channel's own and its platform's
    defaults, all of which the policy applies (``policy_chooser.rules_for``); a cap the policy
    left out would only make the read longer than needed, never short."""
    caps = list(channel.caps)
    with contextlib.suppress(UnknownPlatform):  # no platform row: the channel's own caps alone
        caps += capabilities_for(channel.platform).default_caps
    longest = max((timedelta(minutes=c.window_minutes) for c in caps), default=timedelta(0))
    return max(longest, timedelta(minutes=channel.min_gap_minutes), _LOCAL_DAY)


def _around(start: datetime, end: datetime, far: timedelta) -> tuple[datetime, datetime]:
    """[start - far, end + far], inside datetime's range: a cap's window has no upper bound, and
    one configured longer than the calendar counts every post there is."""
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    return start - min(far, start - first), end + min(far, last - end)


class Placer:
    def __init__(self, book: JobBook, chooser: SlotChooser, settings: PlanSettings) -> None:
        self._book = book
        self._chooser = chooser
        self._settings = settings

    def place(
        self,
        plan: ChannelPlan,
        job: JobPlanned,
        now: datetime,
        note: str | None = None,
        *,
        fresh: bool = False,
    ) -> JobPlanned:
        """Choose the job's slot (or hold it) and store the result. ``job`` is the stored record,
        or a new one (``fresh``). On a held channel a retry stays retrying, not placed
        (``placed``), its retry_at kept as the earliest instant it may take: the channel's
        release places it (``place_again``), or the firing path, should the channel still be
        held when retry_at comes."""
        holding = plan.holding()
        if holding is not None:
            state, why = holding
            if job.state is S.RETRYING:
                return self._book.set(plan, job, now, fresh=fresh, explanation=None, note=why)
            return self._book.set(plan, job, now, fresh=fresh, state=state, note=why)
        return self.store_choice(
            plan, job, now, self.choose(plan, job, now, fresh=fresh), fresh=fresh, note=note
        )

    def place_again(
        self, plan: ChannelPlan, job: JobPlanned, now: datetime, note: str | None = None
    ) -> JobPlanned | None:
        """Place a job the channel held once it is released; None when the job is unschedulable
        and the same rule still refuses it: nothing changed, so nothing is stored and people,
        told once, are not told again (a repeated or unrelated resume)."""
        if job.state is S.UNSCHEDULABLE and job.explanation is not None and plan.holding() is None:
            why = self.choose(plan, job, now)
            if why.chosen is None and why.binding_constraint == job.explanation.binding_constraint:
                return None
            return self.store_choice(plan, job, now, why, fresh=False, note=note)
        return self.place(plan, job, now, note=note)

    def choose(
        self, plan: ChannelPlan, job: JobPlanned, now: datetime, *, fresh: bool = False
    ) -> SlotExplanation:
        """The chooser's answer for ``job`` on its channel as it stands, stored by nobody: a slot,
        or why there is none. A retry's slot is its retry_at, the earliest instant it may take."""
        not_before = job.not_before
        if job.state is S.RETRYING and job.slot is not None:
            not_before = max(not_before, job.slot) if not_before else job.slot
        refused = beyond_horizon(job, not_before, now, self._settings.horizon)
        if refused is not None:
            return refused
        start = max(now, not_before) if not_before else now
        end = job.deadline or start + _OPEN_WINDOW
        lo, hi = _around(start, end, reach(plan.channel))
        taken: Sequence[datetime] = plan.taken_between(lo, hi, exclude=None if fresh else job)
        return self._chooser.choose(SlotAsk(job, plan.channel, taken, now, not_before))

    def place_new(self, plan: ChannelPlan, job: JobPlanned, now: datetime) -> list[JobPlanned]:
        """Place a newly approved job; planned jobs may move to make room for it when the two
        together earn more (``policy.room.place``: under a tight daily cap the first job of the
        day should not keep the evening that only the second could use). Returns the records
        stored: the moved jobs', then the new job's."""
        if plan.paused or plan.needs_reauth or job.priority is Priority.URGENT:
            # urgent goes now and moves nothing: no need to read the channel's planned jobs
            return [self.place(plan, job, now, fresh=True)]
        refused = beyond_horizon(job, job.not_before, now, self._settings.horizon)
        if refused is not None:
            return [self.store_choice(plan, job, now, refused, fresh=True)]

        def horizon(movable: list[JobPlanned]) -> datetime:
            # movable jobs all have a slot; each may move within its own window, up to its deadline
            return max(
                job.deadline or max(now, job.not_before or now) + _OPEN_WINDOW,
                *(j.deadline or j.slot or now for j in movable),
            )

        movable, fixed = self._movable(plan, now, horizon)
        if not movable:
            return [self.place(plan, job, now, fresh=True)]
        ask = SlotAsk(job, plan.channel, fixed, now, job.not_before)
        explanation, moves = self._chooser.place(ask, movable)
        moved = self._moved(plan, movable, moves, now)
        return [*moved, self.store_choice(plan, job, now, explanation, fresh=True)]

    def replan(self, plan: ChannelPlan, now: datetime) -> list[JobPlanned]:
        """What the channel learned may move its scheduled jobs to better slots (at most once per
        ``replan_every``; jobs about to fire stay where they are). Returns the moved records."""
        if now - plan.replanned_at < self._settings.replan_every:
            return []
        plan.replanned_at = now
        movable, fixed = self._movable(plan, now, lambda _: now + _OPEN_WINDOW)
        if not movable:
            return []
        return self._moved(plan, movable, self._chooser.replan(movable, plan.channel, fixed, now), now)

    def store_choice(
        self,
        plan: ChannelPlan,
        job: JobPlanned,
        now: datetime,
        explanation: SlotExplanation,
        *,
        fresh: bool,
        note: str | None = None,
    ) -> JobPlanned:
        """Store the chooser's answer for ``job``: its slot, or unschedulable when it found none."""
        if explanation.chosen is None:
            state = S.UNSCHEDULABLE
        else:
            state = S.RETRYING if job.state is S.RETRYING else S.SCHEDULED
        return self._book.set(
            plan,
            job,
            now,
            fresh=fresh,
            state=state,
            slot=explanation.chosen,
            explanation=explanation,
            note=note,
        )

    def _moved(
        self,
        plan: ChannelPlan,
        jobs: list[JobPlanned],
        explanations: Sequence[SlotExplanation | None],
        now: datetime,
    ) -> list[JobPlanned]:
        """Store each job the chooser gave another slot (None, or the same slot, keeps it)."""
        out: list[JobPlanned] = []
        for job, why in zip(jobs, explanations, strict=True):
            if why is not None and why.chosen is not None and why.chosen != job.slot:
                out.append(self._book.set(plan, job, now, slot=why.chosen, explanation=why))
        return out

    def _movable(
        self, plan: ChannelPlan, now: datetime, horizon: Callable[[list[JobPlanned]], datetime]
    ) -> tuple[list[JobPlanned], list[datetime]]:
        """The channel's planned jobs that may still move (scheduled, not about to fire), and the
        instants that stay where they are, from ``reach`` before ``now`` to ``reach`` past
        ``horizon(movable)``: everything occupying the channel but the movable jobs' own slots."""
        soon = now + self._settings.late_grace
        movable = [
            j
            for j in self._book.store.in_states(plan.channel.id, (S.SCHEDULED,))
            if j.slot is not None and j.slot > soon
        ]
        if not movable:
            return [], []
        fixed = plan.taken_between(*_around(now, horizon(movable), reach(plan.channel)))
        for job in movable:
            if job.slot in fixed:
                fixed.remove(job.slot)
        return movable, fixed

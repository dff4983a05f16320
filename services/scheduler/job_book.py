"""The plan's book-keeping: the job store, the timer wheel and each channel's occupied instants,
kept in step, with a journal that undoes a step that raised.

Pure: no Kafka, no clock. ``Plan`` decides what each command and each timer does; the book only
records it. Wheel entries are lazy: an entry whose job moved on (re-planned, withdrawn) is
skipped when it comes due. A positive entry fires the job, a negative one (its negated store
reference) measures a published post.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from services.scheduler.plan_state import (
    FIRING,
    ChannelFlags,
    ChannelPlan,
    S,
)
from services.scheduler.store import JobStore
from services.scheduler.wheel import TimerWheel
from shared.channels import ChannelDirectory
from shared.events import JobPlanned

_Replaced = tuple[str, ChannelPlan, JobPlanned | None, JobPlanned | None]
"""A job record a step replaced: (job id, its channel, the record whose instant was released,
the stored record before, None for a new job)."""


class JobBook:
    def __init__(
        self,
        directory: ChannelDirectory,
        store: JobStore,
        partition_of: Callable[[str], int],
        event_id_prefix: str,
        timer_page: int = 2000,
    ) -> None:
        self._directory = directory
        self.store = store
        self._partition_of = partition_of
        self._channels: dict[str, ChannelPlan] = {}
        self._wheel = TimerWheel(store.due_page, page_size=timer_page)
        self._ids = itertools.count()
        self._prefix = event_id_prefix
        # While a step runs: each job record it replaced, first to last.
        self._journal: list[_Replaced] | None = None
        # Partitions whose rows the store keeps while another worker may own them.
        self._released: set[int] = set()

    # ---- ownership -------------------------------------------------------------------------
    def channel_plan(self, channel_id: str) -> ChannelPlan | None:
        plan = self._channels.get(channel_id)
        if plan is None:
            channel = self._directory.get(channel_id)
            if channel is None:
                return None
            plan = self._channels[channel_id] = ChannelPlan(channel, self._partition_of(channel_id))
            plan.load_taken_from(self._occupied_of(channel_id))
        return plan

    def _occupied_of(self, channel_id: str) -> Callable[[], Iterable[float]]:
        return lambda: self.store.occupied(channel_id)

    def drop_partitions(self, partitions: Iterable[int], *, keep_rows: bool = False) -> None:
        """No longer this worker's: forget their channels, and their rows unless ``keep_rows``
        (a kept store holds them, true as they are, for a later assignment to resume from)."""
        gone = set(partitions)
        for cid in [c for c, p in self._channels.items() if p.partition in gone]:
            del self._channels[cid]
        if keep_rows:
            self._released |= gone
        else:
            self.store.drop_partitions(gone)

    def index_restored(self, partitions: Iterable[int]) -> None:
        """After a bulk ``store.put_raw``: the timers and the channels' occupied instants are
        read from the store again, lazily (a restart reads none of a million pending jobs):
        the wheel pages its timers in as their time nears, and a channel's instants are read
        when a step first needs them."""
        restored = set(partitions)
        self._released -= restored
        for channel_id in self._directory.ids:  # the partitions' channels are this worker's now
            if self._partition_of(channel_id) in restored:
                plan = self.channel_plan(channel_id)
                if plan is not None:
                    plan.load_taken_from(self._occupied_of(channel_id))
        self._wheel.reload()

    # ---- time --------------------------------------------------------------------------------
    def next_instant(self) -> float | None:
        return self._wheel.next_at()

    def due(self, now: datetime, limit: int) -> Iterator[tuple[ChannelPlan, JobPlanned, int]]:
        """The wheel entries due at ``now``, with their job and channel (gone ones skipped)."""
        for ref in self._wheel.pop_due(now.timestamp(), self.store.instants, limit):
            job = self.store.by_ref(abs(ref))
            plan = self._channels.get(job.channel) if job is not None else None
            if job is None or plan is None:
                continue  # the channel moved to another worker, or the job is gone
            yield plan, job, ref

    def forget_finished_before(self, cutoff: datetime, limit: int) -> list[JobPlanned]:
        """Drop up to ``limit`` jobs that finished before ``cutoff``; their wheel entries, if any,
        are skipped when due (the job is gone)."""
        gone = []
        for job in self.store.finished_before(cutoff, limit):
            # A job of a channel no longer configured is forgotten too, or it would head every
            # sweep; the rows of partitions kept for a later assignment are not this worker's.
            plan = self._channels.get(job.channel)
            if plan is None and self._partition_of(job.channel) in self._released:
                continue  # another worker's to forget
            if plan is not None:
                plan.release(job)
            self.store.delete(job.job_id)
            gone.append(job)
        return gone

    # ---- records -----------------------------------------------------------------------------
    def event_id(self) -> str:
        return f"{self._prefix}-{next(self._ids)}"

    def set(
        self, plan: ChannelPlan, job: JobPlanned, now: datetime, *, fresh: bool = False, **update: Any
    ) -> JobPlanned:
        """Store ``job`` changed by ``update``; ``job`` is the stored record unless ``fresh``."""
        new = job.model_copy(update={**update, "event_id": self.event_id(), "occurred_at": now})
        new = JobPlanned.model_validate(new.model_dump())  # re-validate: model_copy doesn't
        self.put(plan, new, old=None if fresh else job)
        return new

    def put(self, plan: ChannelPlan, job: JobPlanned, old: JobPlanned | None) -> None:
        if self._journal is not None:
            before = old if old is not None else self.store.get(job.job_id)
            self._journal.append((job.job_id, plan, old, before))
        plan.release(old)
        self._stored(plan, job)
        plan.occupy(job)

    def _stored(self, plan: ChannelPlan, job: JobPlanned) -> None:
        """Write ``job`` to the store and set its timer (a duplicate entry is skipped when due)."""
        ref = self.store.put(job, plan.partition)
        if job.state in FIRING and job.slot is not None:
            self._wheel.add(job.slot.timestamp(), ref)
        if job.state is S.PUBLISHED and job.measure_at:
            self._wheel.add(job.measure_at[0].timestamp(), -ref)

    # ---- undo --------------------------------------------------------------------------------
    @contextmanager
    def undoable(self, plan: ChannelPlan | None) -> Iterator[None]:
        """A step that, when it raises, leaves the records and ``plan``'s flags as they were."""
        saved = ChannelFlags.of(plan) if plan is not None else None
        self._journal = []
        try:
            yield
        except Exception:
            self._undo(self._journal)
            if plan is not None and saved is not None:
                saved.put_back(plan)
            raise
        finally:
            self._journal = None

    def _undo(self, journal: list[_Replaced]) -> None:
        for job_id, plan, released, before in reversed(journal):
            plan.release(self.store.get(job_id))
            plan.occupy(released)
            if before is None:
                self.store.delete(job_id)
                continue
            self._stored(plan, before)

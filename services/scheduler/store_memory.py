"""``MemoryJobStore``: the plan's job records as Python objects, for tests and small deployments
(store.py holds the protocol both stores follow and the on-disk ``SqliteJobStore``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from services.scheduler.plan_state import FIRING_NAMES, occupied_instant
from services.scheduler.retention import finished_at
from services.scheduler.store import Indexed, RestoreRow, page_of
from shared.codec import decode_as
from shared.events import JobPlanned, JobState


def due_instant(job: JobPlanned | None, ref: int) -> float | None:
    if job is None:
        return None
    if ref > 0:
        return job.slot.timestamp() if job.slot is not None and job.state.value in FIRING_NAMES else None
    if job.state is JobState.PUBLISHED and job.measure_at:
        return job.measure_at[0].timestamp()
    return None


class MemoryJobStore:
    def __init__(self) -> None:
        self._jobs: dict[str, JobPlanned] = {}
        self._refs: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._partition: dict[str, int] = {}
        self._next_ref = 1  # references are never reused, even after a job is dropped

    def get(self, job_id: str) -> JobPlanned | None:
        return self._jobs.get(job_id)

    def ref_of(self, job_id: str) -> int | None:
        return self._refs.get(job_id)

    def by_ref(self, ref: int) -> JobPlanned | None:
        job_id = self._ids.get(ref)
        return self._jobs.get(job_id) if job_id is not None else None

    def put(self, job: JobPlanned, partition: int) -> int:
        ref = self._refs.get(job.job_id)
        if ref is None:
            ref = self._refs[job.job_id] = self._next_ref
            self._next_ref += 1
            self._ids[ref] = job.job_id
        self._jobs[job.job_id] = job
        self._partition[job.job_id] = partition
        return ref

    def put_raw(self, rows: Iterable[RestoreRow]) -> None:
        for row in rows:
            self.put(decode_as(row[-1], JobPlanned), row[2])

    def defer_indexes(self) -> None:
        return

    def build_indexes(self) -> None:
        return

    def same_topic(self, channel: str, topic_key: str) -> list[JobPlanned]:
        return [j for j in self._jobs.values() if j.channel == channel and j.topic_key == topic_key]

    def in_states(self, channel: str, states: Iterable[JobState]) -> list[JobPlanned]:
        wanted = set(states)
        return [j for j in self._jobs.values() if j.channel == channel and j.state in wanted]

    def instants(self, refs: list[int]) -> Iterable[tuple[int, float | None]]:
        for ref in refs:
            yield ref, due_instant(self.by_ref(abs(ref)), ref)

    def drop_partitions(self, partitions: Iterable[int]) -> None:
        gone = set(partitions)
        for job_id in [j for j, p in self._partition.items() if p in gone]:
            self.delete(job_id)

    def delete(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self._partition.pop(job_id, None)
        ref = self._refs.pop(job_id, None)
        if ref is not None:
            self._ids.pop(ref, None)

    def delete_raw(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self.delete(job_id)

    def finished_before(self, cutoff: datetime, limit: int) -> list[JobPlanned]:
        done = [(at, job) for job in self._jobs.values() if (at := finished_at(job)) and at <= cutoff]
        return [job for _, job in sorted(done, key=lambda pair: pair[0])[:limit]]

    def firing(self, partitions: Iterable[int]) -> Iterator[Indexed]:
        wanted = set(partitions)
        for job_id, job in list(self._jobs.items()):
            if self._partition.get(job_id) in wanted:
                slot = job.slot.timestamp() if job.slot else None
                published = job.published_at.timestamp() if job.published_at else None
                measure = job.measure_at[0].timestamp() if job.measure_at else None
                yield self._refs[job_id], job.state.value, slot, job.channel, measure, published or slot

    def due_page(self, after: float, limit: int) -> tuple[list[tuple[float, int]], float]:
        entries = []
        for job_id, job in self._jobs.items():
            ref = self._refs[job_id]
            for signed in (ref, -ref):
                at = due_instant(job, signed)
                if at is not None and at >= after:
                    entries.append((at, signed))
        return page_of(sorted(entries), limit)

    def occupied(self, channel: str) -> list[float]:
        return [
            at
            for j in self._jobs.values()
            if j.channel == channel and (at := occupied_instant(j)) is not None
        ]

    def count(self) -> int:
        return len(self._jobs)

    def count_by_state(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for job in self._jobs.values():
            key = (job.channel, job.state.value)
            out[key] = out.get(key, 0) + 1
        return out

"""The checkpoint of the plan's local store: which changelog offsets the store file reflects.

As a Kafka Streams state store keeps a checkpoint beside it, the SQLite job store keeps one, in a
table of the same file (``SqliteJobStore.claims``): for each owned partition of ``schedule.jobs``
and ``schedule.channels``, the next offset the store has not seen. A worker whose checkpoint
matches the broker's logs replays only the tail after it; anything else means a full restore of
that partition.

What the checkpoint may claim, and when it changes (``restore.Restorer``):

- It only ever claims offsets whose records the store holds, and the store holds nothing the
  changelog lacks. The plan writes its records into the store before the broker acknowledges
  them, so each planner step is one SQLite transaction: its rows, its channel snapshots and the
  claims they advance commit together, and only after the Kafka transaction holding the same
  records has committed. A process killed at any point leaves a committed pair (the rows and
  the claims of the last step that finished, or of none) and its next start is warm. A step
  advances a partition's claim to just after its own last record only when its first record
  follows the previous claim (one offset after it: the previous transaction's commit marker);
  a record anyone else wrote in between stops the claim there, and the tail replays it.
- A restore claims the logs' ends it read to, after writing their records; a clean stop copies
  the tail up to the logs' end and claims that. A partition dropped from the store loses its
  claims in the same transaction; a plan write made outside a step withdraws every claim.
- A store that holds some records after its claim is safe: replaying a record is an
  upsert of the job's (or channel's) whole latest value by its key, and the tail is replayed in
  offset order, so each key ends at its last value in the log whatever subset of the tail the
  store held before. Compaction keeps that true: it only removes a record that a later record of
  the same key supersedes, and that later one is replayed too. The one exception is harmless: a
  tombstone (a finished job forgotten, ``retention.py``) is itself removed ``delete.retention.ms``
  (a day) after compaction, so a store whose checkpoint is older than that may keep the row of
  a job the log forgot. That row is a finished job past its retention, so the next retention
  sweep forgets it again and writes a new tombstone; until then it only answers a late outcome
  or a redelivered approval as the plan did before it forgot the job.

Rules (``resume_point``): no checkpoint, another layout version, another store file, a partition
it does not name, a log end before the checkpoint (the topic was recreated or truncated) or a log
start after it (records it never saw were deleted) mean a full restore of that partition. A
partition another worker owned meanwhile needs no rule of its own: its writes are all after our
checkpoint, in the tail; so a rebalance that hands a worker back its partitions keeps their rows.

Errors: none; a checkpoint that does not match is a reason for a full restore, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TopicOffsets = dict[tuple[str, int], int]
"""(topic, partition) -> next offset."""


@dataclass(frozen=True)
class Checkpoint:
    layout: int
    store_id: str
    offsets: TopicOffsets = field(default_factory=dict)


@dataclass(frozen=True)
class LogBounds:
    """A changelog partition's log start offset and end offset (the next offset to be written)."""

    start: int
    end: int


@dataclass(frozen=True)
class ResumePoint:
    """Where one partition's changelogs are replayed from: a tail, or everything and why."""

    offsets: dict[str, int]  # topic -> first offset to replay
    full_reason: str | None = None  # None: the store holds everything before ``offsets``

    @property
    def warm(self) -> bool:
        return self.full_reason is None


def resume_point(
    checkpoint: Checkpoint | None,
    *,
    layout: int,
    store_id: str,
    partition: int,
    bounds: dict[str, LogBounds],
) -> ResumePoint:
    """Where to replay ``partition`` of each changelog topic in ``bounds`` from."""
    full = {topic: b.start for topic, b in bounds.items()}

    def cold(reason: str) -> ResumePoint:
        return ResumePoint(full, f"partition {partition}: {reason}")

    if checkpoint is None:
        return cold("no checkpoint")
    if checkpoint.layout != layout:
        return cold(f"checkpoint of store layout {checkpoint.layout}, this store is layout {layout}")
    if checkpoint.store_id != store_id:
        return cold("checkpoint of another store file")
    offsets: dict[str, int] = {}
    for topic, b in bounds.items():
        at = checkpoint.offsets.get((topic, partition))
        if at is None:
            return cold(f"{topic} not in the checkpoint")
        if at > b.end:
            return cold(f"{topic} ends at {b.end}, before the checkpoint {at} (recreated or truncated)")
        if b.start > at:
            return cold(f"{topic} starts at {b.start}, after the checkpoint {at} (records deleted)")
        offsets[topic] = at
    return ResumePoint(offsets)

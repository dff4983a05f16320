"""The checkpoint of the plan's local store: which changelog offsets the store file on disk reflects.

As a Kafka Streams state store keeps a checkpoint file beside it, the SQLite job store keeps one:
for each owned partition of ``schedule.jobs`` and ``schedule.channels``, the next offset the store
has not seen. A worker that finds a checkpoint matching its store file and the broker's logs
replays only the tail after it; anything else means a full restore of that partition.

What the checkpoint may claim, and when it is written:

- It only ever claims offsets whose records the store holds. It is written after the store's
  commit and an fsync of the file, and only at a clean point: when the planner stopped normally,
  every plan write it made is acknowledged, and the tail up to the logs' end has been copied into
  the store (so the claim is true by construction, whoever wrote the tail).
- The plan writes its records into the store *before* the broker acknowledges them. So the first
  such write (or a dropped partition) discards the checkpoint file, durably, before anything else
  changes: a store that may hold a write the changelog never got has no checkpoint, and the next
  start restores in full.
- A crash between a store commit and the checkpoint's write leaves an older checkpoint beside a
  store that already holds some of the records after it. That is safe: replaying a record is an
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
checkpoint, in the tail. One revoked while this process runs loses its rows and the checkpoint.

Errors: an unreadable checkpoint file is treated as no checkpoint (logged), never raised.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("warta.scheduler.checkpoint")

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


class CheckpointFile:
    """The checkpoint beside the store file, replaced atomically (write, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Checkpoint | None:
        try:
            raw = json.loads(self.path.read_bytes())
            return Checkpoint(
                layout=int(raw["layout"]),
                store_id=str(raw["store_id"]),
                offsets={(str(t), int(p)): int(o) for t, p, o in raw["offsets"]},
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable checkpoint %s: %r", self.path, exc)
            return None

    def write(self, checkpoint: Checkpoint) -> None:
        body = {
            "layout": checkpoint.layout,
            "store_id": checkpoint.store_id,
            "offsets": sorted([t, p, o] for (t, p), o in checkpoint.offsets.items()),
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(json.dumps(body).encode())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        _sync_dir(self.path.parent)

    def discard(self) -> None:
        """Remove the checkpoint, durably: called before the store holds anything it cannot claim."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return
        _sync_dir(self.path.parent)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

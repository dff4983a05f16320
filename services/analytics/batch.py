"""Folds a batch of events from one source partition into the table with one write per key
(pure: the table is any mapping, its writes go through ``Writer``).

Why batches. Each table write in the worker is a changelog record: folding event by event,
one reading wrote its post and each of its buckets (about ten records), and a burst spent its
time sending them. Within a batch the events are applied to an overlay (``Overlay``) exactly as
one by one (``ledger.apply``, with its guards), and each key the batch changed is written once.

Why a journal. A crash may keep only a prefix of a batch's writes (one changelog partition per
source partition, written in order), and the offsets faust commits never pass an event whose
batch did not land whole. The batch's writes therefore go first into the journal, ``wal|<p>|<i>``
(several parts when large, each naming the batch and the part count), then to their keys; the
next batch on the partition first writes again whatever of the last journal its keys lack
(``redo``). A journal cut short was never followed by a key write, so it is ignored. Every
batch is thus taken in whole or not at all, and the ledger's per-event guards make the events
read again after the crash count once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import orjson

# A journal part stays well under a Kafka record's default limit (1 MB, producer and topic).
PART_BYTES = 256 * 1024
_MISSING = object()


# Writes one key of the table (and its changelog record) in the batch's partition.
Writer = Callable[[str, Any], None]


class Overlay(MutableMapping[str, Any]):
    """The table as a batch sees it: its own writes over the table's values, kept until flushed."""

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.base = base
        self.dirty: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.dirty:
            return self.dirty[key]
        value = self.base.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        # The ledger reads by ``get`` several times per event, through an overlay per event over
        # the batch's: the mapping mixin's ``get`` would go through ``__getitem__`` and KeyError.
        value = self.dirty.get(key, _MISSING)
        if value is _MISSING:
            return self.base.get(key, default)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.dirty[key] = value

    def __delitem__(self, key: str) -> None:
        raise TypeError("the analytics table never deletes a key")

    def __iter__(self) -> Iterator[str]:
        return iter(self.dirty)  # what the batch changed; the ledger only reads by key

    def __len__(self) -> int:
        return len(self.dirty)

    def attempt(self, change: Callable[[MutableMapping[str, Any]], bool]) -> bool:
        """Run ``change`` on a layer of its own, kept only if it returns: an event that raises
        half-way leaves nothing behind (it goes to the dead letters, the batch goes on)."""
        layer = Overlay(self)
        changed = change(layer)
        self.dirty.update(layer.dirty)
        return changed


def journal_key(partition: int, part: int) -> str:
    return f"wal|{partition}|{part}"


def flush(overlay: Overlay, partition: int, batch_id: str, write: Writer) -> int:
    """Write the batch's journal, then each changed key once; the number of table writes."""
    if not overlay.dirty:
        return 0
    parts = _parts(overlay.dirty)
    for index, part in enumerate(parts):
        write(journal_key(partition, index), {"b": batch_id, "n": len(parts), "w": part})
    for key, value in overlay.dirty.items():
        write(key, value)
    return len(parts) + len(overlay.dirty)


def redo(table: Mapping[str, Any], partition: int, write: Writer) -> int:
    """Finish the partition's last batch if a crash cut its key writes short; the keys written."""
    first = table.get(journal_key(partition, 0))
    if not first:
        return 0
    parts = [first] + [table.get(journal_key(partition, i)) for i in range(1, first["n"])]
    if any(not part or part["b"] != first["b"] for part in parts):
        return 0  # cut short while the journal was written: none of its keys were
    done = 0
    for part in parts:
        for key, value in part["w"].items():
            if table.get(key) != value:
                write(key, value)
                done += 1
    return done


def _parts(dirty: Mapping[str, Any]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{}]
    size = 0
    for key, value in dirty.items():
        entry = len(key) + len(orjson.dumps(value))
        if size + entry > PART_BYTES and parts[-1]:
            parts.append({})
            size = 0
        parts[-1][key] = value
        size += entry
    return parts

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

Why a bound on an entry. Each key is one changelog record, and Kafka refuses a record over its
limit (1 MB by default): an entry that grew past it could never land, the batch would fail at
every restart, and nothing behind it would be folded. No entry may therefore grow past
``ENTRY_LIMIT_BYTES``; an event that would make one do so is refused (``EntryTooLarge``) and
dead-lettered like any record the fold cannot take in, and the rest of its batch goes on
(``fold``).

Errors: ``EntryTooLarge`` (a ``ValueError``: the record's fault, never the broker's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from functools import partial
from typing import Any, TypeVar

import orjson

# A journal part stays well under a Kafka record's default limit (1 MB, producer and topic).
PART_BYTES = 256 * 1024
# The most one table entry may take as a changelog record (its key and value, as the table's
# json codec writes them: orjson, what ``entry_bytes`` measures). Half of Kafka's default
# record limit (1 MB: the broker's message.max.bytes, a topic's max.message.bytes, the
# producer's max_request_size), so a journal part holding one such entry, with its few bytes of
# framing, fits too. A real entry is a few kB at most (docs/analytics.md, "Limits").
ENTRY_LIMIT_BYTES = 512 * 1024
_MISSING = object()

E = TypeVar("E")


# Writes one key of the table (and its changelog record) in the batch's partition.
Writer = Callable[[str, Any], None]
# What taking one event in did: changed the table or not, or the exception it raised.
Outcome = bool | Exception


class EntryTooLarge(ValueError):
    """An event would make a table entry larger than a changelog record may be."""

    def __init__(self, key: str, size: int) -> None:
        super().__init__(
            f"the event would make the analytics entry {key[:120]!r} {size:,} bytes,"
            f" over the limit of {ENTRY_LIMIT_BYTES:,} bytes one entry may take in the changelog"
        )


def entry_bytes(key: str, value: Any) -> int:
    """The size of ``key`` and ``value`` as one changelog record carries them (about)."""
    return len(key) + len(orjson.dumps(value))


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

    def attempt(self, change: Callable[[MutableMapping[str, Any]], bool], *, measured: bool = False) -> bool:
        """Run ``change`` on a layer of its own, kept only if it returns: an event that raises
        half-way leaves nothing behind (it goes to the dead letters, the batch goes on).
        ``measured``: an entry it writes over ``ENTRY_LIMIT_BYTES`` makes it raise
        ``EntryTooLarge``, and leave nothing, too."""
        layer = Overlay(self)
        changed = change(layer)
        if measured:
            for key, value in layer.dirty.items():
                size = entry_bytes(key, value)
                if size > ENTRY_LIMIT_BYTES:
                    raise EntryTooLarge(key, size)
        self.dirty.update(layer.dirty)
        return changed


def journal_key(partition: int, part: int) -> str:
    return f"wal|{partition}|{part}"


def fold(
    base: Mapping[str, Any],
    events: Sequence[E],
    change: Callable[[E, MutableMapping[str, Any]], bool],
    partition: int,
    batch_id: str,
    write: Writer,
) -> list[Outcome]:
    """Take ``events`` (one source partition's, in order) into ``base`` with ``change`` and
    ``flush`` them; each event's outcome. An event that raises leaves nothing behind, and its
    exception is its outcome: the caller dead-letters it.

    Every changed entry is measured when the journal is split (``_parts``), which costs nothing
    more. Only if one is over ``ENTRY_LIMIT_BYTES`` is the batch folded again from ``base``,
    each event's writes measured as it is taken in: the events that would make an entry too
    large are refused (``EntryTooLarge``) and the others taken in, so the batch lands."""
    overlay, outcomes = _applied(base, events, change, measured=False)
    try:
        parts = _parts(overlay.dirty)
    except EntryTooLarge:
        overlay, outcomes = _applied(base, events, change, measured=True)
        parts = _parts(overlay.dirty)
    _write(overlay, parts, partition, batch_id, write)
    return outcomes


def _applied(
    base: Mapping[str, Any],
    events: Sequence[E],
    change: Callable[[E, MutableMapping[str, Any]], bool],
    *,
    measured: bool,
) -> tuple[Overlay, list[Outcome]]:
    overlay = Overlay(base)
    outcomes: list[Outcome] = []
    for event in events:
        try:
            outcomes.append(overlay.attempt(partial(change, event), measured=measured))
        except Exception as exc:  # the event's own fault: the caller dead-letters it
            outcomes.append(exc)
    return overlay, outcomes


def flush(overlay: Overlay, partition: int, batch_id: str, write: Writer) -> int:
    """Write the batch's journal, then each changed key once; the number of table writes.
    ``EntryTooLarge``, before any write, if an entry is over ``ENTRY_LIMIT_BYTES``."""
    return _write(overlay, _parts(overlay.dirty), partition, batch_id, write)


def _write(
    overlay: Overlay, parts: list[dict[str, Any]], partition: int, batch_id: str, write: Writer
) -> int:
    if not overlay.dirty:
        return 0
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
        entry = entry_bytes(key, value)
        if entry > ENTRY_LIMIT_BYTES:
            raise EntryTooLarge(key, entry)
        if size + entry > PART_BYTES and parts[-1]:
            parts.append({})
            size = 0
        parts[-1][key] = value
        size += entry
    return parts

"""Folding in batches (one write per key, journal first) gives the figures of the brute-force
recomputation, also when a crash cuts a batch's writes anywhere and the events are read again
in other batches and another order.

The streams, their source partitions and the recomputation are the ones of
test_analytics_figures; here each run of the fold takes the interleaved records in batches of
random sizes, and a batch's records of one source partition are written to that partition's
changelog, as the worker does.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics import batch
from services.analytics.batch import Overlay, flush, redo
from services.analytics.ledger import Position, apply
from tests.unit.test_analytics_figures import (
    ZONES,
    Changelog,
    Event,
    assert_figures_match,
    interleave,
    sources,
    streams,
)


def fold_batches(
    store: Changelog, records: Iterable[tuple[Event, Position]], rnd: random.Random, batch_ids: Iterable[str]
) -> dict[tuple[str, int, int], int]:
    """Fold ``records`` in batches of random sizes; each record's position -> the index, in its
    partition's changelog, of the last write of its batch."""
    pending = list(records)
    ids = iter(batch_ids)
    landed: dict[tuple[str, int, int], int] = {}
    while pending:
        size = rnd.randint(1, 6)
        taken, pending = pending[:size], pending[size:]
        for partition in sorted({at.partition for _, at in taken}):
            store.partition = partition

            def write(key: str, value: Any) -> None:
                store[key] = value

            redo(store, partition, write)
            overlay = Overlay(store)
            group = [(event, at) for event, at in taken if at.partition == partition]
            for event, at in group:
                overlay.attempt(partial(applied, event=event, at=at))
            flush(overlay, partition, next(ids), write)
            for _, at in group:
                landed[(at.source, at.partition, at.offset)] = len(store.writes[partition])
    return landed


def applied(store: Any, *, event: Event, at: Position) -> bool:
    return apply(store, event, at, ZONES)


def batch_names(prefix: str) -> Iterable[str]:
    n = 0
    while True:
        n += 1
        yield f"{prefix}{n}"


@settings(max_examples=80, deadline=None)
@given(streams(), st.randoms(use_true_random=False))
def test_batched_figures_equal_the_recomputation(events: list[Event], rnd: random.Random) -> None:
    store = Changelog()
    fold_batches(store, interleave(sources(events, rnd), {}, rnd), rnd, batch_names("a"))
    assert_figures_match(store, events)


@pytest.mark.parametrize("part_bytes", [batch.PART_BYTES, 200])
def test_batched_figures_survive_a_crash_at_any_write(
    part_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second case splits every journal into many parts, so crashes land between them too."""
    monkeypatch.setattr(batch, "PART_BYTES", part_bytes)
    crash_anywhere()


@settings(max_examples=100, deadline=None)
@given(streams(), st.randoms(use_true_random=False), st.data())
def crash_anywhere(events: list[Event], rnd: random.Random, data: st.DataObject) -> None:
    logs = sources(events, rnd)
    store = Changelog()
    landed = fold_batches(store, interleave(logs, {}, rnd), rnd, batch_names("a"))
    cut = {p: data.draw(st.integers(0, len(w))) for p, w in store.writes.items()}
    restored = Changelog()
    for p, writes in store.writes.items():
        for key, value in writes[: cut[p]]:
            restored.partition = p
            restored[key] = value
    committed = {}
    for (source, p), log in logs.items():
        durable = 0
        while durable < len(log) and landed[(source, p, durable)] <= cut.get(p, 0):
            durable += 1
        committed[(source, p)] = data.draw(st.integers(0, durable))
    fold_batches(restored, interleave(logs, committed, rnd), rnd, batch_names("b"))
    assert_figures_match(restored, events)


def test_an_event_that_raises_half_way_leaves_nothing_in_the_batch() -> None:
    overlay = Overlay({"kept": 1})

    def half_way(store: Any) -> bool:
        store["half"] = 1
        raise KeyError("a malformed entry")

    with pytest.raises(KeyError):
        overlay.attempt(half_way)
    assert overlay.attempt(lambda store: store.__setitem__("whole", store["kept"] + 1) or True)
    assert overlay.dirty == {"whole": 2}


def test_a_journal_cut_short_is_not_redone() -> None:
    table: dict[str, Any] = {
        "wal|0|0": {"b": "new", "n": 2, "w": {"k1": 1}},
        "wal|0|1": {"b": "old", "n": 1, "w": {"k2": 2}},
        "k1": 0,
    }
    writes: list[tuple[str, Any]] = []
    assert redo(table, 0, lambda k, v: writes.append((k, v))) == 0
    assert writes == []
    table["wal|0|1"] = {"b": "new", "n": 2, "w": {"k2": 2}}
    assert redo(table, 0, lambda k, v: writes.append((k, v))) == 2
    assert writes == [("k1", 1), ("k2", 2)]

"""No record, however many of them, makes a table entry too large for its changelog record.

Each entry of the analytics table is one record of the table's changelog, and Kafka refuses a
record over its limit (1 MB by default): an entry past it could never land, and the worker would
meet the same batch at every restart. Two bounds keep every entry under it:

- an item takes in ``ledger.MAX_JOBS_PER_ITEM`` jobs; a reading or an outcome of one more is
  refused (``TooManyJobs``), and the rest of its batch is taken in;
- whatever else an event would make too large (``batch.ENTRY_LIMIT_BYTES``) is refused by the
  fold (``EntryTooLarge``), the other events of its batch taken in as if it had never come.

Both are the record's fault for the dead letters, never the broker's.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import pytest

from services.analytics import batch
from services.analytics.batch import (
    ENTRY_LIMIT_BYTES,
    EntryTooLarge,
    Outcome,
    Overlay,
    entry_bytes,
    flush,
    fold,
)
from services.analytics.ledger import MAX_JOBS_PER_ITEM, Position, TooManyJobs, apply
from shared.dead_letters import is_infrastructure
from shared.events import EngagementObserved, OutcomeStatus, PublishOutcome
from tests.unit.test_analytics_figures import T0, ZONES

KAFKA_RECORD_LIMIT = 1024 * 1024  # Kafka's default (producer, broker, topic)


def reading(n: int, content_id: str = "c1", job_length: int = 200) -> EngagementObserved:
    """A valid reading of a job of ``content_id`` of its own, the job id as long as allowed."""
    job_id = f"{n:06d}-".ljust(job_length, "j")
    return EngagementObserved(
        event_id=f"e{n}",
        occurred_at=T0 + timedelta(hours=1),
        job_id=job_id,
        content_id=content_id,
        channel="ig",
        platform="instagram",
        published_at=T0,
        horizon_minutes=60,
        reactions=1,
        comments=0,
        shares=0,
    )


def published(job_id: str, content_id: str) -> PublishOutcome:
    return PublishOutcome(
        event_id=f"o-{job_id}",
        occurred_at=T0,
        job_id=job_id,
        content_id=content_id,
        channel="ig",
        platform="instagram",
        attempt=1,
        status=OutcomeStatus.PUBLISHED,
    )


def take_in(item: tuple[object, Position], store: MutableMapping[str, Any]) -> bool:
    event, at = item
    return apply(store, event, at, ZONES)


def positioned(events: list[Any], first: int = 0) -> list[tuple[object, Position]]:
    return [(e, Position("engagement", 0, offset)) for offset, e in enumerate(events, first)]


def folded(
    store: dict[str, Any], events: list[Any], first: int = 0
) -> tuple[list[Outcome], list[tuple[str, Any]]]:
    """``events``, read from offset ``first`` on, folded as one batch into ``store``; their
    outcomes and the changelog writes."""
    writes: list[tuple[str, Any]] = []

    def write(key: str, value: Any) -> None:
        writes.append((key, value))
        store[key] = value

    return fold(store, positioned(events, first), take_in, 0, "b1", write), writes


def test_one_item_takes_in_its_bound_of_jobs_and_refuses_the_next_one() -> None:
    store: dict[str, Any] = {}
    outcomes, _ = folded(store, [reading(n) for n in range(MAX_JOBS_PER_ITEM + 1)])
    assert outcomes[:-1] == [True] * MAX_JOBS_PER_ITEM
    assert isinstance(outcomes[-1], TooManyJobs)
    assert "1,000 jobs" in str(outcomes[-1])
    assert "'c1'" in str(outcomes[-1])
    assert len(store["item|c1"]["jobs"]) == MAX_JOBS_PER_ITEM
    assert f"post|{reading(MAX_JOBS_PER_ITEM).job_id}" not in store  # refused whole
    # A job the item has is still counted, and so is another item's.
    later = reading(0).model_copy(update={"horizon_minutes": 360, "reactions": 5})
    outcomes, _ = folded(store, [later, reading(5_000, content_id="c2")], first=MAX_JOBS_PER_ITEM + 1)
    assert outcomes == [True, True]


def test_the_bound_of_jobs_keeps_an_item_far_under_a_changelog_record() -> None:
    """The reproduction: thousands of valid readings, each naming a new job of one item, the
    job ids as long as an identifier may be, grew the item's entry past 1 MB."""
    store: dict[str, Any] = {}
    outcomes, writes = folded(store, [reading(n) for n in range(6_000)])
    assert sum(outcome is True for outcome in outcomes) == MAX_JOBS_PER_ITEM
    assert all(isinstance(o, TooManyJobs) for o in outcomes[MAX_JOBS_PER_ITEM:])
    largest = max(entry_bytes(key, value) for key, value in writes)
    assert largest <= ENTRY_LIMIT_BYTES < KAFKA_RECORD_LIMIT
    assert entry_bytes("item|c1", store["item|c1"]) < ENTRY_LIMIT_BYTES // 2


def test_an_event_that_would_make_any_entry_too_large_is_refused_and_the_batch_lands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second bound, whatever the entry: here an item's list of jobs, with the limit of an
    entry lowered so that a few jobs reach it."""
    monkeypatch.setattr(batch, "ENTRY_LIMIT_BYTES", 2_000)
    events = [reading(n, job_length=100) for n in range(40)] + [reading(99, content_id="c2")]
    store: dict[str, Any] = {}
    outcomes, writes = folded(store, events)
    refused = [i for i, o in enumerate(outcomes) if isinstance(o, EntryTooLarge)]
    assert refused
    assert refused == list(range(refused[0], 40))
    assert "item|c1" in str(outcomes[refused[0]])
    assert outcomes[-1] is True  # another item's reading, after them, taken in
    assert all(entry_bytes(key, value) <= 2_000 for key, value in writes if not key.startswith("wal|"))
    # What landed is what the events taken in give, folded without the refused ones.
    kept = [item for item, o in zip(positioned(events), outcomes, strict=True) if o is True]
    alone: dict[str, Any] = {}
    assert fold(alone, kept, take_in, 0, "b1", alone.__setitem__) == [True] * len(kept)
    assert _keys(store) == _keys(alone)


def _keys(table: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in table.items() if not k.startswith("wal|")}


def test_a_batch_whose_entries_all_fit_is_folded_once() -> None:
    calls: list[str] = []

    def change(key: str, store: MutableMapping[str, Any]) -> bool:
        calls.append(key)
        store[key] = "x" * 100
        return True

    table: dict[str, Any] = {}
    assert fold(table, ["a", "b"], change, 0, "b1", table.__setitem__) == [True, True]
    assert calls == ["a", "b"]


def test_an_oversized_entry_is_never_written() -> None:
    overlay = Overlay({})
    overlay["huge"] = "x" * ENTRY_LIMIT_BYTES
    written: list[str] = []
    with pytest.raises(EntryTooLarge, match="'huge'"):
        flush(overlay, 0, "b1", lambda key, _: written.append(key))
    assert written == []


def test_an_event_that_raises_is_its_own_outcome_and_leaves_nothing() -> None:
    def change(n: int, store: MutableMapping[str, Any]) -> bool:
        store[f"k{n}"] = n
        if n == 1:
            raise KeyError("a malformed entry")
        return True

    table: dict[str, Any] = {}
    outcomes = fold(table, [0, 1, 2], change, 0, "b1", table.__setitem__)
    assert outcomes[0] is True
    assert outcomes[2] is True
    assert isinstance(outcomes[1], KeyError)
    assert "k1" not in table
    assert table["k0"] == 0
    assert table["k2"] == 2


def test_a_published_outcome_of_one_job_too_many_is_refused_too() -> None:
    store: dict[str, Any] = {}
    folded(store, [reading(n) for n in range(MAX_JOBS_PER_ITEM)])
    outcome = published("c1:ig", "c1")
    store_before = dict(store)
    outcomes, _ = folded(store, [outcome], first=MAX_JOBS_PER_ITEM)
    assert isinstance(outcomes[0], TooManyJobs)
    assert _keys(store) == _keys(store_before)


def test_the_bounds_are_the_records_fault_not_the_brokers() -> None:
    assert not is_infrastructure(TooManyJobs("c1", "c1:ig"))
    assert not is_infrastructure(EntryTooLarge("item|c1", ENTRY_LIMIT_BYTES + 1))

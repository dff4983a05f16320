"""A fetch that a rebalance started under (services/analytics/fold_consumer.py), without a broker.

faust hands aiokafka its own set of active partitions, which a revocation empties while the
fetch waits; aiokafka then takes in the records of every partition, and faust's ``getmany``
drops them, its flow stopped or its generation changed, with aiokafka's positions past them.
A table recovery that had just sought its changelog partitions then waited for records already
taken, for good. Here the broker's side of the consumer thread is a stand-in that answers the
fetch after running what happened while it waited; faust's own ``getmany`` and revocation
steps run around it. That the put-back really seeks aiokafka back is
tests/integration/test_analytics_put_back.py's question.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, cast

import pytest
from faust.types import TP

from services.analytics.fold_consumer import FoldingConsumer, ReadCommittedThread
from tests.unit.test_analytics_fold_consumer import OTHER, TOPIC, _close, _Folds, _offline_consumer, _records

CHANGELOG = TP(OTHER, 1)
SOURCE = TP(TOPIC, 0)


class _Broker(ReadCommittedThread):
    """The consumer thread, the broker's side answered here: a fetch returns, after ``meanwhile``
    ran (what the worker did while the fetch waited), the records of ``fetched`` aiokafka's
    fetcher would drain for the live set (``if partitions and tp not in partitions``: an empty
    set is every partition). What is put back is kept, and read again by the next fetch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetched: dict[TP, Any] = {}
        self.meanwhile: Callable[[], None] = lambda: None
        self.put_backs: list[dict[TP, tuple[int, int]]] = []

    async def getmany(self, active_partitions: Any, timeout: float) -> Any:
        self.meanwhile()
        self.meanwhile = lambda: None
        live = active_partitions
        drained = {tp: rs for tp, rs in self.fetched.items() if not live or tp in live}
        self.fetched = {tp: rs for tp, rs in self.fetched.items() if tp not in drained}
        return drained

    async def put_back(self, fetched: Mapping[TP, tuple[int, int]]) -> None:
        self.put_backs.append(dict(fetched))
        for tp, (first, last) in fetched.items():
            again = _records(tp, range(first, last + 1))
            self.fetched[tp] = again + self.fetched.get(tp, [])


@pytest.fixture
async def folds() -> _Folds:
    return _Folds()


@pytest.fixture
async def consumer(folds: _Folds) -> AsyncIterator[FoldingConsumer]:
    made = await _offline_consumer(folds)
    offline_thread = made._thread
    made._thread = _Broker(made, loop=made.loop, beacon=made.beacon)
    made._thread.fetched = {CHANGELOG: _records(CHANGELOG, [5, 6, 7]), SOURCE: _records(SOURCE, [3, 4])}
    yield made
    _close(made)
    offline_thread.thread_loop.close()


def _broker(consumer: FoldingConsumer) -> _Broker:
    return cast(_Broker, consumer._thread)


async def _handed_on(consumer: FoldingConsumer) -> list[tuple[TP, int]]:
    """What faust's getmany yields of one fetch (the changelog's records, for the recovery)."""
    return [(tp, message.offset) async for tp, message in consumer.getmany(timeout=1.0)]


# What the stand-in's fetch gives, every partition active: the changelog's to getmany's caller,
# the source's to the fold.
READ_AGAIN = ([(CHANGELOG, 5), (CHANGELOG, 6), (CHANGELOG, 7)], [{SOURCE: [3, 4]}])


def _folded(folds: _Folds) -> list[dict[TP, list[int]]]:
    return [{tp: [r.offset for r in rs] for tp, rs in b.items()} for b in folds.batches]


async def _read_again(consumer: FoldingConsumer, folds: _Folds) -> tuple[list[tuple[TP, int]], list[Any]]:
    """What the next fetch hands on, every partition active again: changelog records to faust's
    getmany's caller, source records to the fold."""
    consumer.resume_partitions({CHANGELOG, SOURCE})
    consumer.resume_flow()
    folds.batches.clear()
    return await _handed_on(consumer), _folded(folds)


@pytest.mark.parametrize("then", ["revoked", "revoked, assigned, recovering"])
async def test_a_fetch_a_rebalance_started_under_is_put_back_not_dropped(
    consumer: FoldingConsumer, folds: _Folds, then: str
) -> None:
    """In the first case faust drops the fetch (its flow stopped), so without the put-back the
    records are lost. In the second faust reads the generation after the fetch, so it would hand
    the changelog records on to the recovery, which skips offsets it already has: that case
    loses nothing either way and shows only that the new generation reads them again. faust's
    own seek when its flow is stopped fails here (no Kafka consumer: ConsumerNotStarted, which
    faust logs only); nothing below depends on it."""
    consumer.resume_partitions({SOURCE})

    def rebalance() -> None:
        # faust's revocation: the flow stopped, every assigned partition paused (the active set
        # is emptied: what aiokafka reads as every partition).
        consumer.stop_flow()
        consumer.pause_partitions({CHANGELOG, SOURCE})
        if then != "revoked":
            # The new assignment's generation, and the recovery resuming its changelog partition.
            consumer.app.consumer_generation_id += 1
            consumer.resume_partitions({CHANGELOG})
            consumer.resume_flow()

    _broker(consumer).meanwhile = rebalance
    assert await _handed_on(consumer) == []
    assert folds.batches == []
    # The records came while the recovery's changelog partition was the one active: aiokafka
    # took that one only, and the source's stay to be fetched.
    taken = {CHANGELOG: (5, 7), SOURCE: (3, 4)} if then == "revoked" else {CHANGELOG: (5, 7)}
    assert _broker(consumer).put_backs == [taken]
    assert await _read_again(consumer, folds) == READ_AGAIN


async def test_a_fetch_the_same_generation_leaves_out_is_put_back(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    """The flow active, the generation unchanged, the live active set emptied while the fetch
    waited (faust pauses the changelog partitions after a recovery, before it resumes the
    sources): aiokafka takes in every partition, and faust's getmany would skip all of it
    with aiokafka's positions past it. Without a committed offset nothing brings them back."""
    consumer.resume_partitions({SOURCE})
    consumer.resume_flow()
    _broker(consumer).meanwhile = lambda: consumer.pause_partitions({SOURCE})
    assert await _handed_on(consumer) == []
    assert folds.batches == []
    assert _broker(consumer).put_backs == [{CHANGELOG: (5, 7), SOURCE: (3, 4)}]
    assert await _read_again(consumer, folds) == READ_AGAIN


async def test_the_batches_after_one_refused_mid_fetch_are_put_back(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    """A fetch larger than one fold batch (7 records here): the source partition paused while
    the first batch is folded, the rest of the fetch is put back from its first record not
    handed on, and read again once the partition is resumed."""
    _broker(consumer).fetched = {SOURCE: _records(SOURCE, range(10))}
    consumer.resume_partitions({SOURCE})
    consumer.resume_flow()
    folds.release.clear()
    reading = asyncio.ensure_future(_handed_on(consumer))
    await folds.started.wait()
    consumer.pause_partitions({SOURCE})
    folds.release.set()
    assert await reading == []
    assert _folded(folds) == [{SOURCE: [0, 1, 2, 3, 4, 5, 6]}]
    assert _broker(consumer).put_backs == [{SOURCE: (7, 9)}]
    assert await _read_again(consumer, folds) == ([], [{SOURCE: [7, 8, 9]}])


async def test_a_fetch_within_one_generation_is_handed_on_and_nothing_put_back(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    consumer.resume_partitions({SOURCE, CHANGELOG})
    consumer.resume_flow()
    assert await _handed_on(consumer) == [(CHANGELOG, 5), (CHANGELOG, 6), (CHANGELOG, 7)]
    assert _folded(folds) == [{SOURCE: [3, 4]}]
    assert _broker(consumer).put_backs == []


async def test_a_fetch_while_stopping_is_left_to_the_stop(consumer: FoldingConsumer) -> None:
    # Nothing is read after a stop: faust commits what was acked, and no seek is sent to a
    # consumer thread on its way out.
    consumer.resume_partitions({SOURCE, CHANGELOG})

    def stop() -> None:
        consumer.stop_flow()
        consumer._stopped.set()

    _broker(consumer).meanwhile = stop
    assert await _handed_on(consumer) == []
    assert _broker(consumer).put_backs == []

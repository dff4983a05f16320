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

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, cast

import pytest
from faust.types import TP

from services.analytics.fold_consumer import FoldingConsumer, ReadCommittedThread
from tests.unit.test_analytics_fold_consumer import OTHER, TOPIC, _close, _Folds, _offline_consumer, _records

CHANGELOG = TP(OTHER, 1)
SOURCE = TP(TOPIC, 0)


class _Broker(ReadCommittedThread):
    """The consumer thread, the broker's side answered here: a fetch returns ``fetched`` after
    ``meanwhile`` ran (what the worker did while the fetch waited); what is put back is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fetched: dict[TP, Any] = {}
        self.meanwhile: Callable[[], None] = lambda: None
        self.put_backs: list[dict[TP, tuple[int, int]]] = []

    async def getmany(self, active_partitions: Any, timeout: float) -> Any:
        self.meanwhile()
        return self.fetched

    async def put_back(self, fetched: Mapping[TP, tuple[int, int]]) -> None:
        self.put_backs.append(dict(fetched))


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


@pytest.mark.parametrize("then", ["revoked", "revoked, assigned, recovering"])
async def test_a_fetch_a_rebalance_started_under_is_put_back_not_dropped(
    consumer: FoldingConsumer, folds: _Folds, then: str
) -> None:
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
    assert _broker(consumer).put_backs == [{CHANGELOG: (5, 7), SOURCE: (3, 4)}]


async def test_a_fetch_within_one_generation_is_handed_on_and_nothing_put_back(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    consumer.resume_partitions({SOURCE, CHANGELOG})
    consumer.resume_flow()
    assert await _handed_on(consumer) == [(CHANGELOG, 5), (CHANGELOG, 6), (CHANGELOG, 7)]
    assert [{tp: [r.offset for r in rs] for tp, rs in b.items()} for b in folds.batches] == [{SOURCE: [3, 4]}]
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

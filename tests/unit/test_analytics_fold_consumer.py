"""The analytics worker's consumer (services/analytics/fold_consumer.py), without a broker.

It leans on faust's private consumer bookkeeping, so the first tests pin faust: the version and
the shape of every name it overrides or reads, failing loudly when an upgrade moves them. The
acks are judged by faust itself: the offsets a batch's acks let faust commit (faust's own
``_new_offset``) equal those of faust's ``Consumer.ack`` called record by record. The consumer's
only broker read (the partition's end offset, for faust's monitor) is a fixed number here.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, cast

import aiokafka
import faust
import pytest
from aiokafka import ConsumerRecord
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.app import _by_partition, create_app
from services.analytics.fold_consumer import (
    FoldBatch,
    FoldingConsumer,
    FoldRoute,
    ReadCommittedThread,
    _batches,
)
from services.analytics.settings import AnalyticsSettings
from shared.channels import ChannelDirectory

TOPIC = "engagement.observed"
OTHER = "app-figures-changelog"


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_faust_is_the_version_the_consumer_was_written_against() -> None:
    assert faust.__version__ == "0.15.3", "fold_consumer reads faust's private consumer state: re-check it"
    base = faust_aiokafka.Consumer
    assert issubclass(FoldingConsumer, base)
    assert _params(base._wait_next_records) == ["self", "timeout"]
    assert _params(base.wait_empty) == ["self"]
    assert _params(base._add_gap) == ["self", "tp", "offset_from", "offset_to"]
    assert _params(base.commit) == ["self", "topics", "start_new_transaction"]
    assert _params(base.highwater) == ["self", "tp"]
    # faust's getmany reads what our _wait_next_records returns; its drain is what we bypass.
    assert "await self._wait_next_records(timeout)" in inspect.getsource(base.getmany)
    # The fetch we undo when a rebalance started under it, and aiokafka's positions it reads.
    assert _params(base._getmany) == ["self", "active_partitions", "timeout"]
    assert "await self._getmany(" in inspect.getsource(faust_consumer.Consumer._wait_next_records)
    state = aiokafka.consumer.subscription_state
    assert isinstance(state.SubscriptionState.subscription, property)
    assert callable(state.Assignment.state_value)
    assert {"has_valid_position", "position"} <= set(vars(state.TopicPartitionState))
    assert "callback(message)" in inspect.getsource(base._drain_messages)
    # faust's stop and revocation wait for the streams before they commit: where we wait too.
    assert "consumer.wait_empty()" in inspect.getsource(faust.App._consumer_wait_empty)
    assert hasattr(faust_consumer, "ack_lock")
    assert "self.Consumer(" in inspect.getsource(faust_aiokafka.Transport.create_consumer)


async def test_the_consumer_reads_committed_transactions_only(consumer: FoldingConsumer) -> None:
    thread = cast(Any, consumer)._thread
    assert isinstance(thread, ReadCommittedThread)
    made = thread._create_worker_consumer(consumer.transport)
    try:
        assert made._isolation_level == "read_committed"
    finally:
        await made.stop()  # never started: closes its client
    # aiokafka reads the attribute when it starts (so setting it once made is in time) and hands
    # it to the fetcher it makes then, which filters aborted records when it reads committed.
    assert "isolation_level=self._isolation_level" in inspect.getsource(aiokafka.AIOKafkaConsumer.start)
    fetcher_made = inspect.getsource(aiokafka.consumer.fetcher.Fetcher.__init__)
    assert 'isolation_level == "read_committed"' in fetcher_made
    assert "def _create_worker_consumer(" in inspect.getsource(faust_aiokafka.AIOKafkaConsumerThread)


def test_faust_consumer_state_the_acks_write_is_where_it_was(consumer: FoldingConsumer) -> None:
    for name in ("_acked", "_acked_index", "_read_offset", "_committed_offset", "_gap"):
        assert isinstance(getattr(consumer, name), dict), name
    assert consumer._n_acked == 0
    assert consumer._waiting_for_ack is None
    assert consumer._commit_every == 10_000  # faust's broker_commit_every


def test_the_worker_reads_its_source_topics_through_the_folding_consumer(tmp_path: Path) -> None:
    settings = AnalyticsSettings(state_dir=tmp_path)
    app = create_app(settings, ChannelDirectory())
    # faust makes the app's consumer from this class when it starts (pinned above).
    consumer_class = cast(Any, app.transport).Consumer
    assert issubclass(consumer_class, FoldingConsumer)
    topics = settings.topics
    sources = {topics.content_approved, topics.publish_outcomes, topics.engagement_observed}
    assert consumer_class.route.topics == sources | {topics.model_expectations}
    assert consumer_class.route.max_records == settings.analytics_batch_max


def _records(tp: TP, offsets: Sequence[int]) -> list[ConsumerRecord[bytes, bytes]]:
    return [ConsumerRecord(tp.topic, tp.partition, o, 0, 0, b"k", b"v", None, 1, 1, []) for o in offsets]


record_maps = st.dictionaries(
    st.integers(0, 5).map(lambda p: TP(TOPIC, p)),
    st.lists(st.integers(0, 3), min_size=1, max_size=60).map(lambda steps: _offsets(steps)),
    max_size=6,
)


def _offsets(steps: list[int]) -> list[int]:
    """Growing offsets with holes (a step over 1 is a compacted record or a transaction marker)."""
    out, at = [], 0
    for step in steps:
        at += max(step, 1)
        out.append(at)
    return out


@given(record_maps, st.integers(1, 50))
def test_batches_keep_each_partitions_records_in_order_and_within_the_size(
    offsets: dict[TP, list[int]], max_records: int
) -> None:
    fetched = {tp: _records(tp, o) for tp, o in offsets.items()}
    batches = list(_batches(fetched, max_records))
    assert all(0 < sum(map(len, b.values())) <= max_records for b in batches)
    for tp, records in fetched.items():
        assert [r for b in batches for r in b.get(tp, [])] == records


class _Folds:
    """A fold that keeps what it was handed, and can be told to fail or to wait."""

    def __init__(self) -> None:
        self.batches: list[FoldBatch] = []
        self.fail = False
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()

    async def __call__(self, batch: FoldBatch) -> None:
        self.started.set()
        await self.release.wait()
        if self.fail:
            raise RuntimeError("the changelog took no write")
        self.batches.append(batch)


class _Offline(FoldingConsumer):
    """The folding consumer with what it asks the broker answered here: the end offset (a
    number), the assignment (every partition of ``TOPIC``) and the commit (kept)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.broker_commits: dict[TP, int] = {}

    def highwater(self, tp: TP) -> int:
        return 1_000_000

    def assignment(self) -> set[TP]:
        return {TP(TOPIC, p) for p in range(6)}

    async def _commit(self, offsets: Any) -> bool:
        self.broker_commits.update(offsets)
        return True


@pytest.fixture
async def folds() -> _Folds:
    return _Folds()


async def _offline_consumer(folds: _Folds) -> FoldingConsumer:
    """A faust app's consumer routing ``TOPIC`` to ``folds``, its tables restored."""
    app = faust.App("fold-consumer-test", autodiscover=False, loop=asyncio.get_running_loop())
    app.topics.add(app.topic(TOPIC))
    app.topics.add(app.topic(OTHER, acks=False))
    await cast(Any, app.topics)._update_indices()  # what faust's conductor does when it subscribes
    route = FoldRoute(frozenset({TOPIC}), folds, max_records=7)
    cast(Any, app.transport).Consumer = type("Routed", (_Offline,), {"route": route})
    cast(Any, app.tables).recovery.completed.set()
    return cast(FoldingConsumer, app.consumer)


def _close(consumer: FoldingConsumer) -> None:
    # The loop faust made for its consumer thread, never started here.
    cast(Any, consumer)._thread.thread_loop.close()


@pytest.fixture
async def consumer(folds: _Folds) -> AsyncIterator[FoldingConsumer]:
    made = await _offline_consumer(folds)
    yield made
    _close(made)


def _faust_commit_offsets(consumer: FoldingConsumer, tps: Any) -> dict[TP, int | None]:
    return {tp: consumer._new_offset(tp) for tp in tps}


@settings(deadline=None, max_examples=60)
@given(offsets=record_maps, committed=st.integers(0, 30))
async def test_acks_let_faust_commit_what_its_own_acks_would(
    offsets: dict[TP, list[int]], committed: int
) -> None:
    # Two fresh consumers per example: one acked by batch, one by faust's own ack, per record.
    got: dict[TP, int | None] = {}
    want: dict[TP, int | None] = {}
    for acked_by_batch, into in ((True, got), (False, want)):
        subject = await _offline_consumer(_Folds())
        fetched = {tp: _records(tp, o) for tp, o in offsets.items()}
        for tp in fetched:
            subject._committed_offset[tp] = committed
        if acked_by_batch:
            subject._ack(fetched)
        else:
            for records in fetched.values():
                for r in records:
                    subject.ack(Message(r.topic, r.partition, r.offset, 0.0, 0, {}, b"k", b"v", None))
        into.update(_faust_commit_offsets(subject, fetched))
        _close(subject)
    assert got == want


@settings(deadline=None, max_examples=60)
@given(
    steps=st.lists(st.integers(1, 4), min_size=1, max_size=40),
    start=st.integers(0, 3),
    committed=st.one_of(st.none(), st.integers(0, 3)),
    cuts=st.lists(st.integers(1, 39), max_size=4),
)
async def test_fetches_with_holes_folded_let_one_commit_pass_the_last_record(
    steps: list[int], start: int, committed: int | None, cuts: list[int]
) -> None:
    # Holes anywhere (compaction, commit markers, aborted transactions skipped), from offset 0
    # on or after a commit, over several fetches: faust's own _new_offset is the judge.
    offsets = [start + (committed or 0) + sum(steps[:n]) - steps[0] for n in range(1, len(steps) + 1)]
    tp = TP(TOPIC, 0)
    subject = await _offline_consumer(_Folds())
    try:
        if committed is not None:  # as faust's seek to the committed offset leaves them
            subject._committed_offset[tp] = committed
            subject._read_offset[tp] = committed or None
        bounds = sorted({0, len(offsets), *(c for c in cuts if c < len(offsets))})
        for lo, hi in itertools.pairwise(bounds):
            await subject._fold_fetched({tp: _records(tp, offsets[lo:hi])}, {tp}, 0)
        assert subject._new_offset(tp) == offsets[-1] + 1
    finally:
        _close(subject)


async def test_every_fetched_record_is_handed_on_once_and_faust_may_commit_past_holes(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    tp = TP(TOPIC, 2)
    offsets = [0, 1, 2, 5, 6, 9, 10, 11, 12, 13, 14, 20]  # holes: compaction, transaction markers
    fetched = {tp: _records(tp, offsets)}
    await consumer._fold_fetched(fetched, {tp}, consumer.app.consumer_generation_id)
    assert [r.offset for b in folds.batches for r in b[tp]] == offsets
    assert [len(b[tp]) for b in folds.batches] == [7, 5]  # the route's max_records
    assert consumer._new_offset(tp) == 21  # faust commits past the last record, holes and all
    assert consumer.app.monitor.stream_inbound_time[tp] > 0  # faust's stuck-stream check
    # The same records fetched again after a seek back to offset 9: only those from 9 on.
    consumer._read_offset[tp] = 9
    before = len(folds.batches)
    await consumer._fold_fetched(fetched, {tp}, consumer.app.consumer_generation_id)
    assert [r.offset for b in folds.batches[before:] for r in b[tp]] == [9, 10, 11, 12, 13, 14, 20]


async def test_one_commit_takes_a_transactional_topics_tail(consumer: FoldingConsumer) -> None:
    # One record per transaction: each commit marker leaves a hole after its record. Every
    # record folded, faust's next commit must take them all (the caught-up commit's promise),
    # not one transaction per commit interval.
    tp = TP(TOPIC, 5)
    consumer._committed_offset[tp] = 10
    consumer._read_offset[tp] = 10  # faust's seek to the committed offset
    await consumer._fold_fetched({tp: _records(tp, [10, 12, 14, 16, 18, 20])}, {tp}, 0)
    assert consumer._new_offset(tp) == 21


async def test_a_revocation_during_the_gaps_waits_for_the_batch(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    tp = TP(TOPIC, 0)
    consumer._read_offset[tp] = 2
    fetch = asyncio.ensure_future(consumer._fold_fetched({tp: _records(tp, [5, 6])}, {tp}, 0))
    await asyncio.sleep(0)  # the fetch is now inside faust's _add_gap, which yields once
    assert consumer._landing is not None  # claimed before the first await
    await consumer.wait_empty()  # what a revocation awaits before its commit
    assert [r.offset for b in folds.batches for r in b[tp]] == [5, 6]
    await fetch


async def test_a_batch_whose_fold_fails_is_not_acked(consumer: FoldingConsumer, folds: _Folds) -> None:
    tp = TP(TOPIC, 0)
    folds.fail = True
    with pytest.raises(RuntimeError, match="took no write"):
        await consumer._fold_fetched({tp: _records(tp, [0, 1, 2])}, {tp}, 0)
    assert consumer._new_offset(tp) is None
    assert consumer._landing is None


@pytest.mark.parametrize("rebalance", ["flow stopped", "new generation", "partition paused", "stopping"])
async def test_nothing_is_handed_on_once_a_rebalance_started(
    consumer: FoldingConsumer, folds: _Folds, rebalance: str
) -> None:
    tp = TP(TOPIC, 1)
    generation = consumer.app.consumer_generation_id
    active = {tp}
    if rebalance == "flow stopped":
        consumer.stop_flow()  # what faust does first when partitions are revoked
    elif rebalance == "new generation":
        generation -= 1
    elif rebalance == "partition paused":
        active = set()
    else:
        consumer._stopped.set()
    put_backs: list[object] = []

    async def put_back(fetched: object) -> None:  # the consumer thread, never started here
        put_backs.append(fetched)

    cast(Any, consumer._thread).put_back = put_back
    await consumer._fold_fetched({tp: _records(tp, [0, 1])}, active, generation)
    assert folds.batches == []
    assert consumer._new_offset(tp) is None
    assert consumer._read_offset[tp] is None
    # Put back to be read again; nothing is read after a stop.
    assert put_backs == ([] if rebalance == "stopping" else [{tp: (0, 1)}])


async def test_a_stopped_fetcher_still_lands_and_acks_the_batch_in_flight(
    consumer: FoldingConsumer, folds: _Folds
) -> None:
    tp = TP(TOPIC, 4)
    folds.release.clear()
    fetch = asyncio.ensure_future(
        consumer._fold_fetched({tp: _records(tp, [3, 4, 5])}, {tp}, consumer.app.consumer_generation_id)
    )
    await folds.started.wait()
    landing = consumer._landing
    assert landing is not None
    fetch.cancel()  # faust's Fetcher.stop cancels the drain
    await asyncio.sleep(0.05)
    assert not landing.done()  # what wait_empty waits for before faust commits
    folds.release.set()
    with pytest.raises(asyncio.CancelledError):
        await fetch
    assert landing.done()
    assert consumer._new_offset(tp) == 6


@pytest.mark.parametrize(
    ("offsets", "commit"),
    [([0, 1, 2], 3), ([0, 1, 3, 4], 2)],  # faust forgets the holes first: up to the first one
)
async def test_a_revocation_commits_only_once_the_batch_in_flight_landed(
    consumer: FoldingConsumer, folds: _Folds, offsets: list[int], commit: int
) -> None:
    tp = TP(TOPIC, 3)
    folds.release.clear()
    fetch = asyncio.ensure_future(
        consumer._fold_fetched({tp: _records(tp, offsets)}, {tp}, consumer.app.consumer_generation_id)
    )
    await folds.started.wait()
    # faust's own revocation: it forgets the partition's bookkeeping, stops the flow, waits
    # (wait_empty) and commits before the partition goes.
    revoked = asyncio.ensure_future(consumer.on_partitions_revoked({tp}))
    await asyncio.sleep(0.05)
    assert not revoked.done()
    assert cast(_Offline, consumer).broker_commits == {}
    folds.release.set()
    await revoked
    await fetch
    assert cast(_Offline, consumer).broker_commits == {tp: commit}


def test_a_fetch_of_several_topics_is_folded_once_per_partition_number() -> None:
    # An outcome and its readings touch the same post's entries: one changelog partition per
    # number, so each key is written once per batch whichever topics the records came from.
    batch = {
        TP("publish.outcomes", 0): _records(TP("publish.outcomes", 0), [4, 5]),
        TP(TOPIC, 1): _records(TP(TOPIC, 1), [7]),
        TP(TOPIC, 0): _records(TP(TOPIC, 0), [8, 9]),
    }
    groups = _by_partition(batch)
    assert sorted(groups) == [0, 1]
    assert [(r.topic, r.offset) for r in groups[0]] == [
        ("publish.outcomes", 4),
        ("publish.outcomes", 5),
        (TOPIC, 8),
        (TOPIC, 9),
    ]

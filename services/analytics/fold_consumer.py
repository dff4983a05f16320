"""faust's Kafka consumer with the fold's source records taken off its per-record path (adapter).

Why. faust hands every record it fetched on one at a time: its drain awaits
``wait_first(callback(message), suspend_flow.wait())`` per record (tasks, an ``asyncio.wait``
and cancellations each), the conductor's ``on_message`` puts the event into the agent's stream
queue, and the stream takes it out again (``_c_aiter``, the passive drainer, ``take_events``,
``Stream.ack``). Profiled under ``bench.analytics --broker`` that was about half the worker's
CPU, more than the fold itself (docs/analytics.md). Here each fetch's records of the fold's
topics go to the fold as one batch, by source partition, in the order read, as aiokafka
returned them; every other topic (the table's changelog during recovery) keeps faust's path.

What it keeps of faust's consumer, and how:

- Which partitions are read and when: the records come from faust's own fetch
  (``_wait_next_records``), for the partitions faust made active. faust keeps a table's source
  partitions paused until their changelog partitions are restored (it resumes them once the
  tables are), and a batch is handed on only while faust's flow is active, in the consumer
  generation it was fetched in, for a partition still active: the conditions faust's ``getmany``
  checks per record. Records not handed on are read again after faust's seek back to the
  committed offsets, which follows every rebalance, as for its own.
- Commits: a batch's offsets are acked into faust's own bookkeeping (``_acked``,
  ``_acked_index``, offset gaps by ``_add_gap``, the read offset), only after the fold returned,
  which is after its changelog writes were acknowledged (``changelog.send_all``). faust's
  commit, its interval, ``broker_commit_every`` and the early commit of ``CaughtUpCommit`` then
  commit them as they commit any acked offset.
- Rebalances and stops: a batch runs to its end (shielded from the fetcher's cancellation), and
  faust's ``wait_empty``, which it calls before committing on a revocation and on a stop, first
  waits for the batch in flight to land and be acked. A revocation forgets the partitions' holes
  before that commit, so it commits up to the first hole at most; the rest is folded again by
  the next owner, whose ledger counts every event once. Never more than what landed.
- What a fetch took in and nobody will be handed is put back, not dropped: faust would drop it
  (a fetch under an emptied active set takes in every partition: the changelog records a
  recovery had just sought among them, paused source partitions) after aiokafka moved past it
  (``_getmany``, and ``_fold_fetched`` for a batch refused after others were handed on).

faust is pinned (0.15.3): the private names used here are checked by
tests/unit/test_analytics_fold_consumer.py, which fails loudly if they change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from time import monotonic
from typing import Any, ClassVar, cast

import aiokafka
import faust
from aiokafka import ConsumerRecord
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ack_lock
from mode.utils.futures import notify

log = logging.getLogger(__name__)

# One fold batch: the records of each source partition, in the order read.
FoldBatch = Mapping[TP, Sequence["ConsumerRecord[bytes, bytes]"]]
# Takes a batch in for good (its changelog writes acknowledged) or raises; never acked if it raises.
Fold = Callable[[FoldBatch], Awaitable[None]]


@dataclass(frozen=True)
class FoldRoute:
    """Which topics' records go to ``fold``, at most ``max_records`` records per batch."""

    topics: frozenset[str]
    fold: Fold
    max_records: int


class ReadCommittedThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread, its Kafka consumer reading committed transactions only.

    faust reads ``read_uncommitted`` unless the app itself runs in transactions. Outcomes,
    engagement readings and expectations are written in the other services' transactions: one
    aborted (a worker fenced or killed mid-transaction, then retried) would otherwise be folded
    too, beside the record the retry committed, and the figures would no longer be those of
    the topics as every other reader sees them."""

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # faust passes no isolation setting through; aiokafka reads this when it starts its fetcher.
        consumer._isolation_level = "read_committed"
        return consumer

    async def put_back(self, fetched: Mapping[TP, tuple[int, int]]) -> None:
        """Undo a fetch nobody will be handed (each partition's first and last offset fetched),
        in the thread that owns the Kafka consumer."""
        await self.call_thread(self._put_back, fetched)

    async def _put_back(self, fetched: Mapping[TP, tuple[int, int]]) -> None:
        put_back_positions(self._ensure_consumer(), fetched)


def put_back_positions(consumer: aiokafka.AIOKafkaConsumer, fetched: Mapping[TP, tuple[int, int]]) -> None:
    """Seek each partition back to the first record fetched, unless something sought it since.

    The fetch moved a partition's position past its last record (past a transaction marker
    after it too). A position at or before that record was set by a seek after the fetch (a
    recovery's, faust's seek to the committed offsets), which stands. Runs without an await,
    so no seek of the consumer's thread can come between the check and this seek. A position
    past the record that a later seek set (rare) is taken back too: what is read twice is
    skipped, by the recovery below the offset it has and by the fold below its read offset."""
    subscription = consumer._subscription.subscription
    assignment = subscription.assignment if subscription is not None else None
    for tp, (first, last) in fetched.items():
        state = assignment.state_value(tp) if assignment is not None else None
        if state is not None and state.has_valid_position and state.position > last:
            consumer.seek(tp, first)


class FoldingConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka ``Consumer``, handing the route's records to its fold by batches."""

    route: ClassVar[FoldRoute]
    # The batch being folded, done once its offsets are acked: what ``wait_empty`` waits for.
    _landing: asyncio.Future[None] | None = None

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return ReadCommittedThread(self, loop=self.loop, beacon=self.beacon)

    async def _getmany(self, active_partitions: Any, timeout: float) -> Any:
        """faust's fetch, what of it will not be handed on put back where it was read from.

        faust hands aiokafka its own set of active partitions, the set object itself, which
        changes while the fetch waits (for records up to its timeout, and with no limit for a
        reassignment in progress). A revocation empties it, and so does the pause of the
        changelog partitions after a recovery when there are no standbys, before the source
        partitions are resumed. aiokafka reads an empty set as every partition and takes in
        what it fetched for all of them, paused ones included; faust drops what it does not
        hand on, with aiokafka's positions past it. A recovery then waited for records already
        taken for good, and source records were lost where no committed offset made faust's
        seek or commit stop at them (docs/analytics.md, "The recovery that waited for records
        already taken"). So a fetch during which the flow stopped or the generation changed is
        put back whole and none of it is handed on (the old generation's fetch is the new one's
        to read again from where it seeks), and otherwise each partition faust's ``getmany``
        would skip is put back and left out. No await comes between this return and the fold's
        first ``_may_hand_on``, which sees the same set."""
        generation = self.app.consumer_generation_id
        records = await super()._getmany(active_partitions, timeout)
        if not records or self.should_stop:
            return records
        if self.flow_active and self.app.consumer_generation_id == generation:
            skipped = [tp for tp in records if not self._hands_on(tp, active_partitions)]
        else:
            skipped = list(records)
        if skipped:
            await self._put_back({tp: records[tp] for tp in skipped})
        return {tp: batch for tp, batch in records.items() if tp not in skipped}

    def _hands_on(self, tp: TP, active: Any) -> bool:
        """Whether a record of ``tp`` fetched now is handed on: faust's ``getmany``'s test per
        record. faust also lets through partitions whose stream buffer filled (the conductor's
        ``on_message``); routed records never reach a stream buffer, so not theirs."""
        if active is None or tp in active:  # None: a client-only app, no active set
            return True
        return tp.topic not in self.route.topics and tp in self._buffered_partitions

    async def _put_back(self, fetched: FoldBatch) -> None:
        spans = {tp: (batch[0].offset, batch[-1].offset) for tp, batch in fetched.items()}
        await cast(ReadCommittedThread, self._thread).put_back(spans)

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:
        records, active = await super()._wait_next_records(timeout)
        if not records:
            return records, active
        routed = {tp: batch for tp, batch in records.items() if tp.topic in self.route.topics}
        if not routed:
            return records, active
        await self._fold_fetched(routed, active, self.app.consumer_generation_id)
        return {tp: batch for tp, batch in records.items() if tp not in routed}, active

    async def wait_empty(self) -> None:
        """faust's wait for the records taken in to be acked, first waiting for the batch in
        flight: faust commits right after, before a revocation or a stop."""
        landing = self._landing
        if landing is not None:
            await asyncio.wait([landing])
        await super().wait_empty()

    async def _fold_fetched(self, routed: FoldBatch, active: Any, generation: int) -> None:
        batches = _batches(routed, self.route.max_records)
        for batch in batches:
            if not self._may_hand_on(batch, active, generation):
                # This batch and the ones after it, from the first record not handed on: faust's
                # seek to the committed offsets finds nothing to seek where none was committed.
                if not self.should_stop:
                    await self._put_back(_joined([batch, *batches]))
                return
            fresh = self._unread(batch)
            if fresh:
                await self._hand_on(fresh)

    def _may_hand_on(self, batch: FoldBatch, active: Any, generation: int) -> bool:
        if not self.flow_active or self.should_stop:
            return False
        if self.app.consumer_generation_id != generation:
            return False
        return all(self._hands_on(tp, active) for tp in batch)

    def _unread(self, batch: FoldBatch) -> dict[TP, Sequence[ConsumerRecord[bytes, bytes]]]:
        """The records from each partition's read offset on, as faust's drain keeps them. A seek
        sets that offset to the next record to read (the committed offset), a record handed on
        to its own: faust's test is ``>=`` for both."""
        fresh: dict[TP, Sequence[ConsumerRecord[bytes, bytes]]] = {}
        for tp, records in batch.items():
            read = self._read_offset[tp]
            if read is None or records[0].offset >= read:
                kept = records  # offsets only grow within a fetch
            else:
                kept = [r for r in records if r.offset >= read]
            if kept:
                fresh[tp] = kept
        return fresh

    async def _gaps(self, batch: FoldBatch) -> None:
        """Offsets missing between records read (compaction, transaction markers): faust's
        commit treats a gap as acked, or it would stop at the hole. Unlike faust's drain, the
        gap ends before the record after it, which is acked itself: an offset both in a gap and
        acked is listed twice, and faust's commit stops at a repeated offset, one hole per
        commit (a transactional topic has one after each transaction)."""
        for tp, records in batch.items():
            if not self.app.topics.acks_enabled_for(tp.topic):
                continue
            last = self._read_offset[tp]
            if records[-1].offset - records[0].offset == len(records) - 1:
                records = records[:1]  # no hole between them: only the one before the first
            for record in records:
                if last is not None and record.offset - last > 1:  # 0 is an offset too
                    await self._add_gap(tp, last + 1, record.offset - 1)
                last = record.offset

    async def _hand_on(self, batch: FoldBatch) -> None:
        # Claimed before the first await: a revocation from here on waits for this batch.
        landing = self._landing = asyncio.get_running_loop().create_future()
        try:
            await self._gaps(batch)
            fold = asyncio.ensure_future(self.route.fold(batch))
            try:
                await asyncio.shield(fold)
            except asyncio.CancelledError:
                # The fetcher is stopped: the batch still lands, and is acked, before faust's
                # wait_empty lets the stop commit.
                await asyncio.wait([fold])
                if fold.cancelled() or fold.exception() is not None:
                    raise
                self._ack(batch)
                raise
            self._ack(batch)
        finally:
            self._landing = None
            landing.set_result(None)
        self._report(batch)
        await self._maybe_commit()

    def _ack(self, batch: FoldBatch) -> None:
        """The batch's offsets into faust's ack bookkeeping, as ``Consumer.ack`` records one."""
        with ack_lock:
            for tp, records in batch.items():
                self._read_offset[tp] = records[-1].offset
                if self.app.topics.acks_enabled_for(tp.topic):
                    self._n_acked += self._ack_offsets(tp, records)
        notify(self._waiting_for_ack)

    def _report(self, batch: FoldBatch) -> None:
        """What faust's stuck-stream check and lag reporting read, updated per record on its path."""
        monitor = self.app.monitor
        now = monotonic()
        for tp in batch:
            monitor.stream_inbound_time[tp] = now
            monitor.track_tp_end_offset(tp, self.highwater(tp))

    def _ack_offsets(self, tp: TP, records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        committed = self._committed_offset[tp]
        index = self._acked_index[tp]
        offsets = [
            r.offset
            for r in records
            if (committed is None or r.offset >= committed) and r.offset not in index
        ]
        index.update(offsets)
        self._acked[tp].extend(offsets)
        return len(offsets)

    async def _maybe_commit(self) -> None:
        """faust's ``broker_commit_every``, which its drain checks between records."""
        every = self._commit_every
        if every is not None and self._n_acked >= every:
            self._n_acked = 0
            await self.commit()


def _batches(routed: FoldBatch, max_records: int) -> Iterator[FoldBatch]:
    """The fetched records in batches of at most ``max_records``, each partition's in order."""
    batch: dict[TP, Sequence[ConsumerRecord[bytes, bytes]]] = {}
    room = max_records
    for tp, records in routed.items():
        start = 0
        while start < len(records):
            part = records[start : start + room]
            batch[tp] = part
            start += len(part)
            room -= len(part)
            if room == 0:
                yield batch
                batch, room = {}, max_records
    if batch:
        yield batch


def _joined(batches: Sequence[FoldBatch]) -> FoldBatch:
    """Batches of one fetch as one map, each partition's records in order."""
    joined: dict[TP, list[ConsumerRecord[bytes, bytes]]] = {}
    for batch in batches:
        for tp, records in batch.items():
            joined.setdefault(tp, []).extend(records)
    return joined


def route_records(app: faust.App, route: FoldRoute) -> None:
    """Make ``app``'s consumer a ``FoldingConsumer`` for ``route``, before faust creates it."""
    consumer_class = type(
        "RoutedFoldingConsumer", (FoldingConsumer,), {"route": route, "__module__": __name__}
    )
    # faust makes its consumer from the transport's ``Consumer`` class when first asked for it.
    cast(Any, app.transport).Consumer = consumer_class

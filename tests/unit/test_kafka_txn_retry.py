"""The wait before a refused transaction asks again, read from aiokafka's own response handler:
a transaction begun right after a commit is refused while the broker writes that commit's
markers, and the planner's firings wait on that retry."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import ConcurrentTransactions
from aiokafka.producer.sender import AddPartitionsToTxnHandler

from shared.kafka_txn import CONCURRENT_TRANSACTION_RETRY_S, make_transactional_producer


async def test_a_transaction_refused_after_a_commit_asks_again_after_the_short_wait() -> None:
    producer = make_transactional_producer("127.0.0.1:9", "retry-test", "retry-test-t")  # never started
    try:
        assert_short_retry_after_a_commit(producer._sender)
    finally:
        await producer.stop()


def assert_short_retry_after_a_commit(sender: Any) -> None:
    refused = SimpleNamespace(errors=[("schedule.jobs", [(0, ConcurrentTransactions.errno)])])

    # The first partitions of a transaction: the markers of the one before are being written.
    first = AddPartitionsToTxnHandler(sender, [])
    assert first.handle_response(refused) == CONCURRENT_TRANSACTION_RETRY_S

    # Every other refusal keeps the producer's retry_backoff_ms (20 ms).
    sender._txn_manager.txn_partitions.add(TopicPartition("schedule.jobs", 1))
    later = AddPartitionsToTxnHandler(sender, [])
    assert later.handle_response(refused) == 0.02

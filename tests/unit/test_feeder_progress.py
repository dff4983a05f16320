"""The status feeder's liveness rule: a partition that is behind must advance between checks."""

from __future__ import annotations

from aiokafka import TopicPartition

from shared.feed_progress import stuck_partitions

A, B = TopicPartition("content.approved", 0), TopicPartition("publish.outcomes", 3)


def test_a_partition_read_to_its_end_is_fine_however_long_nothing_arrives() -> None:
    assert stuck_partitions({A: (10, 10)}, {A: (10, 10)}) == []


def test_a_partition_behind_that_advanced_is_fine() -> None:
    assert stuck_partitions({A: (10, 50)}, {A: (11, 60)}) == []


def test_a_partition_behind_that_stood_still_is_stuck_even_while_others_move() -> None:
    before = {A: (10, 50), B: (100, 400)}
    now = {A: (10, 50), B: (390, 900)}
    assert stuck_partitions(before, now) == [A]


def test_a_partition_that_grew_after_the_last_check_is_not_judged_yet() -> None:
    assert stuck_partitions({A: (10, 10)}, {A: (10, 90)}) == []


def test_the_first_check_judges_nothing() -> None:
    assert stuck_partitions({}, {A: (0, 1000)}) == []

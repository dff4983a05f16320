"""Reads that must show what other ingest instances answered, on the real broker.

``LogEnds`` asks where each partition ends now; once the view's feeder has read past those ends,
records written by another producer (another ingest instance) are in the view, on every
partition, even when the feeder's fetches wait long for more bytes. A broker that cannot be
reached is an error the caller answers 503 with, never a stale read.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import KafkaError

from services.ingest.feeder import Feeder
from services.ingest.log_ends import LogEnds, read_to_ends
from services.ingest.status_view import StatusView
from shared.kafka import KafkaUnavailable, send_event
from shared.topics import TopicRegistry
from tests.integration.poison_kit import approved, on_broker

pytestmark = pytest.mark.integration

CH = "mastodon-demo"


async def test_the_view_holds_every_record_written_before_the_ends_were_asked(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    topic = topics.content_approved
    async with on_broker(kafka_bootstrap, topics, [topic, topics.publish_dead]) as producer:
        view = StatusView()
        # Fetches that wait long for more bytes: a read that did not wait would come too early.
        feeder = Feeder(
            kafka_bootstrap,
            [topic],
            view,
            dead_topic=topics.publish_dead,
            fetch_min_bytes=1 << 20,
            fetch_max_wait_ms=2000,
        )
        ends = LogEnds(kafka_bootstrap, timeout_s=10)
        stop = asyncio.Event()
        task = asyncio.create_task(feeder.run(stop))
        try:
            await feeder.caught_up.wait()
            assert set((await ends.of(topic)).values()) == {0}
            ids = [f"item-{p}-{n}" for p in range(3) for n in range(2)]
            await asyncio.gather(
                *(
                    send_event(producer, topic, i, approved(i, CH), partition=int(i.split("-")[1]))
                    for i in ids
                )
            )
            await asyncio.wait_for(read_to_ends(feeder.read_past, topic, await ends.of(topic)), 10)
            assert [i for i in ids if view.find(i) is None] == []
            assert await ends.of(topic) == {0: 2, 1: 2, 2: 2}
        finally:
            stop.set()
            await task
            await ends.close()


async def test_a_broker_that_cannot_be_reached_is_an_error_not_an_answer() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ends = LogEnds(f"127.0.0.1:{port}", timeout_s=2)
    for _ in range(2):  # the failed client is closed; the next question opens a fresh one
        with pytest.raises((KafkaError, KafkaUnavailable, TimeoutError)):
            await ends.of("anything")
    assert ends.asked == 2
    await ends.close()


async def test_a_partition_whose_records_have_all_expired_is_read_to_its_end(
    kafka_bootstrap: str, topics: TopicRegistry
) -> None:
    """Retention (a year for the drafts' audit trail) can delete every record of a quiet
    partition: its log then starts at its end, and no record ever reaches the feeder. A read that
    waited for a record at the end would wait until the next write, and every draft read would
    be refused meanwhile. The broker's own record deletion stands in for retention here."""
    topic = topics.content_approved
    async with on_broker(kafka_bootstrap, topics, [topic, topics.publish_dead]) as producer:
        for n in range(2):
            await send_event(producer, topic, f"gone-{n}", approved(f"gone-{n}", CH), partition=0)
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before_offset=2)})
        finally:
            await admin.close()
        view = StatusView()
        feeder = Feeder(kafka_bootstrap, [topic], view, dead_topic=topics.publish_dead)
        ends = LogEnds(kafka_bootstrap, timeout_s=10)
        stop = asyncio.Event()
        task = asyncio.create_task(feeder.run(stop))
        try:
            await asyncio.wait_for(feeder.caught_up.wait(), 30)
            assert (await ends.of(topic))[0] == 2
            await asyncio.wait_for(read_to_ends(feeder.read_past, topic, await ends.of(topic)), 10)
            assert view.find("gone-0") is None
        finally:
            stop.set()
            await task
            await ends.close()

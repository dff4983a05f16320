"""Which partitions a topic has, as the client's metadata says: the one place that reaches into
aiokafka's private client.

aiokafka refreshes a consumer's metadata on its own schedule (every ``metadata_max_age_ms``) and
offers no public way to ask for it sooner; a topic another process created a moment ago is unknown
until then, and assigning or reading its offsets waits forever. ``refresh_metadata`` is the one
call of the private ``_client``; everything else (``shared.kafka.wait_for_topics``,
``partitions_of``) waits through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, cast

from aiokafka import AIOKafkaConsumer, TopicPartition


class _MetadataClient(Protocol):
    async def force_metadata_update(self) -> bool: ...


async def refresh_metadata(consumer: AIOKafkaConsumer) -> None:
    """Ask the broker for the cluster's metadata now (aiokafka has no public call for it)."""
    client = cast(_MetadataClient, consumer._client)
    await client.force_metadata_update()


def known_partitions(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """The partitions of ``topics`` the client's metadata knows now, in topic then number order."""
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]

"""The promises of design.md, checked on the running system over the real broker: withdraw,
supersede, pause/resume, a scheduler crash mid-plan, retries, ambiguous attempts, a publisher
crash between attempt and outcome, and poison messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.codec import decode
from shared.events import DeadLettered
from shared.topics import TopicRegistry
from tests.e2e.client import Api, Sandbox, in_seconds, item, unique_text
from tests.e2e.conftest import Keys
from warta.devrun import LocalSystem

pytestmark = pytest.mark.e2e
CH = "mastodon-demo"


@pytest.fixture
async def api(system: LocalSystem, keys: Keys) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, system.ingest_url, keys.approver)


@pytest.fixture
async def mastodon(system: LocalSystem) -> AsyncIterator[Sandbox]:
    async with aiohttp.ClientSession() as session:
        sandbox = Sandbox(session, system.sandbox_url, "mastodon")
        yield sandbox
        await sandbox.clear_faults()


async def test_withdrawn_jobs_never_fire(api: Api, mastodon: Sandbox) -> None:
    text = unique_text("Withdrawn before its slot")
    content_id = await api.submit(item(text, [CH], priority="normal", not_before=in_seconds(4)))
    await api.wait_state(content_id, CH, "scheduled")
    status, answer = await api.post(f"/v1/content/{content_id}/withdraw", {"reason": "wrong figures"})
    assert status == 202, answer
    withdrawn = await api.wait_state(content_id, CH, "withdrawn")
    assert "wrong figures" in withdrawn["note"]
    await asyncio.sleep(5)  # past the slot
    assert (await api.channel(content_id, CH))["state"] == "withdrawn"
    assert await mastodon.posts_containing(text) == []


async def test_a_newer_version_of_a_topic_supersedes_the_older(api: Api, mastodon: Sandbox) -> None:
    topic = unique_text("topic").replace(" #", "-")
    old_text, new_text = unique_text("Old figures"), unique_text("Corrected figures")
    old_id = await api.submit(
        item(old_text, [CH], priority="normal", not_before=in_seconds(4), topic_key=topic)
    )
    await api.wait_state(old_id, CH, "scheduled")
    new_id = await api.submit(
        item(new_text, [CH], priority="normal", not_before=in_seconds(4), topic_key=topic)
    )
    superseded = await api.wait_state(old_id, CH, "superseded")
    assert superseded["superseded_by"] == new_id
    await api.wait_state(new_id, CH, "published", timeout=40)
    assert await mastodon.posts_containing(old_text) == []
    assert len(await mastodon.posts_containing(new_text)) == 1


async def test_pause_holds_jobs_and_resume_releases_them(api: Api, keys: Keys, mastodon: Sandbox) -> None:
    status, answer = await api.post("/v1/pause", {"channels": [CH], "reason": "crisis"}, key=keys.operator)
    assert status == 202, answer
    await asyncio.sleep(1.5)  # the promise: firing stops within a second
    text = unique_text("Held by a pause")
    content_id = await api.submit(item(text, [CH]))
    paused = await api.wait_state(content_id, CH, "paused")
    assert "crisis" in paused["note"]
    await asyncio.sleep(1)
    assert await mastodon.posts_containing(text) == []
    status, answer = await api.post(
        "/v1/resume", {"channels": [CH], "reason": "all clear"}, key=keys.operator
    )
    assert status == 202, answer
    await api.wait_state(content_id, CH, "published")
    assert len(await mastodon.posts_containing(text)) == 1


async def test_a_scheduler_killed_mid_plan_fires_each_job_once(
    system: LocalSystem, api: Api, mastodon: Sandbox
) -> None:
    texts = [unique_text(f"Planned before a crash {i}") for i in range(3)]
    ids = [await api.submit(item(t, [CH], priority="normal", not_before=in_seconds(6))) for t in texts]
    for content_id in ids:
        await api.wait_state(content_id, CH, "scheduled")
    system.kill("scheduler")  # SIGKILL: no clean shutdown, no final commit
    system.restart("scheduler")
    for content_id in ids:
        published = await api.wait_state(content_id, CH, "published", timeout=60)
        assert published["slot"] is not None
    for text in texts:
        assert len(await mastodon.posts_containing(text)) == 1


async def test_temporary_failures_are_retried_through_the_scheduler(api: Api, mastodon: Sandbox) -> None:
    # Refusals that made nothing (a 5xx might have made the post: that one is looked up instead).
    await mastodon.fault(
        path_contains="/api/v1/statuses", method="POST", status=429, body={"error": "busy"}, count=2
    )
    text = unique_text("Retried after 429s")
    content_id = await api.submit(item(text, [CH]))
    published = await api.wait_state(content_id, CH, "published", timeout=60)
    assert published["attempt"] == 3
    assert len(await mastodon.posts_containing(text)) == 1


async def test_an_ambiguous_attempt_is_reconciled_not_reposted(api: Api, mastodon: Sandbox) -> None:
    await mastodon.fault(path_contains="/api/v1/statuses", method="POST", mode="drop_after_processing")
    text = unique_text("Answer lost after posting")
    content_id = await api.submit(item(text, [CH]))
    await api.wait_state(content_id, CH, "published", timeout=60)
    assert len(await mastodon.posts_containing(text)) == 1


async def test_a_publisher_killed_mid_call_does_not_double_post(
    system: LocalSystem, api: Api, mastodon: Sandbox
) -> None:
    # The platform creates the post, then takes 5 s to answer; the publisher dies meanwhile.
    await mastodon.fault(
        path_contains="/api/v1/statuses", method="POST", mode="drop_after_processing", delay_s=5
    )
    text = unique_text("Posted while the publisher died")
    content_id = await api.submit(item(text, [CH]))
    await api.wait_state(content_id, CH, "attempted", timeout=30)
    system.kill("publisher-mastodon")
    await asyncio.sleep(0.5)
    system.restart("publisher-mastodon")
    await api.wait_state(content_id, CH, "published", timeout=60)
    assert len(await mastodon.posts_containing(text)) == 1


def poisoned(topics: TopicRegistry) -> list[str]:
    """Every topic a consumer group owns (the status views and restores only skip poison)."""
    return [
        topics.content_approved,
        topics.content_control,
        topics.publish_outcomes,
        topics.engagement_observed,
        topics.schedule_commands,
        topics.publish("mastodon"),
        topics.publish("telegram"),
    ]


async def test_poison_messages_are_dead_lettered_and_consumers_carry_on(
    system: LocalSystem, kafka_bootstrap: str, api: Api, mastodon: Sandbox
) -> None:
    topics = TopicRegistry(prefix=system.topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for topic in poisoned(topics):
            await producer.send_and_wait(topic, b"{not json", key=b"poison")
            await producer.send_and_wait(
                topic, b'{"event_type": "job.due", "schema_version": 1}', key=b"poison"
            )
    finally:
        await producer.stop()
    text = unique_text("After the poison")
    content_id = await api.submit(item(text, [CH]))
    await api.wait_state(content_id, CH, "published", timeout=30)

    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topics.publish_dead, p) for p in range(topics.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        letters: list[DeadLettered] = []
        for _ in range(20):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                letters += [e for r in records if isinstance(e := decode(r.value), DeadLettered)]
            sources = {letter.source_topic for letter in letters}
            if set(poisoned(topics)) <= sources:
                break
    finally:
        await consumer.stop()
    assert {letter.source_topic for letter in letters} >= set(poisoned(topics))
    assert all(letter.reason for letter in letters)

"""Replaying a consumer's dead letter from the console's API, on the real broker.

A letter a consumer wrote because its handler raised is listed with its consumer and error;
``POST /v1/dead/{id}/replay`` writes the record's exact bytes back to its topic and partition.
Letters of undecodable records, and of records of the compacted state topics, are refused with
a 409 that says why.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.console.http_api import create_app
from services.console.settings import ConsoleSettings
from services.console.view import ConsoleView
from shared.channels import ChannelDirectory
from shared.codec import MalformedMessage, encode
from shared.dead_letters import letter_for
from shared.http_auth import KeyStore, generate_dev_keys
from shared.topics import TopicRegistry
from tests.integration.console_app import console_deps
from tests.integration.poison_kit import approved, on_broker

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


@dataclass
class Rec:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@asynccontextmanager
async def console(
    bootstrap: str, topics: TopicRegistry, tmp_path: Path, view: ConsoleView
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], str]]:
    generate_dev_keys(tmp_path / "keys.json", tmp_path / "dev-keys.json")
    operator_key = json.loads((tmp_path / "dev-keys.json").read_text())["operator"]["key"]
    settings = ConsoleSettings(kafka_bootstrap=bootstrap, keys_file=tmp_path / "keys.json")
    names = [topics.schedule_commands, topics.publish_dead]
    async with on_broker(bootstrap, topics, names) as producer, aiohttp.ClientSession() as session:
        deps = console_deps(
            settings=settings,
            topics=topics,
            channels=ChannelDirectory(),
            keys=KeyStore.load(tmp_path / "keys.json"),
            view=view,
            producer=producer,
            session=session,
            clock=lambda: NOW,
        )
        client = TestClient(TestServer(create_app(deps)))
        await client.start_server()
        try:
            yield client, operator_key
        finally:
            await client.close()


async def last_record(bootstrap: str, tp: TopicPartition) -> tuple[bytes | None, bytes | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, end - 1)
        record = await consumer.getone()
        return record.key, record.value
    finally:
        await consumer.stop()


async def test_the_console_replays_a_consumers_letter_onto_its_partition(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    raw = encode(approved("c1", "mastodon-demo"))
    command = Rec(topics.schedule_commands, 2, 5, b"mastodon-demo", raw)
    letter = letter_for(command, KeyError("slot table"), "scheduler-planner", NOW)
    garbage = letter_for(
        Rec(topics.schedule_commands, 1, 3, b"x", b"{not json"),
        MalformedMessage("not JSON"),
        "scheduler-planner",
        NOW,
    )
    state = letter_for(Rec(topics.schedule_jobs, 0, 9, b"j", raw), KeyError("k"), "ingest-feeder", NOW)
    view = ConsoleView()
    for each in (letter, garbage, state):
        view.apply(each)

    async with console(kafka_bootstrap, topics, tmp_path, view) as (client, key):
        auth = {"Authorization": f"Bearer {key}"}
        listed = await (await client.get("/v1/dead", headers=auth)).json()
        mine = next(d for d in listed["dead"] if d["id"] == letter.event_id)
        assert (mine["consumer"], mine["error_type"]) == ("scheduler-planner", "KeyError")
        assert mine["reason"] == "KeyError: 'slot table'"

        replayed = await client.post(f"/v1/dead/{letter.event_id}/replay", headers=auth)
        assert replayed.status == 202, await replayed.text()
        assert await last_record(kafka_bootstrap, TopicPartition(topics.schedule_commands, 2)) == (
            b"mastodon-demo",
            raw,
        )

        refused = await client.post(f"/v1/dead/{garbage.event_id}/replay", headers=auth)
        assert refused.status == 409
        assert "nothing to replay" in await refused.text()
        refused = await client.post(f"/v1/dead/{state.event_id}/replay", headers=auth)
        assert refused.status == 409
        assert "holds state" in await refused.text()

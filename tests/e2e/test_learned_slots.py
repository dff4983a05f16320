"""The learned policy in the running system: urgent goes now; a normal item gets a slot with its
explanation (expected engagement, runner-up, binding constraint) visible in its status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from shared.devrun import LocalSystem
from tests.e2e.client import Api, Sandbox, item, unique_text
from tests.e2e.conftest import local_system

pytestmark = pytest.mark.e2e
CH = "mastodon-demo"


@pytest.fixture(scope="module")
def learned(kafka_bootstrap: str) -> Iterator[LocalSystem]:
    yield from local_system(kafka_bootstrap, WARTA_POLICY="learned")


@pytest.fixture
async def api(learned: LocalSystem) -> AsyncIterator[Api]:
    import json

    key = json.loads(learned.dev_keys_file.read_text())["approver"]["key"]
    async with aiohttp.ClientSession() as session:
        yield Api(session, learned.ingest_url, key)


async def test_urgent_items_go_now(learned: LocalSystem, api: Api) -> None:
    text = unique_text("Urgent: banjir")
    content_id = await api.submit(item(text, [CH], priority="urgent"))
    published = await api.wait_state(content_id, CH, "published")
    assert published["explanation"]["binding_constraint"] == "urgent"
    async with aiohttp.ClientSession() as session:
        assert len(await Sandbox(session, learned.sandbox_url, "mastodon").posts_containing(text)) == 1


async def test_a_normal_item_gets_an_explained_peak_slot(api: Api) -> None:
    deadline = datetime.now(UTC) + timedelta(days=2)
    body = item(unique_text("Evergreen explainer"), [CH], priority="normal", deadline=deadline.isoformat())
    content_id = await api.submit(body)
    planned = await api.wait_state(content_id, CH, "scheduled")
    slot = datetime.fromisoformat(planned["slot"])
    assert datetime.now(UTC) - timedelta(seconds=5) <= slot <= deadline
    explanation = planned["explanation"]
    assert explanation["expected_engagement"] is not None
    assert explanation["reason"]
    status, _ = await api.post(f"/v1/content/{content_id}/withdraw", {"reason": "test cleanup"})
    assert status == 202

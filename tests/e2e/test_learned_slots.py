"""The learned policy in the running system: urgent goes now; a normal item gets a slot in its
window with the explanation of it (expected engagement, runner-up, binding constraint) visible in
its status. Whether slots land in the audience's peak hours is the policy's quality, judged on
literal cases (tests/unit/test_policy_slots.py) and on simulated worlds (bench/slots.py): with
exploration, one slot in a running system may rightly be off-peak."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.e2e.client import Api, Sandbox, item, unique_text
from tests.e2e.conftest import local_system
from warta.devrun import LocalSystem

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


async def test_a_normal_item_gets_a_slot_in_its_window_and_the_explanation_of_it(api: Api) -> None:
    deadline = datetime.now(UTC) + timedelta(days=2)
    body = item(unique_text("Evergreen explainer"), [CH], priority="normal", deadline=deadline.isoformat())
    content_id = await api.submit(body)
    planned = await api.wait_state(content_id, CH, "scheduled")
    slot = datetime.fromisoformat(planned["slot"])
    assert datetime.now(UTC) - timedelta(seconds=5) <= slot <= deadline
    explanation = planned["explanation"]
    assert datetime.fromisoformat(explanation["chosen"]) == slot
    assert explanation["expected_engagement"] is not None
    if explanation["runner_up"] is not None:  # the alternative it weighed, inside the window too
        runner_up = datetime.fromisoformat(explanation["runner_up"])
        assert runner_up != slot
        assert datetime.now(UTC) - timedelta(seconds=5) <= runner_up <= deadline
        assert explanation["runner_up_engagement"] is not None
    assert explanation["reason"]
    status, _ = await api.post(f"/v1/content/{content_id}/withdraw", {"reason": "test cleanup"})
    assert status == 202

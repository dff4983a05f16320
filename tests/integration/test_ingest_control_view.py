"""Ingest shows the pauses the scheduler applies: a pause of all reaches each channel, a channel
resumed afterwards runs again, and commands from several instances count in the log's order, not
in the order their writers heard back from the broker. Real ingest apps on the real broker."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import RecordMetadata

from shared.events import ControlAction, ControlIssued, Event
from shared.topics import TopicRegistry
from tests.integration.ingest_app import Ingest, running_ingest, wait_for

pytestmark = pytest.mark.integration


async def pauses(app: Ingest) -> dict[str, Any]:
    """Each channel's pause as GET /v1/channels shows it (None: running)."""
    answer = await app.call("GET", "/v1/channels", role="operator")
    assert answer.status == 200, answer
    return {c["channel"]: c["paused"] for c in answer.body["channels"]}


async def control(app: Ingest, path: str, body: dict[str, Any]) -> None:
    answer = await app.call("POST", path, body, role="operator")
    assert answer.status == 202, answer


async def test_a_channel_resumed_after_a_pause_of_all_is_shown_running(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path
) -> None:
    async with running_ingest(kafka_bootstrap, topics, tmp_path) as app:
        await control(app, "/v1/pause", {"reason": "banjir"})
        await control(app, "/v1/resume", {"reason": "ok", "channels": ["mastodon-demo"]})
        shown = await pauses(app)
        assert shown.pop("mastodon-demo") is None
        assert shown
        assert all(p == {"by": app.people["operator"], "reason": "banjir"} for p in shown.values()), shown


async def test_commands_are_shown_in_the_logs_order_not_as_their_writers_hear_back(
    kafka_bootstrap: str, topics: TopicRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        running_ingest(kafka_bootstrap, topics, tmp_path) as one,
        running_ingest(kafka_bootstrap, topics, tmp_path) as two,
    ):
        write = one.deps.writer.write

        def resumed() -> bool:
            return any(e.action is ControlAction.RESUME for e in one.deps.view.audit)

        async def pause_answered_late(
            topic: str, key: str, event: Event, *, hold: Hashable | None = None
        ) -> RecordMetadata:
            stored = await write(topic, key, event, hold=hold)
            if isinstance(event, ControlIssued) and event.action is ControlAction.PAUSE:
                # Before the pause's writer hears back, the other instance resumes every channel,
                # and the writer's own feeder reads both, in that order.
                await control(two, "/v1/resume", {"reason": "ok"})
                await wait_for(resumed, what="the resume read by the pause's instance")
            return stored

        monkeypatch.setattr(one.deps.writer, "write", pause_answered_late)
        await control(one, "/v1/pause", {"reason": "banjir"})
        for app in (one, two):
            shown = await pauses(app)
            assert all(p is None for p in shown.values()), shown

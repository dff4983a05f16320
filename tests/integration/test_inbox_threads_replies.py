"""Threads on the real broker: a citizen's reply to the bureau's post is read from the post's
``replies`` edge, answered once (a reply container with ``reply_to_id``, then ``threads_publish``),
and the comment becomes answered; the bureau's own reply is no new comment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakePost
from tests.integration.inbox_system import inbox_system
from tests.integration.test_inbox_replies import comment_in_inbox, own_replies, reply, settled

pytestmark = pytest.mark.integration

POST = "18000000000000777"


async def test_a_threads_reply_is_read_answered_once_and_the_comment_is_answered(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        post = FakePost(POST, "demo", "Jembatan dibuka besok", datetime.now(UTC), data={"owner": "me"})
        await system.published("threads-demo", "threads", post)
        comment_id, key = await comment_in_inbox(system, "threads", POST)
        sending = await reply(system, key, "Pukul 08.00 WITA.")
        assert sending["state"] == "replying"
        await settled(system, key)
        posted = own_replies(system.env.states["threads"], comment_id)
        assert [c.text for c in posted] == ["Pukul 08.00 WITA."]
        answered = system.inbox.keeper.book.get(key)
        assert answered is not None
        assert answered.reply is not None
        assert answered.reply.posted_id == posted[0].id
        await asyncio.sleep(1.0)
        assert len(system.inbox.keeper.book) == 1
        requests = system.env.states["threads"].requests
        assert (
            sum(n for name, n in requests.items() if name.startswith("POST") and "threads_publish" in name)
            == 1
        )

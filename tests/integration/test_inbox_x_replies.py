"""X on the real broker: a citizen's reply to the bureau's post is read by recent search of the
conversation (a paid read tier), answered once with ``reply.in_reply_to_tweet_id``, and the
comment becomes answered; the bureau's own reply, found by the next search, is no new comment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.base import FakePost
from tests.integration.inbox_system import inbox_system
from tests.integration.test_inbox_replies import comment_in_inbox, own_replies, reply, settled

pytestmark = pytest.mark.integration

POST = "1860000000000000777"


async def test_an_x_reply_is_read_answered_once_and_the_comment_is_answered(
    kafka_bootstrap: str, run_id: str, tmp_path: Path
) -> None:
    async with inbox_system(kafka_bootstrap, run_id, tmp_path) as system:
        post = FakePost(
            POST, "demo", "Jembatan dibuka besok", datetime.now(UTC), url=f"https://x.com/demo/status/{POST}"
        )
        await system.published("x-basic", "x", post)
        comment_id, key = await comment_in_inbox(system, "x", POST)
        entry = system.inbox.keeper.book.get(key)
        assert entry is not None
        assert entry.comment.author.name == "warga1"
        sending = await reply(system, key, "Pukul 08.00 WIB.")
        assert sending["state"] == "replying"
        await settled(system, key)
        posted = own_replies(system.env.states["x"], comment_id)
        assert [c.text for c in posted] == ["Pukul 08.00 WIB."]
        answered = system.inbox.keeper.book.get(key)
        assert answered is not None
        assert answered.reply is not None
        assert answered.reply.posted_id == posted[0].id
        # Later polls see the bureau's own reply in the conversation: not a comment to answer.
        await asyncio.sleep(1.0)
        assert len(system.inbox.keeper.book) == 1
        requests = system.env.states["x"].requests
        assert (
            sum(n for name, n in requests.items() if name.startswith("POST") and name.endswith("/2/tweets"))
            == 1
        )

"""Telegram comments reach the inbox from the channel's linked discussion group: the bot's
``getUpdates`` over real HTTP against the fake, each comment on the channel post its thread started
from, replies linked (after a restart too), the group's own chat left out, and every update
confirmed only after its comments were written (no broker: the written comments are kept by a
stateful stand-in for the collector's ``emit``, whose acknowledged writing is tested elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.base import FakePost
from sandbox.telegram_discussion import DISCUSSION_CHAT_ID
from services.inbox.access import readability
from services.inbox.errors import ReadRefused
from services.inbox.parsing import Parsed
from services.inbox.readers import CommentReader
from services.inbox.telegram_updates import bot_feeds, read_feed
from services.inbox.watched import WatchedPost
from shared.channels import Channel, ChannelDirectory
from shared.events import CommentObserved
from tests.integration.conftest_fakes import TOKEN, running_sandbox

pytestmark = pytest.mark.integration


class Written:
    """What the collector would have written, and whether the broker is up."""

    def __init__(self) -> None:
        self.comments: list[CommentObserved] = []
        self.broker_up = True

    async def emit(self, parsed: Parsed, source: str, now: datetime) -> int:
        if not self.broker_up:
            raise RuntimeError("no acknowledgement")
        assert parsed.problems == [], parsed.problems
        self.comments += parsed.comments
        return len(parsed.comments)


def lookup(channel: Channel, post_id: str, now: datetime) -> WatchedPost:
    return WatchedPost(channel.id, channel.platform, post_id, published_at=now, content_id="c1")


async def test_discussion_group_comments_are_read_once_each_on_their_post() -> None:
    async with running_sandbox({"demo": TOKEN}) as env:
        now = datetime.now(UTC)
        for post_id in ("7", "8"):
            env.states["telegram"].posts.append(FakePost(post_id, "demo", f"Pos {post_id}", now))
        channel = Channel(
            id="telegram-demo", platform="telegram", account="demo", base_url=env.url("/telegram"),
            secret="demo", options={"chat_id": "@warta", "discussion_chat_id": str(DISCUSSION_CHAT_ID)},
        )  # fmt: skip
        assert readability(channel).mode == "updates"
        feed = bot_feeds(ChannelDirectory(channels=(channel,)))["demo"]
        reader, written = CommentReader(env.session, {"demo": TOKEN}), Written()

        async def comment(post_id: str, text: str, parent: str | None = None) -> str:
            body = {"post_id": post_id, "text": text, "author": "warga", "parent_id": parent}
            return str((await env.admin("telegram", "comments", body))["id"])

        first = await comment("7", "Jalan rusak")
        reply = await comment("7", "Betul", parent=first)
        other = await comment("8", "Terima kasih")
        assert await read_feed(reader, feed, TOKEN, lookup, written.emit, now) == 3
        got = [(c.post_id, c.comment_id, c.parent_id, c.text, c.content_id) for c in written.comments]
        assert got == [
            ("7", first, None, "Jalan rusak", "c1"),
            ("7", reply, first, "Betul", "c1"),
            ("8", other, None, "Terima kasih", "c1"),
        ]
        assert {c.channel for c in written.comments} == {"telegram-demo"}

        # A restart forgets the threads learnt: a reply to a comment the inbox holds (its book)
        # still names its post.
        answer = await comment("7", "Kapan diperbaiki?", parent=first)
        held = {c.comment_id: c.post_id for c in written.comments}
        restarted = bot_feeds(ChannelDirectory(channels=(channel,)), lambda _, cid: held.get(cid))["demo"]
        restarted.offset = feed.offset  # Telegram confirmed the updates before it at the last call
        feed = restarted
        assert await read_feed(reader, feed, TOKEN, lookup, written.emit, now) == 1
        assert (written.comments[-1].comment_id, written.comments[-1].post_id) == (answer, "7")
        assert written.comments[-1].parent_id == first

        # Confirmed: read again, nothing repeats; a comment not written is read again.
        assert await read_feed(reader, feed, TOKEN, lookup, written.emit, now) == 0
        late = await comment("8", "Kapan?")
        written.broker_up = False
        with pytest.raises(RuntimeError):
            await read_feed(reader, feed, TOKEN, lookup, written.emit, now)
        written.broker_up = True
        assert await read_feed(reader, feed, TOKEN, lookup, written.emit, now) == 1
        assert written.comments[-1].comment_id == late

        with pytest.raises(ReadRefused):
            await read_feed(
                CommentReader(env.session, {"demo": "wrong"}), feed, "wrong", lookup, written.emit, now
            )

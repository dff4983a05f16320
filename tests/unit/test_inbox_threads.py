"""Threads in the inbox (pure): reading the replies edge, the two reply calls, finding our reply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.inbox.access import readability
from services.inbox.errors import Unreadable
from services.inbox.parsing import threads_replies
from services.inbox.reply_platforms import (
    found_reply,
    lookup_call,
    threads_container_call,
    threads_publish_call,
)
from services.inbox.watched import WatchedPost
from shared.channels import Channel
from shared.events import ReplyRequested

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
POST = "18000000000000001"
WATCHED = WatchedPost(channel="threads-demo", platform="threads", post_id=POST, published_at=NOW)
CHANNEL = Channel(id="threads-demo", platform="threads", account="demo", base_url="https://graph.threads.net")
REPLY = ReplyRequested(
    event_id="r1", occurred_at=NOW, key="k", channel="threads-demo", platform="threads",
    comment_id="18000000000000002", post_id=POST, text="Pukul 08.00.", approved_by="rina",
)  # fmt: skip


def test_the_replies_edge_becomes_comments_and_a_broken_item_is_set_aside() -> None:
    body = {
        "data": [
            {"id": "2", "text": "Jam?", "username": "warga1", "timestamp": "2026-12-04T02:00:00+0000",
             "replied_to": {"id": POST}, "permalink": "https://www.threads.net/@warga1/post/x"},
            {"id": "3", "text": "no time", "username": "warga2"},
        ],
        "paging": {"cursors": {"after": "QVFI"}, "next": "https://graph.threads.net/next"},
    }  # fmt: skip
    parsed = threads_replies(body, WATCHED, NOW)
    [comment] = parsed.comments
    assert comment.parent_id is None
    assert comment.author.name == "warga1"
    assert comment.created_at == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert [p.item["id"] for p in parsed.problems] == ["3"]
    assert parsed.next_page == "QVFI"
    with pytest.raises(Unreadable):
        threads_replies({"error": {"code": 100}}, WATCHED, NOW)


def test_a_reply_is_a_container_answering_the_comment_then_its_publication() -> None:
    container = threads_container_call(CHANNEL, REPLY, "tok")
    assert container.url == "https://graph.threads.net/v1.0/me/threads"
    assert container.data == {"media_type": "TEXT", "text": "Pukul 08.00.", "reply_to_id": REPLY.comment_id}
    own = CHANNEL.model_copy(update={"options": {"threads_user_id": "1789"}})
    publish = threads_publish_call(own, "c9", "tok")
    assert publish.url == "https://graph.threads.net/v1.0/1789/threads_publish"
    assert publish.data == {"creation_id": "c9"}


def test_our_reply_is_found_in_the_comments_replies_by_our_username_and_text() -> None:
    assert (
        lookup_call(CHANNEL, REPLY, "tok").url == f"https://graph.threads.net/v1.0/{REPLY.comment_id}/replies"
    )
    mine = {"id": "9", "text": REPLY.text, "username": "demo"}
    theirs = {"id": "8", "text": REPLY.text, "username": "warga1"}
    assert found_reply(CHANNEL, REPLY, {"data": [theirs, mine]}) == "9"
    assert found_reply(CHANNEL, REPLY, {"data": [theirs]}) is None


def test_threads_is_polled() -> None:
    assert readability(CHANNEL).mode == "poll"

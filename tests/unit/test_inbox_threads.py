"""Threads in the inbox (pure): reading the replies edge (the reply calls are the publisher's:
test_publisher_reply_calls)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.inbox.access import readability
from services.inbox.errors import Unreadable
from services.inbox.parsing import threads_replies
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


def test_threads_is_polled() -> None:
    assert readability(CHANNEL).mode == "poll"

"""X in the inbox (pure): reading a recent-search answer (the reply call is the publisher's:
test_publisher_reply_calls)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.inbox.access import readability
from services.inbox.errors import Unreadable
from services.inbox.parsing import x_search
from services.inbox.watched import WatchedPost
from shared.channels import Channel
from shared.events import ReplyRequested

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
POST = "1860000000000000001"
WATCHED = WatchedPost(channel="x-demo", platform="x", post_id=POST, published_at=NOW)
CHANNEL = Channel(id="x-demo", platform="x", account="demo", base_url="https://api.x.com/", secret="s")
REPLY = ReplyRequested(
    event_id="r1", occurred_at=NOW, key="k", channel="x-demo", platform="x", comment_id="1860000000000000002",
    post_id=POST, text="Pukul 08.00 WIB.", approved_by="rina",
)  # fmt: skip


def tweet(tid: str, replied_to: str, text: str = "Jam berapa?", author: str = "77") -> dict[str, Any]:
    return {
        "id": tid, "text": text, "author_id": author, "conversation_id": POST,
        "created_at": "2026-12-04T02:00:00.000Z", "referenced_tweets": [{"type": "replied_to", "id": replied_to}],
    }  # fmt: skip


def test_a_search_answer_becomes_comments_with_their_authors_and_parents() -> None:
    body = {
        "data": [tweet("3", "2"), tweet("2", POST), {"id": "4", "text": "no author"}],
        "includes": {"users": [{"id": "77", "username": "warga1", "name": "Warga"}]},
        "meta": {"result_count": 3, "next_token": "b26v89c19zqg8o3fpzbkk"},
    }
    parsed = x_search(body, WATCHED, NOW)
    by_id = {c.comment_id: c for c in parsed.comments}
    assert by_id["2"].parent_id is None  # a reply to the post itself is a direct comment
    assert by_id["3"].parent_id == "2"
    assert by_id["3"].author.name == "warga1"
    assert by_id["3"].url == "https://x.com/warga1/status/3"
    assert by_id["3"].created_at == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert [p.item["id"] for p in parsed.problems] == ["4"]
    assert parsed.next_page == "b26v89c19zqg8o3fpzbkk"


def test_a_comment_reads_as_the_citizen_wrote_it_not_as_x_escapes_it() -> None:
    # X sends "&", "<" and ">" escaped; an escaped "&lt;" ("&amp;lt;") was typed as "&lt;".
    body = {"data": [tweet("2", POST, text="Jalan &lt;rusak&gt; &amp; banjir &amp;lt;3")], "meta": {}}
    (comment,) = x_search(body, WATCHED, NOW).comments
    assert comment.text == "Jalan <rusak> & banjir &lt;3"


def test_an_empty_search_is_no_comments_and_a_foreign_answer_is_unreadable() -> None:
    assert x_search({"meta": {"result_count": 0}}, WATCHED, NOW).comments == []
    foreign: list[Any] = [{"data": []}, [], {"meta": {}, "data": "x"}]
    for body in foreign:
        with pytest.raises(Unreadable):
            x_search(body, WATCHED, NOW)


def test_x_is_read_on_a_paid_tier_only_and_says_why_not_otherwise() -> None:
    free = readability(CHANNEL)
    assert free.mode == "unreadable"
    assert "paid read tier" in free.reason
    basic = readability(CHANNEL.model_copy(update={"options": {"x_read_tier": "basic"}}))
    assert basic.mode == "poll"
    assert "conversation_id" in basic.reason

"""The replier's pure decisions: what to do with a reply given its log, and how each platform's
listing proves a reply there or absent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.inbox import reply_bluesky
from services.inbox.errors import NotListed
from services.inbox.reply_decision import MAX_ATTEMPTS, ReplyLog, Settle, Step, after_lookup, next_step
from services.inbox.reply_platforms import found_reply, lookup_call, reply_call
from shared.channels import Channel
from shared.events import ReplyAttempted, ReplyRequested, ReplySettled, ReplyStatus

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
REQUEST = ReplyRequested(
    event_id="ib1.3",
    occurred_at=NOW,
    key="ib1",
    channel="mastodon-demo",
    platform="mastodon",
    comment_id="c1",
    post_id="p1",
    text="Besok pagi.",
    approved_by="rina",
)
ATTEMPT = ReplyAttempted(event_id="ib1.3.a1", occurred_at=NOW, reply_id="ib1.3", key="ib1", attempt=1)
POSTED = ReplySettled(
    event_id="ib1.3.s",
    occurred_at=NOW,
    reply_id="ib1.3",
    key="ib1",
    status=ReplyStatus.POSTED,
    posted_id="r1",
)


def log_of(*events: ReplyRequested | ReplyAttempted | ReplySettled) -> ReplyLog:
    log = ReplyLog()
    for event in events:
        log.apply(event)
    return log


@pytest.mark.parametrize(
    ("events", "step"),
    [
        ((REQUEST,), Step.POST),
        ((REQUEST, ATTEMPT), Step.RECONCILE),  # died between the call and its record
        ((REQUEST, ATTEMPT, POSTED), Step.SKIP),
        ((REQUEST, ATTEMPT, POSTED, REQUEST), Step.SKIP),  # re-requested after a restart
    ],
)
def test_next_step(events: tuple[ReplyRequested | ReplyAttempted | ReplySettled, ...], step: Step) -> None:
    assert next_step(log_of(*events)) == step


def test_the_first_settlement_stands() -> None:
    failed = POSTED.model_copy(update={"status": ReplyStatus.FAILED, "posted_id": None})
    assert log_of(REQUEST, POSTED, failed).settled == POSTED


@pytest.mark.parametrize(
    ("found", "answered", "attempts", "expected"),
    [
        ("r1", True, 1, Settle(ReplyStatus.POSTED, posted_id="r1")),
        (None, True, 1, Step.POST),  # proven absent: the call never reached the platform
        (None, True, MAX_ATTEMPTS, ReplyStatus.FAILED),
        (None, False, 1, ReplyStatus.UNCONFIRMED),  # never re-sent on a guess
    ],
)
def test_after_lookup(found: str | None, answered: bool, attempts: int, expected: object) -> None:
    decided = after_lookup(found, answered=answered, attempts=attempts, why="timeout")
    if isinstance(expected, ReplyStatus):
        assert isinstance(decided, Settle)
        assert decided.status == expected
        assert decided.error is not None
        assert "timeout" in decided.error
    else:
        assert decided == expected


def channel(platform: str) -> Channel:
    return Channel(
        id=f"{platform}-demo", platform=platform, account="demo", base_url="http://fake", secret="s"
    )


def test_the_documented_calls() -> None:
    mastodon = reply_call(channel("mastodon"), REQUEST, "tok")
    assert (mastodon.method, mastodon.url) == ("POST", "http://fake/api/v1/statuses")
    assert mastodon.json is not None
    assert mastodon.json["in_reply_to_id"] == "c1"
    assert mastodon.headers["Idempotency-Key"] == "ib1.3"
    facebook = reply_call(channel("facebook"), REQUEST, "tok")
    assert facebook.url.endswith("/c1/comments")
    assert facebook.data == {"message": "Besok pagi."}
    assert reply_call(channel("instagram"), REQUEST, "tok").url.endswith("/c1/replies")
    assert lookup_call(channel("facebook"), REQUEST, "tok").url.endswith("/p1/comments")
    threaded = REQUEST.model_copy(update={"parent_id": "top1"})
    youtube = reply_call(channel("youtube"), threaded, "tok")
    assert youtube.json == {"snippet": {"parentId": "top1", "textOriginal": "Besok pagi."}}
    assert youtube.params == {"part": "snippet"}
    assert reply_call(channel("instagram"), threaded, "tok").url.endswith("/top1/replies")
    assert reply_call(channel("facebook"), threaded, "tok").url.endswith("/c1/comments")
    with pytest.raises(ValueError, match="tiktok"):
        reply_call(channel("tiktok"), REQUEST, "tok")


def status(sid: str, parent: str, acct: str, content: str) -> dict[str, Any]:
    return {"id": sid, "in_reply_to_id": parent, "account": {"acct": acct}, "content": content}


@pytest.mark.parametrize(
    ("platform", "body", "found"),
    [
        ("mastodon", {"descendants": [status("r1", "c1", "demo", "<p>Besok pagi.</p>")]}, "r1"),
        ("mastodon", {"descendants": [status("r1", "c1", "warga", "<p>Besok pagi.</p>")]}, None),
        ("mastodon", {"descendants": [status("r1", "c2", "demo", "<p>Besok pagi.</p>")]}, None),
        ("facebook", {"data": [{"id": "r2", "message": "Besok pagi.", "from": {"name": "demo"}}]}, "r2"),
        ("facebook", {"data": [{"id": "r2", "message": "Lain."}]}, None),
        ("instagram", {"data": [{"id": "r3", "text": "Besok pagi.", "username": "demo"}]}, "r3"),
        ("instagram", {"data": [{"id": "r3", "text": "Besok pagi.", "username": "warga"}]}, None),
        (
            "youtube",
            {
                "items": [
                    {"id": "r4", "snippet": {"textOriginal": "Besok pagi.", "authorDisplayName": "@demo"}}
                ]
            },
            "r4",
        ),
        (
            "youtube",
            {
                "items": [
                    {"id": "r4", "snippet": {"textOriginal": "Besok pagi.", "authorDisplayName": "@warga"}}
                ]
            },
            None,
        ),
    ],
)
def test_found_reply(platform: str, body: dict[str, Any], found: str | None) -> None:
    assert found_reply(channel(platform), REQUEST, body) == found


def test_an_answer_that_is_not_the_listing_proves_nothing() -> None:
    with pytest.raises(NotListed):
        found_reply(channel("mastodon"), REQUEST, {"error": "oops"})
    with pytest.raises(NotListed):
        found_reply(channel("facebook"), REQUEST, [])


def test_a_bluesky_reply_has_one_record_key_and_its_refs() -> None:
    bsky = REQUEST.model_copy(
        update={
            "platform": "bluesky",
            "post_id": "at://did:plc:a/app.bsky.feed.post/root",
            "comment_id": "at://c",
        }
    )
    key = reply_bluesky.record_key(bsky)
    assert key == reply_bluesky.record_key(bsky)  # every attempt lands at the same URI
    assert len(key) == 13
    assert key[0] in "234567abcdefghij"  # a TID's top bit is 0
    assert reply_bluesky.record_key(bsky.model_copy(update={"event_id": "ib1.4"})) != key
    thread = {
        "thread": {
            "post": {"uri": bsky.post_id, "cid": "bafyroot"},
            "replies": [
                {
                    "post": {"uri": "at://x", "cid": "bafyx"},
                    "replies": [{"post": {"uri": "at://c", "cid": "bafyc"}}],
                }
            ],
        }
    }
    root, parent = reply_bluesky.refs(thread, "at://c")
    assert (root, parent) == ({"uri": bsky.post_id, "cid": "bafyroot"}, {"uri": "at://c", "cid": "bafyc"})
    body = reply_bluesky.record(bsky, root, parent)
    assert body["reply"] == {"root": root, "parent": parent}
    assert body["createdAt"] == "2026-12-04T03:00:00.000Z"
    with pytest.raises(reply_bluesky.NoRefs):
        reply_bluesky.refs(thread, "at://gone")
    with pytest.raises(reply_bluesky.NoRefs):
        reply_bluesky.refs({"thread": {"$type": "app.bsky.feed.defs#notFoundPost"}}, "at://c")

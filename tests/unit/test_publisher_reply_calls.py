"""The publisher's reply calls (pure): each platform's documented request, the reply's id in its
answer, and how each platform's listing proves a reply there or absent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.publisher.adapters.port import Credentials, PublishRequest, Target
from services.publisher.adapters.reply_bluesky import NoRefs, refs
from services.publisher.adapters.reply_calls import (
    NoReplyCall,
    NotListed,
    found_reply,
    lookup_call,
    posted_id,
    reply_call,
    threads_container,
    threads_publish,
)
from shared.comment_rules import REPLIES_BUILT
from shared.events import Content, ReplyTarget

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
TO = ReplyTarget(key="ib1", comment_id="c1", post_id="p1", approved_by="rina")


def request(to: ReplyTarget = TO, text: str = "Besok pagi.") -> PublishRequest:
    return PublishRequest(job_id="ib1.3:x", attempt=1, content=Content(text=text), marker="w123", reply_to=to)


def target(platform: str, **options: str) -> Target:
    return Target(
        channel=f"{platform}-demo", account="demo", base_url="http://fake",
        credentials=Credentials("tok"), options=options,
    )  # fmt: skip


def test_the_documented_calls() -> None:
    mastodon = reply_call("mastodon", target("mastodon"), request())
    assert (mastodon.method, mastodon.path) == ("POST", "/api/v1/statuses")
    assert mastodon.kw["json"]["in_reply_to_id"] == "c1"
    assert mastodon.kw["headers"] == {"Idempotency-Key": "w123"}  # the job's marker
    assert mastodon.folds_resends
    facebook = reply_call("facebook", target("facebook"), request())
    assert (facebook.path, facebook.kw) == ("/c1/comments", {"data": {"message": "Besok pagi."}})
    assert reply_call("instagram", target("instagram"), request()).path == "/c1/replies"
    assert lookup_call("facebook", target("facebook"), request()).path == "/p1/comments"
    threaded = request(TO.model_copy(update={"parent_id": "top1"}))
    youtube = reply_call("youtube", target("youtube"), threaded)
    assert youtube.kw == {
        "params": {"part": "snippet"},
        "json": {"snippet": {"parentId": "top1", "textOriginal": "Besok pagi."}},
    }
    assert reply_call("instagram", target("instagram"), threaded).path == "/top1/replies"
    assert reply_call("facebook", target("facebook"), threaded).path == "/c1/comments"
    x = reply_call("x", target("x"), request())
    assert x.kw["json"] == {"text": "Besok pagi.", "reply": {"in_reply_to_tweet_id": "c1"}}
    with pytest.raises(NoReplyCall, match="tiktok"):
        reply_call("tiktok", target("tiktok"), request())


def test_threads_is_a_container_answering_the_comment_then_its_publication() -> None:
    container = threads_container(target("threads"), request())
    assert container.path == "/me/threads"
    assert container.kw["data"] == {"media_type": "TEXT", "text": "Besok pagi.", "reply_to_id": "c1"}
    publish = threads_publish(target("threads", threads_user_id="1789"), "c9")
    assert (publish.path, publish.kw["data"]) == ("/1789/threads_publish", {"creation_id": "c9"})


def test_telegram_answers_in_the_discussion_group_and_linkedin_on_the_share() -> None:
    with pytest.raises(NoReplyCall, match="discussion"):
        reply_call("telegram", target("telegram"), request())
    message = request(TO.model_copy(update={"comment_id": "42"}))
    telegram = reply_call("telegram", target("telegram", discussion_chat_id="-100123"), message)
    assert telegram.path == "sendMessage"
    assert telegram.kw["json"] == {
        "chat_id": "-100123",
        "text": "Besok pagi.",
        "reply_parameters": {"message_id": 42},
    }
    with pytest.raises(NoReplyCall, match="not a message id"):
        reply_call("telegram", target("telegram", discussion_chat_id="-100123"), request())
    share = TO.model_copy(
        update={"post_id": "urn:li:share:7", "comment_id": "urn:li:comment:(urn:li:activity:7,9)"}
    )
    linkedin = reply_call("linkedin", target("linkedin", author="urn:li:organization:5"), request(share))
    assert linkedin.path == "/rest/socialActions/urn%3Ali%3Ashare%3A7/comments"
    assert linkedin.kw["json"] == {
        "actor": "urn:li:organization:5",
        "object": "urn:li:share:7",
        "message": {"text": "Besok pagi."},
        "parentComment": share.comment_id,
    }
    whatsapp = reply_call("whatsapp", target("whatsapp", phone_number_id="106"), request())
    assert whatsapp.path == "/106/messages"
    assert whatsapp.kw["json"]["context"] == {"message_id": "c1"}
    assert whatsapp.kw["json"]["to"] == "p1"  # a WhatsApp comment's "post" is its sender


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"id": "1"}, "1"),
        ({"data": {"id": "9", "text": "x"}}, "9"),
        ({"ok": True, "result": {"message_id": 77}}, "77"),
        ({"messages": [{"id": "wamid.1"}]}, "wamid.1"),
        ({"id": "9", "commentUrn": "urn:li:comment:(urn:li:share:7,9)"}, "urn:li:comment:(urn:li:share:7,9)"),
        ({"id": ""}, None),
        ({"id": True}, None),
        (None, None),
    ],
)
def test_the_reply_id_in_a_success_answer(body: Any, found: str | None) -> None:
    assert posted_id(body) == found


def status(sid: str, parent: str, acct: str, content: str) -> dict[str, Any]:
    return {"id": sid, "in_reply_to_id": parent, "account": {"acct": acct}, "content": content}


def tweet(tid: str, replied_to: str, text: str) -> dict[str, Any]:
    return {"id": tid, "text": text, "referenced_tweets": [{"type": "replied_to", "id": replied_to}]}


YT_OURS = {"id": "r4", "snippet": {"textOriginal": "Besok pagi.", "authorDisplayName": "@demo"}}
YT_THEIRS = {"id": "r4", "snippet": {"textOriginal": "Besok pagi.", "authorDisplayName": "@warga"}}


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
        ("threads", {"data": [{"id": "9", "text": "Besok pagi.", "username": "demo"}]}, "9"),
        ("youtube", {"items": [YT_OURS]}, "r4"),
        ("youtube", {"items": [YT_THEIRS]}, None),
        ("x", {"data": [tweet("9", "c1", "Besok pagi.")], "meta": {"result_count": 1}}, "9"),
        ("x", {"data": [tweet("9", "other", "Besok pagi."), tweet("8", "c1", "Lain.")], "meta": {}}, None),
        ("x", {"meta": {"result_count": 0}}, None),
        (
            "linkedin",
            {
                "elements": [
                    {
                        "id": "9",
                        "commentUrn": "urn:li:comment:9",
                        "actor": "urn:li:organization:demo",
                        "message": {"text": "Besok pagi."},
                    }
                ]
            },
            "urn:li:comment:9",
        ),
    ],
)
def test_found_reply(platform: str, body: dict[str, Any], found: str | None) -> None:
    assert found_reply(platform, target(platform), request(), body) == found


def test_an_answer_that_is_not_the_listing_proves_nothing() -> None:
    with pytest.raises(NotListed):
        found_reply("mastodon", target("mastodon"), request(), {"error": "oops"})
    with pytest.raises(NotListed):
        found_reply("facebook", target("facebook"), request(), [])


def test_telegram_and_whatsapp_cannot_list_the_replies_sent() -> None:
    for platform in ("telegram", "whatsapp"):
        with pytest.raises(NoReplyCall):
            lookup_call(platform, target(platform), request())


def test_a_bluesky_reply_names_its_thread_root_and_parent() -> None:
    root_uri = "at://did:plc:a/app.bsky.feed.post/root"
    thread = {
        "thread": {
            "post": {"uri": root_uri, "cid": "bafyroot"},
            "replies": [
                {
                    "post": {"uri": "at://x", "cid": "bafyx"},
                    "replies": [{"post": {"uri": "at://c", "cid": "bafyc"}}],
                }
            ],
        }
    }
    assert refs(thread, "at://c") == ({"uri": root_uri, "cid": "bafyroot"}, {"uri": "at://c", "cid": "bafyc"})
    with pytest.raises(NoRefs):
        refs(thread, "at://gone")
    with pytest.raises(NoRefs):
        refs({"thread": {"$type": "app.bsky.feed.defs#notFoundPost"}}, "at://c")


def test_every_platform_said_to_take_replies_has_a_reply_call() -> None:
    options = {"discussion_chat_id": "-1", "phone_number_id": "1"}
    numeric = request(TO.model_copy(update={"comment_id": "42"}))
    for platform in REPLIES_BUILT - {"bluesky", "threads"}:  # their calls take more than one step
        assert reply_call(platform, target(platform, **options), numeric).method == "POST"

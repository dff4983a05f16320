"""Meta's webhooks: the signature on the exact bytes, the subscription challenge, and deliveries
read into comments (in the shapes the fakes deliver: sandbox/meta_comments.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from sandbox.base import FakeComment, FakePost
from sandbox.meta_comments import (
    facebook_comment_delivery,
    instagram_comment_delivery,
    sign,
    whatsapp_message_delivery,
    whatsapp_user_id,
)
from services.inbox.errors import BadSignature
from services.inbox.watched import WatchedPost, comment_key
from services.inbox.webhooks import challenge_answer, comments_of, verify_signature
from shared.channels import Channel, ChannelDirectory

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
SECRET = "app-secret"
CHANNELS = ChannelDirectory(
    channels=(
        Channel(id="fb", platform="facebook", options={"page_id": "100"}),
        Channel(id="ig", platform="instagram", options={"ig_user_id": "178"}),
        Channel(id="wa", platform="whatsapp", options={"phone_number_id": "1065"}),
    )
)
POST = FakePost(id="100_5", account="demo", text="Jembatan", created_at=NOW, url="https://fb/100_5")


def lookup(channel: Channel, post_id: str, now: datetime) -> WatchedPost:
    return WatchedPost(channel.id, channel.platform, post_id, now, content_id="c1")


def comment(cid: str, parent: str | None = None, post_id: str = "100_5") -> FakeComment:
    return FakeComment(cid, post_id, "warga1", "Kapan dibuka?", NOW, parent)


def test_the_signature_is_the_hmac_of_the_exact_bytes() -> None:
    body = orjson.dumps(facebook_comment_delivery("100", POST, comment("5_1")))
    verify_signature(body, sign(body, SECRET), SECRET)
    verify_signature(body, sign(body, SECRET).upper().replace("SHA256=", "sha256="), SECRET)
    forged = [None, "", "sha1=abc", "sha256=", sign(body, "other"), sign(body + b" ", SECRET)]
    for header in forged:
        with pytest.raises(BadSignature):
            verify_signature(body, header, SECRET)
    with pytest.raises(BadSignature):
        verify_signature(body + b" ", sign(body, SECRET), SECRET)  # a byte changed after signing
    with pytest.raises(BadSignature):
        verify_signature(body, sign(body, ""), "")  # no secret configured: nothing is believed


def test_the_subscription_challenge_is_echoed_only_for_the_verify_token() -> None:
    ok = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert challenge_answer(ok, "tok") == "1158201444"
    assert challenge_answer({**ok, "hub.verify_token": "bad"}, "tok") is None
    assert challenge_answer({**ok, "hub.mode": "unsubscribe"}, "tok") is None
    assert challenge_answer(ok, "") is None
    assert challenge_answer({**ok, "hub.challenge": "x" * 500}, "tok") is None


def test_deliveries_become_comments_with_the_same_key_as_a_poll() -> None:
    fb = comments_of(facebook_comment_delivery("100", POST, comment("5_1")), CHANNELS, lookup, NOW)
    [c] = fb.comments
    assert (c.channel, c.comment_id, c.post_id, c.parent_id, c.via) == ("fb", "5_1", "100_5", None, "webhook")
    assert c.event_id == comment_key("fb", "5_1")
    reply = comments_of(facebook_comment_delivery("100", POST, comment("5_2", "5_1")), CHANNELS, lookup, NOW)
    assert reply.comments[0].parent_id == "5_1"
    ig = comments_of(instagram_comment_delivery("178", comment("1790", post_id="M1")), CHANNELS, lookup, NOW)
    assert [(x.channel, x.post_id, x.comment_id) for x in ig.comments] == [("ig", "M1", "1790")]
    wa = whatsapp_message_delivery("1065", "628123", "Budi", "wamid.A", "Halo", int(NOW.timestamp()))
    [m] = comments_of(wa, CHANNELS, lookup, NOW).comments
    bsuid = whatsapp_user_id("628123")
    assert (m.channel, m.post_id, m.author.id, m.author.name, m.text) == (
        "wa",
        f"wa:{bsuid}",
        bsuid,
        "Budi",
        "Halo",
    )


def test_other_changes_are_ignored_and_broken_ones_are_problems() -> None:
    body = facebook_comment_delivery("100", POST, comment("5_1"))
    value = body["entry"][0]["changes"][0]["value"]
    reaction = {**value, "item": "reaction"}
    removed = {**value, "verb": "remove"}
    unknown_page = {"id": "999", "changes": [{"field": "feed", "value": value}]}
    broken = {"field": "feed", "value": {**value, "created_time": "yesterday"}}
    body["entry"][0]["changes"] += [
        {"field": "feed", "value": reaction},
        {"field": "feed", "value": removed},
        broken,
        "x",
    ]
    body["entry"] += [unknown_page, {"id": "100"}]
    parsed = comments_of(body, CHANNELS, lookup, NOW)
    assert [c.comment_id for c in parsed.comments] == ["5_1"]
    assert len(parsed.problems) == 4  # broken, "x", the unknown page, the entry without changes
    hostiles: list[object] = [None, [], {"entry": "x"}, {"object": "page"}]
    for hostile in hostiles:
        assert comments_of(hostile, CHANNELS, lookup, NOW).problems

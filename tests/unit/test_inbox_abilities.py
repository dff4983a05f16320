"""What a channel cannot do, shown instead of failing silently: the capability table's comment
rules, the inbox's reading access and the platforms the publisher replies on, per channel."""

from __future__ import annotations

from typing import Any

import pytest

from services.inbox.abilities import abilities
from services.inbox.access import readability
from shared.capabilities import CAPABILITIES
from shared.channels import Channel
from shared.comment_rules import REPLIES_BUILT


def of(platform: str, **options: str) -> dict[str, Any]:
    return abilities(Channel(id=f"{platform}-demo", platform=platform, options=options))


def test_x_on_the_free_tier_cannot_read_and_says_which_tier_it_needs() -> None:
    free = of("x")
    assert free["read"]["can"] is False
    assert free["read"]["code"] == "needs_access"
    assert "paid read tier" in free["read"]["needs"]
    assert "free tier" in free["read"]["detail"]
    paid = of("x", x_read_tier="basic")
    assert (paid["read"]["can"], paid["read"]["code"]) == (True, "ok")


def test_whatsapp_replies_only_inside_the_24_hour_window_then_templates() -> None:
    reply = of("whatsapp")["reply"]
    assert reply["window_hours"] == 24
    assert "template" in reply["after_window"]
    # The publisher answers a WhatsApp message; the platform's window rule is shown with it.
    assert (reply["can"], reply["code"]) == (True, "window")


def test_youtube_shows_what_a_reply_costs_of_the_daily_quota() -> None:
    youtube = of("youtube")
    assert youtube["quota"] == {"daily": 10_000, "read": 1, "reply": 50, "hide": 50}
    assert (youtube["hide"]["can"], youtube["delete"]["can"]) == (True, False)


@pytest.mark.parametrize(
    ("platform", "read", "reply", "hide", "delete"),
    [
        # "ok": the inbox's hide hides it on the platform too; "platform": only in its app.
        ("facebook", "ok", "ok", "ok", "platform"),
        ("instagram", "ok", "ok", "ok", "platform"),
        ("mastodon", "ok", "ok", "no_api", "no_api"),
        ("bluesky", "ok", "ok", "no_api", "no_api"),
        ("threads", "ok", "ok", "ok", "no_api"),
        ("linkedin", "ok", "ok", "no_api", "no_api"),
        ("telegram", "needs_access", "needs_access", "no_api", "platform"),
        ("tiktok", "no_api", "no_api", "no_api", "no_api"),
        ("wordpress", "no_api", "no_api", "no_api", "no_api"),
    ],
)
def test_each_platform(platform: str, read: str, reply: str, hide: str, delete: str) -> None:
    got = of(platform)
    assert (got["read"]["code"], got["reply"]["code"], got["hide"]["code"], got["delete"]["code"]) == (
        read,
        reply,
        hide,
        delete,
    )
    for ability in ("read", "reply", "hide", "delete"):
        assert got[ability]["can"] is (got[ability]["code"] in ("ok", "window", "platform"))
        assert got[ability]["detail"]


def test_telegram_replies_once_its_discussion_group_is_set() -> None:
    assert of("telegram", discussion_chat_id="-100123")["reply"]["code"] == "ok"


def test_the_table_and_the_inbox_agree() -> None:
    # The publisher replies only where the platform's API takes replies; a channel the inbox reads
    # is one whose platform has a comments API.
    for platform in REPLIES_BUILT:
        rules = CAPABILITIES[platform].comments
        assert rules is not None
        assert rules.reply, platform
    for platform, row in CAPABILITIES.items():
        mode = readability(Channel(id="c", platform=platform, options={"x_read_tier": "basic"})).mode
        if mode != "unreadable":
            assert row.comments is not None
            assert row.comments.read, platform
        if row.comments is not None:
            assert row.comments.source.startswith("inbox-analytics.md ["), platform
